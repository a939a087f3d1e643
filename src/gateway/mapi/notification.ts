import type { Charset } from '../../crypto/charset.ts';
import { buildForm } from '../../crypto/form.ts';
import type { Params } from '../../crypto/sign-content.ts';
import { beijingTime, hex } from '../../domain/ids.ts';
import type { Db } from '../../storage/db.ts';
import type { Partner } from '../../storage/repositories/partners.ts';
import { insertNotification } from '../../storage/repositories/notifications.ts';
import { signForPartner, type MapiSignType } from './signing.ts';

/**
 * Notification interface v2.0: the result fields plus `notify_time` (Beijing time),
 * `notify_type`, `notify_id` (32 hex), signed like a return. Written to the outbox with
 * the caller's transaction; the same signed fields go on the return_url, so the ISV can
 * check either with notify_verify.
 */
export interface MapiNotice {
  partner: Partner;
  signType: MapiSignType;
  charset: Charset;
  url: string;
  /** Unconfirmed for these services; we name them after the service (sns_account_bind). */
  notifyType: string;
  fields: Params;
}

export async function issueMapiNotification(db: Db, n: MapiNotice): Promise<Params> {
  const now = Date.now();
  const notifyId = hex(16);
  const signed = await signForPartner(n.partner, n.signType, n.charset, {
    notify_time: beijingTime(now),
    notify_type: n.notifyType,
    notify_id: notifyId,
    ...n.fields,
  });
  await insertNotification(db, { notify_id: notifyId, gateway: 'mapi', owner: n.partner.partner, url: n.url, charset: n.charset, body: buildForm(signed, n.charset) }, now);
  return signed;
}
