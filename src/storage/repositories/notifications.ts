import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.ts';
import type { NotificationTable, NotifyAttemptTable } from '../schema.ts';
import { prepare } from '../prepared.ts';

/**
 * The notification outbox. A row is written in the same transaction as the event it
 * reports; dispatchers (in any process) take due rows with a lease, so one attempt is
 * made by one process at a time, and record every attempt.
 */
export type Notification = Selectable<NotificationTable>;
export type NotifyAttempt = Selectable<NotifyAttemptTable>;
export type NotificationState = 'pending' | 'delivered' | 'failed';

export interface NewNotification {
  notify_id: string;
  gateway: 'mapi' | 'openapi';
  /** Who it is for (a partner or app_id); notify_verify answers only to them. */
  owner: string;
  url: string;
  charset: string;
  body: string;
}

export async function insertNotification(db: Db, n: NewNotification, now = Date.now()): Promise<void> {
  await db
    .insertInto('notifications')
    .values({ ...n, state: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, last_status: null, created_at: now, delivered_at: null })
    .execute();
}

/**
 * Leases up to `limit` due rows. The lease is re-checked by the UPDATE itself, so of two
 * processes selecting the same rows only one gets each (PostgreSQL re-evaluates the WHERE
 * on the row it waited for; SQLite runs writers one at a time).
 */
export async function claimDueNotifications(db: Db, now: number, leaseMs: number, limit: number): Promise<Notification[]> {
  return db
    .updateTable('notifications')
    .set({ lease_until: now + leaseMs })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notifications')
        .select('id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
        .orderBy('next_attempt_at')
        .limit(limit),
    )
    .where('state', '=', 'pending')
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
    .returningAll()
    .execute();
}

export interface AttemptRecord {
  at: number;
  http_status: number | null;
  body_excerpt: string | null;
  error: string | null;
  state: NotificationState;
  next_attempt_at: number;
  last_status: string;
}

/** Stores one finished attempt and the row's next state, if this process still holds the lease. */
export async function recordAttempt(db: Db, n: Notification, a: AttemptRecord): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('notify_attempts')
      .values({ notification_id: n.id, at: a.at, http_status: a.http_status, body_excerpt: a.body_excerpt, error: a.error })
      .execute();
    await trx
      .updateTable('notifications')
      .set({
        state: a.state,
        attempts: n.attempts + 1,
        next_attempt_at: a.next_attempt_at,
        lease_until: null,
        last_status: a.last_status,
        delivered_at: a.state === 'delivered' ? Date.now() : null,
      })
      .where('id', '=', n.id)
      .where('lease_until', '=', n.lease_until)
      .execute();
  });
}

/** Gives a leased row back untried (the process is stopping). */
export async function releaseLease(db: Db, n: Notification): Promise<void> {
  await db.updateTable('notifications').set({ lease_until: null }).where('id', '=', n.id).where('lease_until', '=', n.lease_until).execute();
}

export interface NotificationView extends Notification {
  attempt_log: NotifyAttempt[];
}

export async function listNotifications(db: Db, f: { state?: string; owner?: string; limit?: number } = {}): Promise<NotificationView[]> {
  let q = db.selectFrom('notifications').selectAll();
  if (f.state) q = q.where('state', '=', f.state);
  if (f.owner) q = q.where('owner', '=', f.owner);
  const rows = await q.orderBy('id', 'desc').limit(Math.min(f.limit ?? 100, 1000)).execute();
  if (rows.length === 0) return [];
  const attempts = await db
    .selectFrom('notify_attempts')
    .selectAll()
    .where('notification_id', 'in', rows.map((r) => r.id))
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, attempt_log: attempts.filter((a) => a.notification_id === r.id) }));
}

/** Resend: the row becomes due now (a failed one gets one more attempt). */
export async function makeNotificationDue(db: Db, id: number, now = Date.now()): Promise<boolean> {
  const res = await db.updateTable('notifications').set({ state: 'pending', next_attempt_at: now }).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

const selectRecentNotification = prepare((db: Db, notifyId: string, owner: string, cutoff: number, now: number) =>
  db
    .selectFrom('notifications')
    .select('id')
    .where('notify_id', '=', notifyId)
    .where('owner', '=', owner)
    .where((eb) =>
      eb.or([
        eb('created_at', '>=', cutoff),
        eb('lease_until', '>', now),
        eb.exists(
          eb
            .selectFrom('notify_attempts')
            .select('notify_attempts.id')
            .whereRef('notify_attempts.notification_id', '=', 'notifications.id')
            .where('notify_attempts.at', '>=', cutoff),
        ),
      ]),
    )
    .limit(sql.lit(1)),
);

/**
 * notify_verify: did we issue this notify_id to this owner recently — created, attempted,
 * or being attempted right now (the ISV typically asks while our POST is still open)?
 */
export async function wasNotifyIdIssued(db: Db, owner: string, notifyId: string, now: number, ttlMs: number): Promise<boolean> {
  const { rows } = await selectRecentNotification(db, notifyId, owner, now - ttlMs, now);
  return rows.length > 0;
}
