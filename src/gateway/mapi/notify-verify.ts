import type { GatewayContext } from '../../context.ts';
import type { Params } from '../../crypto/sign-content.ts';
import { findCachedPartner } from '../../storage/repositories/partners.ts';
import { wasNotifyIdIssued } from '../../storage/repositories/notifications.ts';

/**
 * `service=notify_verify&partner=…&notify_id=…` (unsigned, as the old demos call it):
 * `true` when we issued that notify_id to that partner within GATEWAYDO_NOTIFY_VERIFY_TTL,
 * `false` when not, `invalid` when the parameters are missing or name no partner.
 */
export async function notifyVerify(ctx: GatewayContext, params: Params): Promise<'true' | 'false' | 'invalid'> {
  const { partner, notify_id: notifyId } = params;
  if (!partner || !notifyId || notifyId.length > 128) return 'invalid';
  if (!(await findCachedPartner(ctx.db, partner))) return 'invalid';
  return (await wasNotifyIdIssued(ctx.db, partner, notifyId, Date.now(), ctx.config.notifyVerifyTtlMs)) ? 'true' : 'false';
}
