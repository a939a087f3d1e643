import type { GatewayContext } from '../context.ts';
import { explained, fail, gatewayError } from './openapi/codes.ts';
import { MapiError } from './mapi/errors.ts';

/**
 * Per-app (OpenAPI) and per-partner (MAPI) call limits: GATEWAYDO_RATE_LIMIT calls per
 * second, in bursts of up to one second's worth (a token bucket each). Only calls that
 * passed the signature check count, so nobody without the key can use up an app's quota.
 *
 * The buckets live in this process: N processes behind a load balancer allow N times the
 * rate. That is deliberate — a limit checked in the database would cost a write per call
 * on the hot path, and the point here is to let ISVs exercise their 40005 handling.
 */
class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  take(key: string, now = performance.now()): boolean {
    const capacity = Math.max(1, this.perSecond);
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

const limiters = new WeakMap<GatewayContext, TokenBuckets>();

function allowed(ctx: GatewayContext, key: string): boolean {
  if (ctx.config.rateLimit <= 0) return true;
  let buckets = limiters.get(ctx);
  if (!buckets) limiters.set(ctx, (buckets = new TokenBuckets(ctx.config.rateLimit)));
  return buckets.take(key);
}

/** OpenAPI: 40005 isv.app-call-limited ("Call Limited", 应用调用次数超限) over the app's rate. */
export function limitApp(ctx: GatewayContext, appId: string): void {
  if (allowed(ctx, `app:${appId}`)) return;
  fail(explained(gatewayError('isv.app-call-limited'), `app ${appId} made more than ${ctx.config.rateLimit} calls per second (GATEWAYDO_RATE_LIMIT)`));
}

/** MAPI: CALL_LIMITED (调用频率超限) over the partner's rate, as an error page or XML. */
export function limitPartner(ctx: GatewayContext, partner: string): void {
  if (allowed(ctx, `partner:${partner}`)) return;
  throw new MapiError('CALL_LIMITED', `合作伙伴 ${partner} 每秒调用超过 ${ctx.config.rateLimit} 次（GATEWAYDO_RATE_LIMIT）`);
}
