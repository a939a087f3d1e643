import type { Selectable } from 'kysely';
import type { Db } from '../db.ts';
import type { BindingTable, BindRequestTable } from '../schema.ts';

/**
 * sns.account.bind: the signed requests a person is deciding on (bind_requests) and the
 * bindings they produced. Single use and uniqueness come from the database: a request is
 * decided by `UPDATE … WHERE decided_at IS NULL RETURNING`, one SNS account per partner by
 * the unique index on bindings(partner, sns_user_id).
 */
export interface BindRequest extends Omit<BindRequestTable, 'params'> {
  params: Record<string, string>;
}

export type Binding = Selectable<BindingTable>;

function toBindRequest(row: BindRequestTable): BindRequest {
  return { ...row, params: JSON.parse(row.params) };
}

/**
 * Records a verified request, or finds the one already recorded for the same signed URL
 * (same request_hash): opening a link twice continues the same request.
 */
export async function openBindRequest(db: Db, r: { id: string; partner: string; request_hash: string; params: Record<string, string> }): Promise<BindRequest> {
  await db
    .insertInto('bind_requests')
    .values({ ...r, params: JSON.stringify(r.params), user_id: null, decided_at: null, result: null, created_at: Date.now() })
    .onConflict((oc) => oc.column('request_hash').doNothing())
    .execute();
  const row = await db.selectFrom('bind_requests').selectAll().where('request_hash', '=', r.request_hash).executeTakeFirstOrThrow();
  return toBindRequest(row);
}

export async function findBindRequest(db: Db, id: string): Promise<BindRequest | undefined> {
  const row = await db.selectFrom('bind_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toBindRequest(row);
}

/** Takes the request for a decision; false when it was already decided (by anyone). */
export async function claimBindRequest(db: Db, id: string, userId: string | null, now = Date.now()): Promise<boolean> {
  const row = await db
    .updateTable('bind_requests')
    .set({ decided_at: now, user_id: userId })
    .where('id', '=', id)
    .where('decided_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** `T` or the error code the request ended with. */
export async function setBindResult(db: Db, id: string, result: string): Promise<void> {
  await db.updateTable('bind_requests').set({ result }).where('id', '=', id).execute();
}

export async function findBinding(db: Db, partner: string, snsUserId: string): Promise<Binding | undefined> {
  return db.selectFrom('bindings').selectAll().where('partner', '=', partner).where('sns_user_id', '=', snsUserId).executeTakeFirst();
}

/** Inserts unless the SNS account is already bound under this partner (then undefined). */
export async function insertBinding(db: Db, b: Omit<Binding, 'id' | 'created_at'>): Promise<Binding | undefined> {
  return db
    .insertInto('bindings')
    .values({ ...b, created_at: Date.now() })
    .onConflict((oc) => oc.columns(['partner', 'sns_user_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Removes the binding the partner names by SNS account and key; undefined when there is none. */
export async function deleteBinding(db: Db, partner: string, snsUserId: string, bindKey: string): Promise<Binding | undefined> {
  return db
    .deleteFrom('bindings')
    .where('partner', '=', partner)
    .where('sns_user_id', '=', snsUserId)
    .where('bind_key', '=', bindKey)
    .returningAll()
    .executeTakeFirst();
}

export async function listBindings(db: Db, partner?: string): Promise<Binding[]> {
  let q = db.selectFrom('bindings').selectAll();
  if (partner) q = q.where('partner', '=', partner);
  return q.orderBy('id').execute();
}
