import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino, { type DestinationStream } from 'pino';
import { resolveConfig, type ConfigInput } from '../../src/config.ts';
import { startServer, type RunningGateway } from '../../src/server.ts';
import type { SandboxSpec } from '../../src/sandbox/spec.ts';
import { createAdminClient } from '../../src/admin/client.ts';

/**
 * A real gateway on a free loopback port for a test file: SQLite in a temp dir, or — when
 * DATABASE_URL is set (CI's second pass) — PostgreSQL in a fresh schema of that database.
 */
export interface TestGateway extends RunningGateway {
  gatewayUrl: string;
  adminToken: string;
  /** Admin API call with the token; returns status and parsed JSON. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** The storage settings, so a second process can be started on the same database. */
  storageEnv: Record<string, string>;
}

export async function freshDatabaseUrl(base: string): Promise<string> {
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** `logStream`: where the gateway's log lines go (a test that inspects them); stdout otherwise. */
/**
 * Drops the schema a freshDatabaseUrl() made. Not done on every close: Kysely's migrator
 * introspects all schemas, so a drop racing another gateway's start can fail that start.
 * CI drops its whole database at the end instead.
 */
export async function dropDatabaseSchema(url: string): Promise<void> {
  const schema = /search_path=(t_[a-z0-9_]+)/.exec(decodeURIComponent(new URL(url).searchParams.get('options') ?? ''))?.[1];
  if (!schema) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

/** A log destination that collects the gateway's log lines into `lines`, for leak checks. */
export function collectLines(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
}

export async function startTestGateway(input: ConfigInput & { seed?: SandboxSpec; logStream?: DestinationStream } = {}): Promise<TestGateway> {
  const { logStream, ...configInput } = input;
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewaydo-test-'));
  const databaseUrl = input.databaseUrl ?? (process.env.DATABASE_URL ? await freshDatabaseUrl(process.env.DATABASE_URL) : undefined);
  const config = resolveConfig({ port: 0, dataDir, databaseUrl, logLevel: process.env.TEST_LOG_LEVEL ?? 'warn', ...configInput }, {
    ...process.env,
    DATABASE_URL: undefined,
    GATEWAYDO_DATA_KEY: undefined,
    GATEWAYDO_ADMIN_TOKEN: undefined,
  });
  const gw = await startServer(config, { seed: input.seed, logger: pino({ level: config.logLevel }, logStream) });
  const adminToken = gw.sandbox.admin_token;
  const url = gw.url;
  const admin = createAdminClient(url, adminToken);
  return {
    ...gw,
    gatewayUrl: `${url}/gateway.do`,
    adminToken,
    storageEnv: {
      GATEWAYDO_DATA_DIR: config.dataDir ?? dataDir,
      GATEWAYDO_DATA_KEY: config.dataKey.toString('base64'),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    admin: admin.request,
    async close() {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
