import { createHmac } from 'node:crypto';
import type { GatewayContext } from '../context.ts';
import { clearLoginAttempts, countLoginAttempt, pruneLoginAttempts } from '../storage/repositories/login-attempts.ts';

/**
 * Brute-force throttling for the login forms (MAPI bind login, Koubei portal, console):
 * at most MAX_ATTEMPTS attempts per login id per WINDOW_MS unless one succeeds. The attempt
 * is counted before the password is checked, so a burst of parallel guesses cannot slip
 * past the count; a success clears it. Counted in the database, so the limit holds across
 * processes. While throttled even the right password is refused (the page says why).
 */
export const MAX_ATTEMPTS = 5;
export const WINDOW_MS = 15 * 60_000;

export type LoginScope = 'mapi' | 'koubei' | 'console';

export type LoginAttempt<T> = { throttled: true } | { throttled: false; subject: T | undefined };

/** Keyed, so the table holds no login id (often a mobile number) that could be read back. */
function attemptKey(ctx: GatewayContext, scope: LoginScope, loginId: string): string {
  return createHmac('sha256', ctx.config.dataKey).update(`login-throttle\0${scope}\0${loginId.trim().toLowerCase()}`).digest('hex');
}

/** Runs `authenticate` unless the login id is throttled; undefined subject: wrong credentials. */
export async function attemptLogin<T>(ctx: GatewayContext, scope: LoginScope, loginId: string, authenticate: () => Promise<T | undefined>): Promise<LoginAttempt<T>> {
  const key = attemptKey(ctx, scope, loginId);
  const now = Date.now();
  const attempts = await countLoginAttempt(ctx.db, key, now, WINDOW_MS);
  if (attempts === 1) await pruneLoginAttempts(ctx.db, now, WINDOW_MS);
  if (attempts > MAX_ATTEMPTS) {
    ctx.logger.warn({ scope }, 'login throttled after too many attempts');
    return { throttled: true };
  }
  const subject = await authenticate();
  if (subject !== undefined) await clearLoginAttempts(ctx.db, key);
  return { throttled: false, subject };
}

export const THROTTLED_MESSAGE_ZH = `登录尝试次数过多，请 ${WINDOW_MS / 60_000} 分钟后再试。`;
export const THROTTLED_MESSAGE_EN = `Too many sign-in attempts. Try again in ${WINDOW_MS / 60_000} minutes.`;
