import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StorageConfig } from './storage/db.ts';

/** Everything a gateway process is configured with; built from CLI flags, env and defaults. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** Where sandbox.json and the data key live; null for a purely in-memory gateway. */
  dataDir: string | null;
  storage: StorageConfig;
  /** Base URL users reach us at; defaults to http://host:port. */
  publicUrl?: string;
  adminToken?: string;
  dataKey: Buffer;
  /** Delays between notification attempts (Alipay: 4m,10m,10m,1h,2h,6h,15h). */
  notifySchedule: number[];
  /** How long notify_verify answers true for a notify_id. */
  notifyVerifyTtlMs: number;
  /** How long a page flow (MAPI login + consent) may take before SESSION_TIMEOUT. */
  loginTtlMs: number;
  /** Accepted clock difference for OpenAPI `timestamp`. */
  timestampToleranceMs: number;
  requestLogRetention: number;
  logLevel: string;
  seedFile?: string;
  /** A request (headers and body) must arrive within this; an idle connection is closed after it. */
  requestTimeoutMs: number;
  /** How long an ISV's notify_url may take to answer one attempt. */
  notifyTimeoutMs: number;
  /** Gateway calls per second per app (OpenAPI) and per partner (MAPI), per process; 0: no limit. */
  rateLimit: number;
  /** HTTPS: PEM files, or a certificate generated for local use. Plain HTTP when absent. */
  tls?: TlsSource;
}

export type TlsSource = { kind: 'files'; certFile: string; keyFile: string } | { kind: 'self-signed' };

/**
 * Largest request body accepted (1 MiB); Alipay's own limit is unpublished, forms here are
 * small. A larger body sent to the gateway gets the protocol's answer (40002 / ILLEGAL_ARGUMENT).
 */
export const BODY_LIMIT = 1024 * 1024;

export const ALIPAY_NOTIFY_SCHEDULE = '4m,10m,10m,1h,2h,6h,15h';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1s,2s,5m" → [1000, 2000, 300000]; a clear error for anything else. */
export function parseDurations(list: string): number[] {
  return list.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(part);
    if (!m) throw new Error(`invalid duration "${part}" (use e.g. 500ms, 4s, 10m, 1h)`);
    return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
  });
}

/** GATEWAYDO_DATA_KEY (32 bytes, base64 or hex), else `<dataDir>/data.key`, created once. */
export function loadDataKey(dataDir: string | null, env = process.env.GATEWAYDO_DATA_KEY): Buffer {
  if (env) {
    const key = /^[0-9a-fA-F]{64}$/.test(env) ? Buffer.from(env, 'hex') : Buffer.from(env, 'base64');
    if (key.length !== 32) throw new Error('GATEWAYDO_DATA_KEY must encode exactly 32 bytes (64 hex chars or base64)');
    return key;
  }
  if (!dataDir) return randomBytes(32);
  const file = join(dataDir, 'data.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // wx: never overwrite a key another process wrote first.
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
}

export interface ConfigInput {
  host?: string;
  port?: number | string;
  dataDir?: string | null;
  databaseUrl?: string;
  memory?: boolean;
  publicUrl?: string;
  adminToken?: string;
  notifySchedule?: string | number[];
  notifyVerifyTtl?: string;
  loginTtl?: string;
  timestampTolerance?: string;
  requestLogRetention?: number | string;
  logLevel?: string;
  seedFile?: string;
  requestTimeout?: string;
  notifyTimeout?: string;
  rateLimit?: number | string;
  /** `self-signed`, or omitted with tlsCert + tlsKey. */
  tls?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Generous by default: a limit that tests and benchmarks on one machine never reach. */
export const DEFAULT_RATE_LIMIT = 10_000;

function resolveRateLimit(value: number | string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`invalid rate limit: ${value} (calls per second per app or partner; 0 for none)`);
  return n;
}

function resolveTls(input: ConfigInput, env: NodeJS.ProcessEnv): TlsSource | undefined {
  const mode = input.tls ?? env.GATEWAYDO_TLS;
  const certFile = input.tlsCert ?? env.GATEWAYDO_TLS_CERT;
  const keyFile = input.tlsKey ?? env.GATEWAYDO_TLS_KEY;
  if (mode !== undefined && mode !== 'self-signed') throw new Error(`invalid --tls ${mode} (the only mode is self-signed; or give --tls-cert and --tls-key)`);
  if (mode && (certFile || keyFile)) throw new Error('give --tls self-signed or --tls-cert/--tls-key, not both');
  if (mode) return { kind: 'self-signed' };
  if (!certFile !== !keyFile) throw new Error('--tls-cert and --tls-key go together');
  return certFile && keyFile ? { kind: 'files', certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined;
}

export function resolveConfig(input: ConfigInput = {}, env = process.env): GatewayConfig {
  const memory = input.memory ?? false;
  const dataDir = memory ? null : resolve(input.dataDir ?? env.GATEWAYDO_DATA_DIR ?? '.gatewaydo');
  const databaseUrl = input.databaseUrl ?? (memory ? undefined : env.DATABASE_URL);
  const storage: StorageConfig = databaseUrl
    ? { kind: 'postgres', url: databaseUrl }
    : dataDir
      ? { kind: 'sqlite', file: join(dataDir, 'gatewaydo.sqlite') }
      : { kind: 'memory' };
  const port = Number(input.port ?? env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${input.port ?? env.PORT}`);
  const retention = Number(input.requestLogRetention ?? env.GATEWAYDO_REQUEST_LOG_RETENTION ?? 10000);
  if (!Number.isInteger(retention) || retention < 1) {
    throw new Error(`invalid request-log retention: ${input.requestLogRetention ?? env.GATEWAYDO_REQUEST_LOG_RETENTION} (a whole number of rows ≥ 1)`);
  }
  const schedule = input.notifySchedule ?? env.GATEWAYDO_NOTIFY_SCHEDULE ?? ALIPAY_NOTIFY_SCHEDULE;
  return {
    host: input.host ?? env.HOST ?? '127.0.0.1',
    port,
    dataDir,
    storage,
    publicUrl: input.publicUrl ?? env.GATEWAYDO_PUBLIC_URL,
    adminToken: input.adminToken ?? env.GATEWAYDO_ADMIN_TOKEN,
    dataKey: loadDataKey(dataDir, env.GATEWAYDO_DATA_KEY),
    notifySchedule: Array.isArray(schedule) ? schedule : parseDurations(schedule),
    notifyVerifyTtlMs: parseDurations(input.notifyVerifyTtl ?? env.GATEWAYDO_NOTIFY_VERIFY_TTL ?? '24h')[0],
    loginTtlMs: parseDurations(input.loginTtl ?? env.GATEWAYDO_LOGIN_TTL ?? '30m')[0],
    timestampToleranceMs: parseDurations(input.timestampTolerance ?? env.GATEWAYDO_TIMESTAMP_TOLERANCE ?? '30m')[0],
    requestLogRetention: retention,
    logLevel: input.logLevel ?? env.LOG_LEVEL ?? 'info',
    seedFile: input.seedFile ?? env.GATEWAYDO_SEED,
    requestTimeoutMs: parseDurations(input.requestTimeout ?? env.GATEWAYDO_REQUEST_TIMEOUT ?? '30s')[0],
    notifyTimeoutMs: parseDurations(input.notifyTimeout ?? env.GATEWAYDO_NOTIFY_TIMEOUT ?? '15s')[0],
    rateLimit: resolveRateLimit(input.rateLimit ?? env.GATEWAYDO_RATE_LIMIT ?? DEFAULT_RATE_LIMIT),
    tls: resolveTls(input, env),
  };
}
