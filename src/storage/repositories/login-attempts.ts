import { sql } from 'kysely';
import type { Db } from '../db.ts';

/**
 * Login attempts per (page, login id) key within a window (migration 003). Not part of the
 * exported or reset state: it is security bookkeeping that expires on its own.
 */
interface LoginAttemptTable {
  key: string;
  attempts: number;
  window_start: number;
}

function table(db: Db) {
  return db.withTables<{ login_attempts: LoginAttemptTable }>();
}

/**
 * Counts one attempt and returns the attempts in the current window, the new one included.
 * One statement (an upsert), so concurrent attempts in any process are each counted.
 */
export async function countLoginAttempt(db: Db, key: string, now: number, windowMs: number): Promise<number> {
  const windowOver = sql<boolean>`login_attempts.window_start <= ${now - windowMs}`;
  const row = await table(db)
    .insertInto('login_attempts')
    .values({ key, attempts: 1, window_start: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        attempts: sql<number>`case when ${windowOver} then 1 else login_attempts.attempts + 1 end`,
        window_start: sql<number>`case when ${windowOver} then ${now} else login_attempts.window_start end`,
      }),
    )
    .returning('attempts')
    .executeTakeFirstOrThrow();
  return Number(row.attempts);
}

/** A successful login starts the count afresh. */
export async function clearLoginAttempts(db: Db, key: string): Promise<void> {
  await table(db).deleteFrom('login_attempts').where('key', '=', key).execute();
}

/** Drops windows that are over, so random login ids cannot grow the table for good. */
export async function pruneLoginAttempts(db: Db, now: number, windowMs: number): Promise<void> {
  await table(db).deleteFrom('login_attempts').where('window_start', '<=', now - windowMs).execute();
}
