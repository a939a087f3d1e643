import type { Db } from '../db.ts';
import type { AuthCodeTable } from '../schema.ts';
import { hex } from '../../domain/ids.ts';
import { prepare } from '../prepared.ts';

/**
 * Koubei operator auth codes: 32 hex, bound to one app and one operator, single-use,
 * expiring. Consumption is one conditional UPDATE … RETURNING, so a code succeeds once
 * even when many requests (or processes on one PostgreSQL) race for it.
 */
export type AuthCode = AuthCodeTable;

export async function issueAuthCode(
  db: Db,
  c: { app_id: string; operator_id: string; ext_info?: string | null; ttl_seconds: number; now?: number },
): Promise<AuthCode> {
  const now = c.now ?? Date.now();
  const row: AuthCode = {
    code: hex(16),
    app_id: c.app_id,
    operator_id: c.operator_id,
    ext_info: c.ext_info ?? null,
    expires_at: now + c.ttl_seconds * 1000,
    used_at: null,
    created_at: now,
  };
  await db.insertInto('auth_codes').values(row).execute();
  return row;
}

/** Why a code was refused: unknown, already used, issued to another app, or expired. */
export type CodeRefusal = 'unknown' | 'used' | 'other_app' | 'expired';

const takeAuthCode = prepare((db: Db, code: string, appId: string, now: number) =>
  db
    .updateTable('auth_codes')
    .set({ used_at: now })
    .where('code', '=', code)
    .where('app_id', '=', appId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll(),
);

export async function consumeAuthCode(db: Db, code: string, appId: string, now: number): Promise<AuthCode | { refused: CodeRefusal }> {
  const [taken] = (await takeAuthCode(db, code, appId, now)).rows;
  if (taken) return taken;
  // Nothing was taken; read only to say why. Another app learns nothing beyond "not yours".
  const row = await db.selectFrom('auth_codes').selectAll().where('code', '=', code).executeTakeFirst();
  if (!row) return { refused: 'unknown' };
  if (row.app_id !== appId) return { refused: 'other_app' };
  if (row.used_at !== null) return { refused: 'used' };
  return { refused: 'expired' };
}
