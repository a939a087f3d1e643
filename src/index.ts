import pino from 'pino';
import { resolveConfig } from './config.ts';
import { startServer } from './server.ts';
import { resetSandbox, sandboxView, type SandboxView } from './sandbox/seed.ts';
import type { SandboxSpec } from './sandbox/spec.ts';
import { createAdminClient, type AdminClient } from './admin/client.ts';
import { loadSeedFile, seedSpec, SeedError, type SeedInput } from './sandbox/seed-file.ts';
import { exportGatewayState, readStateFile, StateError, type StateFile } from './storage/export.ts';

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
  /**
   * 'memory' (default): nothing on disk; or a data dir (SQLite); or a PostgreSQL URL, with
   * a data dir for the data key (default ./.gatewaydo, or GATEWAYDO_DATA_KEY).
   */
  storage?: 'memory' | { dataDir: string } | { databaseUrl: string; dataDir?: string };
  /**
   * Where the state starts from: a seed file (YAML or JSON path), a spec (`seedSpec({...})`
   * for one written inline); the state is replaced by it. Default: a generated sandbox,
   * or the one already in the data dir / database.
   */
  seed?: string | SandboxSpec;
  /** A state file written by `gatewaydo export` (or `gw.exportState()`) to start from instead. */
  importState?: string | StateFile;
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
  /** Back to the seeded state (the same ids and keys), in one transaction. */
  reset(): Promise<SandboxView>;
  /** The whole state, as `gatewaydo export` writes it. */
  exportState(): Promise<StateFile>;
  /** Stops the server, its background work and the storage; nothing keeps the process alive. */
  close(): Promise<void>;
}

export async function startGateway(options: StartGatewayOptions = {}): Promise<Gateway> {
  const storage = options.storage ?? 'memory';
  if (options.seed !== undefined && options.importState !== undefined) throw new Error('startGateway: give seed or importState, not both');
  const seed = typeof options.seed === 'string' ? await loadSeedFile(options.seed) : options.seed;
  const state = typeof options.importState === 'string' ? await readStateFile(options.importState) : options.importState;
  const config = resolveConfig(
    {
      port: options.port ?? 0,
      host: options.host,
      memory: storage === 'memory',
      dataDir: typeof storage === 'object' ? storage.dataDir : undefined,
      databaseUrl: typeof storage === 'object' && 'databaseUrl' in storage ? storage.databaseUrl : undefined,
      notifySchedule: options.notifySchedule,
      adminToken: options.adminToken,
      logLevel: options.logLevel ?? 'warn',
    },
    // The host process's own settings must not leak into an embedded gateway.
    { ...process.env, DATABASE_URL: undefined, PORT: undefined, GATEWAYDO_DATA_DIR: undefined },
  );
  const gw = await startServer(config, { seed, state, logger: pino({ level: config.logLevel }) });
  const admin = createAdminClient(gw.url, gw.sandbox.admin_token);
  return {
    url: gw.url,
    gatewayUrl: `${gw.url}/gateway.do`,
    sandbox: gw.sandbox,
    admin,
    async reset() {
      return sandboxView(gw.ctx, await resetSandbox(gw.ctx));
    },
    exportState: () => exportGatewayState(gw.ctx),
    close: () => gw.close(),
  };
}

export { seedSpec, SeedError, StateError };
export type { AdminClient, SandboxSpec, SandboxView, SeedInput, StateFile };
