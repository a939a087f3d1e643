import type { Params } from '../crypto/sign-content.ts';
import { deleteBinding } from '../storage/repositories/bindings.ts';
import type { MapiErrorCode } from '../gateway/mapi/errors.ts';
import { takeMapiFault } from '../gateway/mapi/faults.ts';
import { issueMapiNotification } from '../gateway/mapi/notification.ts';
import type { ParamSpec } from '../gateway/mapi/params.ts';
import type { MapiRequest, MapiService } from '../gateway/mapi/service.ts';
import { returnLocation, signForPartner } from '../gateway/mapi/signing.ts';
import { mapiXml } from '../gateway/mapi/xml.ts';

/**
 * sns.cancel.account.bind: the partner names a binding by `sns_user_id` and its `key`, and
 * we remove it — no person is involved. Old integrations sent it as a browser form with
 * return_url (and sns_user_name); so with a return_url the browser is sent back signed
 * like a bind (no `key` in it: that is how those integrations tell the two apart), and
 * without one the call is answered in old MAPI's XML. A notify_url gets a notification.
 * No seed documents it: the parameter table follows sns.account.bind's.
 */
export const SERVICE = 'sns.cancel.account.bind';

export const PARAMS: readonly ParamSpec[] = [
  { name: 'sns_user_id', max: 50, required: true },
  { name: 'key', max: 40, required: true },
  { name: 'sns_user_name', max: 100, required: false },
  { name: 'return_url', max: 200, required: false, url: true },
  { name: 'notify_url', max: 200, required: false, url: true },
];

type Verdict = { error: MapiErrorCode } | { fields: Params; signed?: Params };

async function answer(req: MapiRequest, verdict: Verdict) {
  const p = req.params;
  const code = 'error' in verdict ? verdict.error : 'T';
  if (!p.return_url) return { kind: 'xml' as const, body: mapiXml(code), code };
  const signed =
    'error' in verdict
      ? await signForPartner(req.partner, req.signType, req.charset, { is_success: 'F', error: verdict.error, sns_user_id: p.sns_user_id })
      : (verdict.signed ?? (await signForPartner(req.partner, req.signType, req.charset, verdict.fields)));
  return { kind: 'redirect' as const, location: returnLocation(p.return_url, signed, req.charset), code };
}

export const snsCancelAccountBind: MapiService = {
  name: SERVICE,
  params: PARAMS,
  answersBrowser: (params) => Boolean(params.return_url),
  async handle(ctx, req) {
    const p = req.params;
    let delay = async () => {};
    const verdict = await ctx.db.transaction().execute(async (trx): Promise<Verdict> => {
      const fault = await takeMapiFault(trx, SERVICE);
      delay = fault.delay;
      if (fault.code) return { error: fault.code };
      const removed = await deleteBinding(trx, req.partner.partner, p.sns_user_id, p.key);
      if (!removed) return { error: 'ALREADY_NOT_EXIT_ACCOUNT' };
      const fields = { is_success: 'T', sns_user_id: p.sns_user_id, alipay_card_no: removed.user_id };
      if (!p.notify_url) return { fields };
      const notice = { partner: req.partner, signType: req.signType, charset: req.charset, url: p.notify_url, notifyType: 'sns_cancel_account_bind', fields };
      return { fields, signed: await issueMapiNotification(trx, notice) };
    });
    await delay();
    return answer(req, verdict);
  },
};
