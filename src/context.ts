import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import type { Db, Storage } from './storage/db.ts';
import type { PiiVault } from './domain/pii.ts';
import type { RequestLogWriter } from './storage/request-log-writer.ts';

/** What every part of a running gateway shares: configuration, database, PII vault, logger. */
export interface GatewayContext {
  config: GatewayConfig;
  storage: Storage;
  db: Db;
  vault: PiiVault;
  logger: Logger;
  /** The gateway's request log, written in batches; flush() before reading it. */
  requestLog: RequestLogWriter;
  /** Base URL (no trailing slash) as users reach this server. */
  baseUrl(): string;
}
