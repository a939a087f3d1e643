import type { Db } from '../db.ts';
import { hex } from '../../domain/ids.ts';

/**
 * Browser sessions (member login, Koubei operator, console) in the database, so any
 * process behind a load balancer can serve any page of a flow. Each has its CSRF token.
 */
export interface Session {
  id: string;
  kind: string;
  subject: string | null;
  csrf: string;
  data: Record<string, unknown>;
  expires_at: number;
}

export async function createSession(db: Db, kind: string, ttlMs: number, subject: string | null = null, data: Record<string, unknown> = {}): Promise<Session> {
  const s: Session = { id: hex(24), kind, subject, csrf: hex(16), data, expires_at: Date.now() + ttlMs };
  await db.insertInto('sessions').values({ ...s, data: JSON.stringify(data) }).execute();
  return s;
}

/** A live session of this kind, or undefined (unknown or expired). */
export async function findSession(db: Db, id: string | undefined, kind: string): Promise<Session | undefined> {
  if (!id) return undefined;
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).where('kind', '=', kind).executeTakeFirst();
  if (!row || row.expires_at < Date.now()) return undefined;
  return { ...row, data: JSON.parse(row.data) };
}

export async function updateSession(db: Db, id: string, patch: { subject?: string | null; data?: Record<string, unknown>; expires_at?: number }): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ ...patch, data: patch.data && JSON.stringify(patch.data) })
    .where('id', '=', id)
    .execute();
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function pruneSessions(db: Db): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', Date.now()).execute();
}
