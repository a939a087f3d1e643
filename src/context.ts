import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import type { Db, Storage } from './storage/db.ts';
import type { PiiVault } from './domain/pii.ts';

/** What every part of a running gateway shares: configuration, database, PII vault, logger. */
export interface GatewayContext {
  config: GatewayConfig;
  storage: Storage;
  db: Db;
  vault: PiiVault;
  logger: Logger;
  /** Base URL (no trailing slash) as users reach this server. */
  baseUrl(): string;
}
