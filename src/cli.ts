import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { resolveConfig, type ConfigInput, type GatewayConfig } from './config.ts';
import { startServer, type RunningGateway } from './server.ts';
import { sandboxSummary } from './summary.ts';
import { PiiVault } from './domain/pii.ts';
import { openStorage } from './storage/db.ts';
import { exportGatewayState, exportState, importState, readStateFile, StateError, stateText, writeStateFile, type StateFile } from './storage/export.ts';
import { loadSeedFile, SeedError } from './sandbox/seed-file.ts';
import { runCommand, sandboxEnv } from './exec.ts';

/** `gatewaydo serve | exec | export | import`: flags win over environment variables, which win over defaults. */
const program = new Command('gatewaydo')
  .description('Self-hostable, wire-compatible Alipay open-platform gateway for local development and CI')
  .enablePositionalOptions();

/** A refusal the user can act on: printed as one message, exit code 2, no stack trace. */
class UsageError extends Error {}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

interface StorageOptions {
  dataDir?: string;
  databaseUrl?: string;
}

interface ServeOptions extends StorageOptions {
  port?: number;
  host?: string;
  publicUrl?: string;
  notifySchedule?: string;
  seed?: string;
  import?: string;
  exportOnExit?: string;
  tls?: string;
  tlsCert?: string;
  tlsKey?: string;
}

function withStorageOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (env GATEWAYDO_DATA_DIR, default ./.gatewaydo)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL)');
}

function withServeOptions(cmd: Command, portDefault: string): Command {
  return withStorageOptions(cmd)
    .option('--port <port>', `HTTP port (${portDefault})`, port)
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
    .option('--public-url <url>', 'base URL clients reach this server at (env GATEWAYDO_PUBLIC_URL)')
    .option('--notify-schedule <list>', 'delays between notification attempts, e.g. 1s,2s,5s (env GATEWAYDO_NOTIFY_SCHEDULE)')
    .option('--seed <file>', 'start from this seed file, YAML or JSON (env GATEWAYDO_SEED); replaces the state')
    .option('--import <file>', 'start from this state file (written by `gatewaydo export`); replaces the state')
    .option('--export-on-exit <file>', 'write the whole state to this file when stopping')
    .option('--tls-cert <pem>', 'serve HTTPS with this certificate (PEM; env GATEWAYDO_TLS_CERT), with --tls-key')
    .option('--tls-key <pem>', 'the private key of --tls-cert (PEM; env GATEWAYDO_TLS_KEY)')
    .option('--tls <mode>', 'self-signed: serve HTTPS with a certificate generated for localhost, kept in the data dir (env GATEWAYDO_TLS)');
}

function configFrom(opts: ServeOptions, extra: ConfigInput = {}, env = process.env): GatewayConfig {
  try {
    return resolveConfig({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      databaseUrl: opts.databaseUrl,
      publicUrl: opts.publicUrl,
      notifySchedule: opts.notifySchedule,
      seedFile: opts.seed,
      tls: opts.tls,
      tlsCert: opts.tlsCert,
      tlsKey: opts.tlsKey,
      ...extra,
    }, env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function describeStorage(config: GatewayConfig): string {
  const s = config.storage;
  return s.kind === 'postgres' ? 'PostgreSQL' : s.kind === 'sqlite' ? s.file : 'memory';
}

/** Starts a gateway from serve/exec options: seed or imported state, if any, first. */
async function startFrom(opts: ServeOptions, config: GatewayConfig): Promise<RunningGateway> {
  if (config.seedFile && opts.import) throw new UsageError('give --seed or --import, not both');
  const seed = config.seedFile ? await loadSeedFile(config.seedFile) : undefined;
  const state = opts.import ? await readStateFile(opts.import) : undefined;
  try {
    return await startServer(config, { seed, state });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e instanceof StateError) throw e;
    throw new Error(`could not start: ${e.code === 'EADDRINUSE' ? `port ${config.port} is in use (try --port)` : e.message}`);
  }
}

async function exportOnExit(gateway: RunningGateway, file: string | undefined): Promise<void> {
  if (!file) return;
  await writeStateFile(file, await exportGatewayState(gateway.ctx));
  process.stderr.write(`gatewaydo: state exported to ${file}\n`);
}

/** Runs a command's action; refusals print one line and exit 2, failures exit 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      const refused = err instanceof UsageError || err instanceof SeedError || err instanceof StateError;
      // Seed problems are already `file:line: …` lines, one per problem.
      process.stderr.write(err instanceof SeedError ? `${err.message}\n` : `gatewaydo: ${(err as Error).message}\n`);
      process.exit(refused ? 2 : 1);
    }
  };
}

withServeOptions(program.command('serve'), 'env PORT, default 8080')
  .description('run the gateway (embedded database by default, PostgreSQL with DATABASE_URL)')
  .action(action(async (opts: ServeOptions) => {
    const config = configFrom(opts);
    const gateway = await startFrom(opts, config);
    if (!config.tls && config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1') {
      gateway.ctx.logger.warn('serving plain HTTP on a non-loopback address; put TLS in front of it');
    }
    let closing = false;
    const shutdown = () => {
      if (closing) return;
      closing = true;
      exportOnExit(gateway, opts.exportOnExit)
        .catch((err: Error) => {
          process.stderr.write(`gatewaydo: export failed: ${err.message}\n`);
          process.exitCode = 1;
        })
        .then(() => gateway.close())
        .then(() => process.exit(), () => process.exit(1));
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
    // Only now: whoever waits for this summary may signal us at once.
    const seeded = gateway.createdSandbox || Boolean(config.seedFile);
    process.stdout.write(sandboxSummary(gateway.sandbox, config.dataDir ? join(config.dataDir, 'sandbox.json') : undefined, seeded) + '\n');
  }));

withServeOptions(program.command('exec'), 'default 0: a free one')
  .description('start a gateway (in memory unless --data-dir or --database-url), run <command> with GATEWAYDO_URL and the sandbox credentials in its environment, stop, and exit with its code')
  .argument('<command...>', 'the command and its arguments (one argument: run through the shell)')
  .passThroughOptions()
  .action(action(async (command: string[], opts: ServeOptions) => {
    // Only flags choose storage: a DATABASE_URL meant for the command must not become ours.
    const memory = !opts.dataDir && !opts.databaseUrl;
    const config = configFrom(opts, { memory, port: opts.port ?? 0, logLevel: process.env.LOG_LEVEL ?? 'warn' }, { ...process.env, DATABASE_URL: undefined });
    const gateway = await startFrom(opts, config);
    process.stderr.write(`gatewaydo: gateway at ${gateway.sandbox.gateway} (storage: ${describeStorage(config)})\n`);
    const code = await runCommand(command, sandboxEnv(gateway.url, gateway.sandbox));
    try {
      await exportOnExit(gateway, opts.exportOnExit);
    } finally {
      await gateway.close();
    }
    process.exit(code);
  }));

/** Opens the storage the flags name, without a server; for export and import. */
async function withStorage<T>(opts: StorageOptions, fn: (storage: Awaited<ReturnType<typeof openStorage>>, vault: PiiVault, config: GatewayConfig) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  const storage = await openStorage(config.storage);
  try {
    return await fn(storage, new PiiVault(config.dataKey), config);
  } finally {
    await storage.close();
  }
}

withStorageOptions(program.command('export'))
  .description('write the whole state (every table, the sandbox) as JSON to standard output; it holds personal data and private keys in clear')
  .option('-o, --output <file>', 'write to this file (owner-only) instead')
  .action(action(async (opts: StorageOptions & { output?: string }) => {
    const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
    // Same default as config.ts; checked first so a mistyped directory is not created empty.
    const dataDir = resolve(opts.dataDir ?? process.env.GATEWAYDO_DATA_DIR ?? '.gatewaydo');
    if (!databaseUrl && !existsSync(join(dataDir, 'gatewaydo.sqlite'))) throw new UsageError(`no gatewaydo database in ${dataDir} (use --data-dir or --database-url)`);
    const state: StateFile = await withStorage(opts, (storage, vault) => exportState(storage, vault));
    if (opts.output) await writeStateFile(opts.output, state);
    else process.stdout.write(stateText(state));
  }));

withStorageOptions(program.command('import'))
  .description('replace the whole state with a file written by `gatewaydo export` (one transaction); stop gateways on this database first')
  .argument('<file>', 'the state file (- for standard input)')
  .action(action(async (file: string, opts: StorageOptions) => {
    const state = await readStateFile(file);
    const { rows, where } = await withStorage(opts, async (storage, vault, config) => ({ ...(await importState(storage, vault, state)), where: describeStorage(config) }));
    process.stderr.write(`gatewaydo: imported ${rows} rows into ${where}\n`);
  }));

await program.parseAsync(process.argv);
