import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { SandboxView } from './sandbox/seed.ts';

/**
 * `gatewaydo exec -- <command…>`: the command runs with the gateway's address and the
 * sandbox credentials in its environment, and its exit code becomes ours.
 */
export function sandboxEnv(url: string, view: SandboxView): Record<string, string> {
  const env: Record<string, string | null | undefined> = {
    GATEWAYDO_URL: url,
    GATEWAYDO_GATEWAY_URL: view.gateway,
    GATEWAYDO_ADMIN_TOKEN: view.admin_token,
    GATEWAYDO_APP_ID: view.app?.app_id,
    GATEWAYDO_APP_SIGN_TYPE: view.app?.sign_type,
    GATEWAYDO_APP_PRIVATE_KEY: view.app?.app_private_key,
    GATEWAYDO_ALIPAY_PUBLIC_KEY: view.app?.alipay_public_key,
    GATEWAYDO_PARTNER: view.partner?.partner,
    GATEWAYDO_PARTNER_MD5_KEY: view.partner?.md5_key,
    GATEWAYDO_PARTNER_RSA_PRIVATE_KEY: view.partner?.rsa_private_key,
    GATEWAYDO_PARTNER_DSA_PRIVATE_KEY: view.partner?.dsa_private_key,
    GATEWAYDO_ALIPAY_RSA_PUBLIC_KEY: view.partner?.alipay_rsa_public_key,
    GATEWAYDO_ALIPAY_DSA_PUBLIC_KEY: view.partner?.alipay_dsa_public_key,
    // Everything else (members, Koubei operators, every key) as one JSON document.
    GATEWAYDO_SANDBOX: JSON.stringify(view),
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * Runs the command (one argument: through the shell, as `exec "npm test && …"`; several:
 * as is) with the extra environment; resolves with its exit code, 128+n if a signal
 * ended it, 127 if it could not be started. SIGINT and SIGTERM are passed on to it.
 */
export function runCommand(command: string[], extraEnv: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, ...extraEnv }, shell: command.length === 1 });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = (code: number) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`gatewaydo: cannot run ${command[0]}: ${err.message}\n`);
      done(127);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
