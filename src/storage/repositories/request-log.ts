import type { Db } from '../db.ts';
import type { Selectable } from 'kysely';
import type { RequestLogTable } from '../schema.ts';

/** Every gateway request, accepted or not, with masked params and the signature diagnosis. */
export interface RequestLogEntry {
  at: number;
  gateway: 'openapi' | 'mapi';
  caller: string | null;
  method: string | null;
  http_method: string;
  /** Already masked (domain/pii.ts maskParams). */
  params: Record<string, string>;
  response: string | null;
  code: string | null;
  sub_code: string | null;
  latency_ms: number;
  diagnosis: unknown;
  trace_id: string;
}

export interface LoggedRequest extends Omit<RequestLogEntry, 'params' | 'diagnosis'> {
  id: number;
  params: Record<string, string>;
  diagnosis: unknown;
}

function toLogged(row: Selectable<RequestLogTable>): LoggedRequest {
  return {
    ...row,
    gateway: row.gateway as LoggedRequest['gateway'],
    params: JSON.parse(row.params),
    diagnosis: row.diagnosis ? JSON.parse(row.diagnosis) : null,
  };
}

/**
 * Multi-row INSERTs of the entries (RequestLogWriter batches the gateway's), in chunks of
 * 256, 128, … 1 rows: an INSERT's text depends on its row count and each text is a
 * statement the database keeps prepared, so a few sizes keep that cache small.
 */
export async function appendRequestLog(db: Db, ...entries: RequestLogEntry[]): Promise<void> {
  const rows = entries.map((e) => ({ ...e, params: JSON.stringify(e.params), diagnosis: e.diagnosis ? JSON.stringify(e.diagnosis) : null }));
  for (let start = 0, size = 256; start < rows.length; size >>= 1) {
    while (start + size <= rows.length) {
      await db.insertInto('request_log').values(rows.slice(start, start + size)).execute();
      start += size;
    }
  }
}

export interface RequestLogFilter {
  caller?: string;
  method?: string;
  code?: string;
  since?: number;
  until?: number;
  limit?: number;
}

export async function listRequestLog(db: Db, f: RequestLogFilter = {}): Promise<LoggedRequest[]> {
  let q = db.selectFrom('request_log').selectAll();
  if (f.caller) q = q.where('caller', '=', f.caller);
  if (f.method) q = q.where('method', '=', f.method);
  if (f.code) q = q.where((eb) => eb.or([eb('code', '=', f.code!), eb('sub_code', '=', f.code!)]));
  if (f.since !== undefined) q = q.where('at', '>=', f.since);
  if (f.until !== undefined) q = q.where('at', '<=', f.until);
  const rows = await q.orderBy('id', 'desc').limit(Math.min(f.limit ?? 100, 1000)).execute();
  return rows.map(toLogged);
}

export async function findRequestLog(db: Db, id: number): Promise<LoggedRequest | undefined> {
  const row = await db.selectFrom('request_log').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toLogged(row);
}

/**
 * Keeps the newest `keep` rows; called periodically so the table cannot grow without end.
 * Deletes `batch` ids at a time, yielding in between: one DELETE of tens of thousands of
 * rows would hold the database (and, SQLite being synchronous, every request) for 100+ ms.
 */
export async function pruneRequestLog(db: Db, keep: number, batch = 2000): Promise<number> {
  const cutoff = await db.selectFrom('request_log').select('id').orderBy('id', 'desc').offset(keep).limit(1).executeTakeFirst();
  if (!cutoff) return 0;
  let deleted = 0;
  for (;;) {
    const oldest = await db.selectFrom('request_log').select('id').orderBy('id').limit(1).executeTakeFirst();
    if (!oldest || oldest.id > cutoff.id) return deleted;
    const res = await db.deleteFrom('request_log').where('id', '<=', Math.min(cutoff.id, oldest.id + batch - 1)).executeTakeFirst();
    deleted += Number(res.numDeletedRows);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
