import pino from 'pino';
import { resolveConfig } from './config.ts';
import { startServer } from './server.ts';
import { resetSandbox, sandboxView, type SandboxView } from './sandbox/seed.ts';
import type { SandboxSpec } from './sandbox/spec.ts';
import { createAdminClient, type AdminClient } from './admin/client.ts';

/**
 * The programmatic API for test suites: an in-process gateway on a free port.
 *
 *   const gw = await startGateway();            // in-memory, port 0
 *   … point the SDK at gw.gatewayUrl with gw.sandbox.app keys …
 *   await gw.reset();                           // back to the seeded state
 *   await gw.close();                           // releases everything
 */
export interface StartGatewayOptions {
  port?: number;
  host?: string;
  /** 'memory' (default): nothing on disk; or a data dir (SQLite); or a PostgreSQL URL. */
  storage?: 'memory' | { dataDir: string } | { databaseUrl: string };
  /** A sandbox spec to start from (fixed ids and keys) instead of a generated one. */
  seed?: SandboxSpec;
  /** Delays between notification attempts, e.g. '100ms,200ms' or [100, 200]. */
  notifySchedule?: string | number[];
  adminToken?: string;
  logLevel?: string;
}

export interface Gateway {
  url: string;
  gatewayUrl: string;
  sandbox: SandboxView;
  admin: AdminClient;
  reset(): Promise<SandboxView>;
  close(): Promise<void>;
}

export async function startGateway(options: StartGatewayOptions = {}): Promise<Gateway> {
  const storage = options.storage ?? 'memory';
  const config = resolveConfig(
    {
      port: options.port ?? 0,
      host: options.host,
      memory: storage === 'memory',
      dataDir: typeof storage === 'object' && 'dataDir' in storage ? storage.dataDir : undefined,
      databaseUrl: typeof storage === 'object' && 'databaseUrl' in storage ? storage.databaseUrl : undefined,
      notifySchedule: options.notifySchedule,
      adminToken: options.adminToken,
      logLevel: options.logLevel ?? 'warn',
    },
    // The host process's own settings must not leak into an embedded gateway.
    { ...process.env, DATABASE_URL: undefined, PORT: undefined, GATEWAYDO_DATA_DIR: undefined },
  );
  const gw = await startServer(config, { seed: options.seed, logger: pino({ level: config.logLevel }) });
  const admin = createAdminClient(gw.url, gw.sandbox.admin_token);
  return {
    url: gw.url,
    gatewayUrl: `${gw.url}/gateway.do`,
    sandbox: gw.sandbox,
    admin,
    async reset() {
      return sandboxView(gw.ctx, await resetSandbox(gw.ctx));
    },
    close: () => gw.close(),
  };
}

export type { AdminClient, SandboxSpec, SandboxView };
