import { createHash } from 'node:crypto';
import type { GatewayContext } from '../context.ts';
import { normalizeCharset, type Charset } from '../crypto/charset.ts';
import type { Params } from '../crypto/sign-content.ts';
import { datedToken, hex } from '../domain/ids.ts';
import type { Db } from '../storage/db.ts';
import { claimBindRequest, findBindRequest, findBinding, insertBinding, openBindRequest, setBindResult, type BindRequest } from '../storage/repositories/bindings.ts';
import { findMember } from '../storage/repositories/members.ts';
import { findPartner, type Partner } from '../storage/repositories/partners.ts';
import { MapiError, type MapiErrorCode } from '../gateway/mapi/errors.ts';
import { takeMapiFault } from '../gateway/mapi/faults.ts';
import { issueMapiNotification } from '../gateway/mapi/notification.ts';
import type { ParamSpec } from '../gateway/mapi/params.ts';
import type { MapiService } from '../gateway/mapi/service.ts';
import { returnLocation, signForPartner, type MapiSignType } from '../gateway/mapi/signing.ts';

/**
 * sns.account.bind (SNS用户绑定授权), a page service: the ISV sends the person's browser
 * here; they log in and consent (pages/bind.ts); the decision below binds their Alipay
 * account to the ISV's SNS account, sends the browser back to return_url signed, and
 * notifies notify_url.
 */
export const SERVICE = 'sns.account.bind';

/** Seed §3, 业务参数. */
export const PARAMS: readonly ParamSpec[] = [
  { name: 'return_url', max: 200, required: true, url: true },
  { name: 'notify_url', max: 200, required: true, url: true },
  { name: 'sns_user_id', max: 50, required: true },
  { name: 'sns_user_name', max: 100, required: true },
  { name: 'type', max: 6, required: true, values: ['seller', 'buyer', 'common'] },
];

export type BindDecision = 'agree' | 'refuse' | 'timeout';

export interface BindOutcome {
  /** `T` or the error code on the return. */
  code: string;
  /** Where the browser goes: return_url with the signed result. */
  location: string;
}

/** The same signed URL opened twice is the same request (BIND_ERROR_REPEAT once decided). */
function requestHash(partner: string, signature: string): string {
  return createHash('sha256').update(`${partner}\n${signature}`).digest('hex');
}

export const snsAccountBind: MapiService = {
  name: SERVICE,
  params: PARAMS,
  answersBrowser: () => true,
  async handle(ctx, req) {
    const { sign: signature, ...params } = req.params;
    const request = await openBindRequest(ctx.db, {
      id: hex(16),
      partner: req.partner.partner,
      request_hash: requestHash(req.partner.partner, signature),
      params,
    });
    if (request.decided_at !== null) {
      return { kind: 'redirect', location: await failureLocation(req.partner, request, 'BIND_ERROR_REPEAT'), code: 'BIND_ERROR_REPEAT' };
    }
    return { kind: 'bind_page', bindRequestId: request.id, code: 'T' };
  },
};

function envelopeOf(request: BindRequest): { charset: Charset; signType: MapiSignType } {
  // Both were checked when the request was received.
  return { charset: normalizeCharset(request.params._input_charset), signType: request.params.sign_type as MapiSignType };
}

async function failureLocation(partner: Partner, request: BindRequest, code: string): Promise<string> {
  const { charset, signType } = envelopeOf(request);
  const p = request.params;
  const signed = await signForPartner(partner, signType, charset, { is_success: 'F', error: code, sns_user_id: p.sns_user_id });
  return returnLocation(p.return_url, signed, charset);
}

type Verdict = { error: MapiErrorCode } | { signed: Params };

/** The business rules of seed §5.2, in the decision's transaction. */
async function judge(db: Db, ctx: GatewayContext, partner: Partner, request: BindRequest, userId: string | null): Promise<Verdict> {
  const p = request.params;
  const member = userId ? await findMember(db, ctx.vault, userId) : undefined;
  // The member logged in but no longer exists (deleted by a reset meanwhile).
  if (!member) return { error: 'Q_USER_ERROR' };
  if (member.protected) return { error: 'BIND_ERROR_ACCOUNT_PROTECTED' };
  if (p.type === 'seller' && !member.certified) return { error: 'BIND_ERROR_NO_CERTIFIED' };
  const binding =
    (await insertBinding(db, { partner: partner.partner, sns_user_id: p.sns_user_id, user_id: member.user_id, type: p.type, bind_key: datedToken() })) ??
    (await findBinding(db, partner.partner, p.sns_user_id));
  // Bound to someone else; binding the same member again answers with the existing key.
  if (!binding || binding.user_id !== member.user_id) return { error: 'BIND_ERROR_HAS_CERTIFIED' };
  const { charset, signType } = envelopeOf(request);
  const signed = await issueMapiNotification(db, {
    partner,
    signType,
    charset,
    url: p.notify_url,
    notifyType: 'sns_account_bind',
    fields: {
      is_success: 'T',
      sns_user_id: p.sns_user_id,
      alipay_login_id: member.login_id,
      is_certified: member.certified ? 'T' : 'F',
      key: binding.bind_key,
      timestamp: String(Date.now()),
      alipay_card_no: member.user_id,
    },
  });
  return { signed };
}

/**
 * The person's decision on a bind request, shared by the consent page and the headless
 * admin path. One transaction: take the request (only once, ever), apply faults and the
 * rules, store the binding and enqueue its notification. A refusal, a timeout or a rule
 * that fails goes back as is_success=F with the code, signed.
 */
export async function decideBind(ctx: GatewayContext, bindRequestId: string, userId: string | null, decision: BindDecision): Promise<BindOutcome> {
  const request = await findBindRequest(ctx.db, bindRequestId);
  if (!request) throw new MapiError('ILLEGAL_ARGUMENT', '绑定请求不存在');
  const partner = await findPartner(ctx.db, request.partner);
  if (!partner) throw new MapiError('ILLEGAL_PARTNER', `合作伙伴 ${request.partner} 不存在`);
  let delay = async () => {};
  const verdict = await ctx.db.transaction().execute(async (trx): Promise<Verdict> => {
    if (!(await claimBindRequest(trx, request.id, userId))) return { error: 'BIND_ERROR_REPEAT' };
    let result: Verdict;
    if (decision === 'refuse') result = { error: 'USER_REFUSED' };
    else if (decision === 'timeout') result = { error: 'SESSION_TIMEOUT' };
    else {
      const fault = await takeMapiFault(trx, SERVICE);
      delay = fault.delay;
      result = fault.code ? { error: fault.code } : await judge(trx, ctx, partner, request, userId);
    }
    await setBindResult(trx, request.id, 'error' in result ? result.error : 'T');
    return result;
  });
  await delay();
  if ('error' in verdict) return { code: verdict.error, location: await failureLocation(partner, request, verdict.error) };
  const { charset } = envelopeOf(request);
  return { code: 'T', location: returnLocation(request.params.return_url, verdict.signed, charset) };
}
