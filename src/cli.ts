import { Command, InvalidArgumentError } from 'commander';
import { resolveConfig } from './config.ts';
import { startServer } from './server.ts';
import { sandboxSummary } from './summary.ts';
import { join } from 'node:path';

/** `gatewaydo serve | …`: flags win over environment variables, which win over defaults. */
const program = new Command('gatewaydo').description('Self-hostable, wire-compatible Alipay open-platform gateway for local development and CI');

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

program
  .command('serve')
  .description('run the gateway (embedded database by default, PostgreSQL with DATABASE_URL)')
  .option('--port <port>', 'HTTP port (env PORT, default 8080)', port)
  .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
  .option('--data-dir <dir>', 'data directory (env GATEWAYDO_DATA_DIR, default ./.gatewaydo)')
  .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL)')
  .option('--public-url <url>', 'base URL clients reach this server at (env GATEWAYDO_PUBLIC_URL)')
  .option('--notify-schedule <list>', 'delays between notification attempts, e.g. 1s,2s,5s (env GATEWAYDO_NOTIFY_SCHEDULE)')
  .action(async (opts) => {
    let config;
    try {
      config = resolveConfig({
        port: opts.port,
        host: opts.host,
        dataDir: opts.dataDir,
        databaseUrl: opts.databaseUrl,
        publicUrl: opts.publicUrl,
        notifySchedule: opts.notifySchedule,
      });
    } catch (err) {
      console.error(`gatewaydo: ${(err as Error).message}`);
      process.exit(2);
    }
    const gateway = await startServer(config).catch((err: Error & { code?: string }) => {
      console.error(`gatewaydo: could not start: ${err.code === 'EADDRINUSE' ? `port ${config.port} is in use (try --port)` : err.message}`);
      process.exit(1);
    });
    if (config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1') {
      gateway.ctx.logger.warn('serving plain HTTP on a non-loopback address; put TLS in front of it');
    }
    process.stdout.write(sandboxSummary(gateway.sandbox, config.dataDir ? join(config.dataDir, 'sandbox.json') : undefined, gateway.createdSandbox) + '\n');
    let closing = false;
    const shutdown = () => {
      if (closing) return;
      closing = true;
      gateway.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });

await program.parseAsync(process.argv);
