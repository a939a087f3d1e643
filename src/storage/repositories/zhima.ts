import type { Db } from '../db.ts';
import type { TokenTable } from '../schema.ts';
import type { App } from './apps.ts';
import { prepare } from '../prepared.ts';
import { datedToken } from '../../domain/ids.ts';

/**
 * Zhima authorizations and the access/refresh token pairs issued for them. A member has at
 * most one live pair per app: issuing revokes the previous ones, refreshing revokes the
 * pair it replaces (one conditional UPDATE … RETURNING, so a refresh token works once).
 */
export type TokenPair = TokenTable;

const insertZhimaAuth = prepare((db: Db, appId: string, userId: string, linkedMerchantId: string | null, now: number) =>
  db.insertInto('zhima_auths').values({ app_id: appId, user_id: userId, linked_merchant_id: linkedMerchantId, created_at: now }).returning('id'),
);

export async function recordZhimaAuth(db: Db, a: { app_id: string; user_id: string; linked_merchant_id: string | null; now: number }): Promise<number> {
  const { rows } = await insertZhimaAuth(db, a.app_id, a.user_id, a.linked_merchant_id, a.now);
  return rows[0].id;
}

const insertToken = prepare(
  (db: Db, access: string, refresh: string, appId: string, userId: string, authId: number, type: string, expiresAt: number | null, reExpiresAt: number | null, now: number) =>
    db.insertInto('tokens').values({
      access_token: access,
      refresh_token: refresh,
      app_id: appId,
      user_id: userId,
      auth_id: authId,
      token_type: type,
      expires_at: expiresAt,
      re_expires_at: reExpiresAt,
      revoked_at: null,
      created_at: now,
    }),
);

async function insertPair(db: Db, app: App, userId: string, authId: number, now: number): Promise<TokenPair> {
  const permanent = app.token_policy === 'permanent';
  const pair: TokenPair = {
    access_token: datedToken(new Date(now)),
    refresh_token: datedToken(new Date(now)),
    app_id: app.app_id,
    user_id: userId,
    auth_id: authId,
    token_type: permanent ? 'permanent' : 'expiring',
    expires_at: permanent ? null : now + app.access_token_ttl_seconds * 1000,
    re_expires_at: permanent ? null : now + app.refresh_token_ttl_seconds * 1000,
    revoked_at: null,
    created_at: now,
  };
  await insertToken(db, pair.access_token, pair.refresh_token, pair.app_id, pair.user_id, pair.auth_id, pair.token_type, pair.expires_at, pair.re_expires_at, pair.created_at);
  return pair;
}

const revokeLiveTokens = prepare((db: Db, appId: string, userId: string, now: number) =>
  db.updateTable('tokens').set({ revoked_at: now }).where('app_id', '=', appId).where('user_id', '=', userId).where('revoked_at', 'is', null),
);

/** A new pair for the member and app, revoking the member's earlier live pairs for that app. */
export async function issueTokens(db: Db, app: App, userId: string, authId: number, now: number): Promise<TokenPair> {
  await revokeLiveTokens(db, app.app_id, userId, now);
  return insertPair(db, app, userId, authId, now);
}

export type RefreshRefusal = 'unknown' | 'revoked' | 'other_app' | 'expired';

/** Trades a live refresh token for a new pair; the old pair (access token included) is revoked. */
export async function refreshTokens(db: Db, app: App, refreshToken: string, now: number): Promise<TokenPair | { refused: RefreshRefusal }> {
  const old = await db
    .updateTable('tokens')
    .set({ revoked_at: now })
    .where('refresh_token', '=', refreshToken)
    .where('app_id', '=', app.app_id)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('re_expires_at', 'is', null), eb('re_expires_at', '>', now)]))
    .returning(['user_id', 'auth_id'])
    .executeTakeFirst();
  if (old) return insertPair(db, app, old.user_id, old.auth_id, now);
  const row = await db.selectFrom('tokens').select(['app_id', 'revoked_at']).where('refresh_token', '=', refreshToken).executeTakeFirst();
  if (!row) return { refused: 'unknown' };
  if (row.app_id !== app.app_id) return { refused: 'other_app' };
  if (row.revoked_at !== null) return { refused: 'revoked' };
  return { refused: 'expired' };
}

export async function findToken(db: Db, accessToken: string): Promise<TokenPair | undefined> {
  return db.selectFrom('tokens').selectAll().where('access_token', '=', accessToken).executeTakeFirst();
}

/** Seconds until each token expires, as the wire wants them; undefined for permanent tokens. */
export function lifetimes(pair: TokenPair): { expires_in: number; re_expires_in: number } | undefined {
  if (pair.expires_at === null || pair.re_expires_at === null) return undefined;
  return { expires_in: Math.round((pair.expires_at - pair.created_at) / 1000), re_expires_in: Math.round((pair.re_expires_at - pair.created_at) / 1000) };
}
