import { readFile, writeFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { sql, type Insertable, type Selectable } from 'kysely';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import type { PiiVault } from '../domain/pii.ts';
import { SPEC_KEY } from '../sandbox/seed.ts';
import type { Db, Storage } from './db.ts';
import type { Database } from './schema.ts';

/**
 * The whole state as one JSON document (`gatewaydo export` / `import`, `--export-on-exit`),
 * the same on SQLite and PostgreSQL, and portable between installations:
 *
 *   { "format": "gatewaydo-state", "version": 1, "schema": "<latest migration>",
 *     "exported_at": "<ISO time>", "tables": { "<table>": [ { <column>: <value> } ] } }
 *
 * Rows are the stored columns (times epoch ms, flags 0/1, lists JSON text), sorted by key,
 * except what the data key seals, which travels in clear and is sealed again on import
 * with the importing installation's key: members carry `name`, `cert_no`, `mobile` instead
 * of `*_enc` and `identity_hash`; sms carries `mobile` instead of `mobile_enc`; a sealed
 * meta row carries its clear `value` and `"sealed": true`. The file therefore holds
 * personal data and private keys in clear: treat it like the database itself.
 */
export const STATE_FORMAT = 'gatewaydo-state';
export const STATE_VERSION = 1;

export interface StateFile {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  schema: string;
  exported_at: string;
  tables: { [T in keyof Database]: Array<Record<string, unknown>> };
}

/** An export or import that was refused (wrong data key, wrong format or version, a bad row); nothing was changed. */
export class StateError extends Error {}

type Row = Record<string, unknown>;

interface TableCodec<T extends keyof Database> {
  /** Sort key, so two exports of the same state are the same text. */
  key: keyof Database[T] & string;
  /** An auto-assigned `id`, whose PostgreSQL sequence must move past imported ids. */
  serial?: boolean;
  /** Stored row → file row (unseal). */
  out?(row: Selectable<Database[T]>, vault: PiiVault): Row;
  /** File row → stored row (seal with this installation's key). */
  in?(row: Row, vault: PiiVault, at: string): Insertable<Database[T]>;
}

/** Sealed meta rows: the sandbox spec (it holds the members' identities). */
const SEALED_META = new Set([SPEC_KEY]);

function clearText(row: Row, column: string, at: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new StateError(`${at}.${column}: must be a string`);
  return v;
}

/** Every table of the schema (the mapped type makes a new table a compile error here until it is listed). */
const TABLES: { [T in keyof Database]: TableCodec<T> } = {
  meta: {
    key: 'key',
    out: (row, vault) => (SEALED_META.has(row.key) ? { key: row.key, value: vault.decrypt(row.value), sealed: true } : row),
    in: (row, vault, at) => {
      const { sealed, ...rest } = row;
      const value = clearText(row, 'value', at);
      return { key: clearText(rest, 'key', at), value: sealed === true ? vault.encrypt(value) : value };
    },
  },
  members: {
    key: 'user_id',
    out: ({ name_enc, cert_no_enc, mobile_enc, identity_hash: _hash, ...row }, vault) => ({
      ...row,
      name: vault.decrypt(name_enc),
      cert_no: vault.decrypt(cert_no_enc),
      mobile: vault.decrypt(mobile_enc),
    }),
    in: (row, vault, at) => {
      const { name: _n, cert_no: _c, mobile: _m, ...rest } = row;
      const [name, certNo, mobile] = [clearText(row, 'name', at), clearText(row, 'cert_no', at), clearText(row, 'mobile', at)];
      return {
        ...(rest as Omit<Insertable<Database['members']>, 'name_enc' | 'cert_no_enc' | 'mobile_enc' | 'identity_hash'>),
        name_enc: vault.encrypt(name),
        cert_no_enc: vault.encrypt(certNo),
        mobile_enc: vault.encrypt(mobile),
        identity_hash: vault.identityHash(name, certNo, mobile),
      };
    },
  },
  partners: { key: 'partner' },
  apps: { key: 'app_id' },
  merchants: { key: 'merchant_id' },
  operators: { key: 'operator_id' },
  auth_codes: { key: 'code' },
  bind_requests: { key: 'id' },
  bindings: { key: 'id', serial: true },
  zhima_auths: { key: 'id', serial: true },
  tokens: { key: 'access_token' },
  notifications: { key: 'id', serial: true },
  notify_attempts: { key: 'id', serial: true },
  sms: {
    key: 'id',
    serial: true,
    out: ({ mobile_enc, ...row }, vault) => ({ ...row, mobile: vault.decrypt(mobile_enc) }),
    in: (row, vault, at) => {
      const { mobile: _m, ...rest } = row;
      return { ...(rest as Omit<Insertable<Database['sms']>, 'mobile_enc'>), mobile_enc: vault.encrypt(clearText(row, 'mobile', at)) };
    },
  },
  request_log: { key: 'id', serial: true },
  faults: { key: 'id', serial: true },
  sessions: { key: 'id' },
};

const TABLE_NAMES = Object.keys(TABLES) as Array<keyof Database>;

/** Rows per INSERT: far below SQLite's and PostgreSQL's bound-parameter limits. */
const BATCH = 200;

/** The schema a database is at: its latest applied migration. */
async function schemaVersion(db: Db): Promise<string> {
  const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.rows.at(-1)?.name ?? '';
}

function byKey(key: string) {
  return (a: Row, b: Row) => {
    const [x, y] = [a[key], b[key]];
    // Numbers numerically, text by code unit: the same order whatever the database collation.
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
  };
}

async function readTable<T extends keyof Database>(db: Db, vault: PiiVault, table: T): Promise<Row[]> {
  const codec = TABLES[table] as TableCodec<T>;
  const rows = (await db.selectFrom(table).selectAll().execute()) as Array<Selectable<Database[T]>>;
  try {
    return rows.map((r) => (codec.out ? codec.out(r, vault) : (r as Row))).sort(byKey(codec.key));
  } catch {
    throw new StateError(`${table}: cannot unseal personal data: this is not the data key it was sealed with (GATEWAYDO_DATA_KEY or <data dir>/data.key)`);
  }
}

/** A consistent snapshot of every table, sealed values in clear. */
export async function exportState(storage: Storage, vault: PiiVault): Promise<StateFile> {
  const begin = storage.engine === 'postgres' ? storage.db.transaction().setIsolationLevel('repeatable read') : storage.db.transaction();
  return begin.execute(async (trx) => {
    const tables = {} as StateFile['tables'];
    for (const table of TABLE_NAMES) tables[table] = await readTable(trx, vault, table);
    return { format: STATE_FORMAT, version: STATE_VERSION, schema: await schemaVersion(trx), exported_at: new Date().toISOString(), tables };
  });
}

/** A running gateway's state: request-log rows still buffered in this process are written first. */
export async function exportGatewayState(ctx: GatewayContext): Promise<StateFile> {
  await ctx.requestLog.flush();
  return exportState(ctx.storage, ctx.vault);
}

const envelopeSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION, { error: `unsupported state file version (this gatewaydo reads version ${STATE_VERSION})` }),
  schema: z.string(),
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()), { error: 'must be a list of rows' })),
});

/** Checks a parsed state file's envelope; the rows are checked as they are written. */
export function parseStateFile(data: unknown): StateFile {
  if ((data as { format?: unknown } | null)?.format !== STATE_FORMAT) throw new StateError(`not a gatewaydo state file (format must be "${STATE_FORMAT}")`);
  const result = envelopeSchema.safeParse(data);
  if (!result.success) {
    throw new StateError(result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  }
  const unknown = Object.keys(result.data.tables).filter((t) => !(t in TABLES));
  if (unknown.length > 0) throw new StateError(`unknown table${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  return result.data as StateFile;
}

/** Moves an auto-assigned id's sequence past the imported ids (SQLite's AUTOINCREMENT does this itself). */
async function advanceSequence(db: Db, table: string): Promise<void> {
  await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce(max(id), 0) + 1, false) from ${sql.table(table)}`.execute(db);
}

/**
 * Replaces the whole state with the file's, in one transaction: every table emptied, the
 * file's rows written (sealed with this installation's key). Tables the file leaves out
 * stay empty. On any error nothing changes.
 */
export async function importState(storage: Storage, vault: PiiVault, file: StateFile): Promise<{ rows: number }> {
  const state = parseStateFile(file);
  const ours = await schemaVersion(storage.db);
  if (state.schema !== ours) {
    throw new StateError(`the file's schema is ${state.schema || '(none)'}, this gatewaydo's is ${ours}: export and import with the same version`);
  }
  let rows = 0;
  await storage.db.transaction().execute(async (trx) => {
    for (const table of TABLE_NAMES) await trx.deleteFrom(table).execute();
    for (const table of TABLE_NAMES) {
      const codec = TABLES[table] as TableCodec<typeof table>;
      const given = state.tables[table] ?? [];
      const stored = given.map((row, i) => (codec.in ? codec.in(row, vault, `${table}[${i}]`) : row));
      for (let i = 0; i < stored.length; i += BATCH) {
        try {
          await trx.insertInto(table).values(stored.slice(i, i + BATCH) as never).execute();
        } catch (err) {
          throw new StateError(`${table} (rows ${i}-${Math.min(i + BATCH, stored.length) - 1}): ${(err as Error).message}`);
        }
      }
      if (codec.serial && storage.engine === 'postgres') await advanceSequence(trx, table);
      rows += stored.length;
    }
  });
  return { rows };
}

/** Reads a state file (`-`: standard input). */
export async function readStateFile(file: string): Promise<StateFile> {
  let source: string;
  try {
    source = file === '-' ? await text(process.stdin) : await readFile(file, 'utf8');
  } catch (err) {
    throw new StateError(`${file}: cannot read the state file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (err) {
    throw new StateError(`${file}: not JSON (${(err as Error).message})`);
  }
  return parseStateFile(data);
}

export function stateText(state: StateFile): string {
  return JSON.stringify(state, null, 2) + '\n';
}

/** Owner-only: the file holds personal data and private keys in clear. */
export async function writeStateFile(file: string, state: StateFile): Promise<void> {
  await writeFile(file, stateText(state), { mode: 0o600 });
}
