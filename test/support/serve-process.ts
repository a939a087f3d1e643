import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { BIN, ROOT } from './cli.ts';
import { createAdminClient } from '../../src/admin/client.ts';

/**
 * A `gatewaydo serve` process of its own (port 0), for tests that need several processes
 * on one database, or one they can kill -9. Resolves once it prints its gateway URL.
 */
export interface ServeProcess {
  url: string;
  gatewayUrl: string;
  child: ChildProcess;
  admin: ReturnType<typeof createAdminClient>['request'];
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown hooks, no flushing — a crash. */
  crash(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
}

/** `env` adds to this process's environment; an undefined value removes the variable (e.g. DATABASE_URL). */
export async function spawnServe(env: Record<string, string | undefined>, adminToken: string, args: string[] = []): Promise<ServeProcess> {
  const merged = Object.entries({ ...process.env, LOG_LEVEL: 'warn', GATEWAYDO_ADMIN_TOKEN: adminToken, ...env }).filter(([, v]) => v !== undefined);
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: Object.fromEntries(merged),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatewaydo serve did not start within 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /gateway\s+(https?:\/\/\S+)\/gateway\.do/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(m[1]);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatewaydo serve exited (${code}) before it was up:\n${out}`));
    });
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    url,
    gatewayUrl: `${url}/gateway.do`,
    child,
    admin: createAdminClient(url, adminToken).request,
    output: () => out,
    async crash() {
      if (exited()) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
    async stop() {
      if (exited()) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
