import { businessError, explained, fail, gatewayError } from '../gateway/openapi/codes.ts';
import type { MethodSpec } from '../gateway/openapi/registry.ts';
import { isValidIdNumber } from '../domain/ids.ts';
import { findCertifiedUserId } from '../storage/repositories/members.ts';
import { findMerchant } from '../storage/repositories/koubei.ts';
import { issueTokens, lifetimes, recordZhimaAuth } from '../storage/repositories/zhima.ts';
import { queueSms } from '../storage/repositories/sms.ts';

/**
 * alipay.user.auth.zhimaper.inner.apply (芝麻个人征信基于支付宝的协议授权): name, ID number
 * and mobile must match one real-name-certified member; then the authorization is recorded,
 * a token pair issued and an SMS notice queued to that mobile — in one transaction.
 */
const ERRORS = {
  CERT_NO_IS_NULL: businessError('CERT_NO_IS_NULL', '证件号码参数为空'),
  CERT_TYPE_IS_NULL: businessError('CERT_TYPE_IS_NULL', '证件类型参数为空'),
  NAME_IS_NULL: businessError('NAME_IS_NULL', '姓名参数为空'),
  MOBILE_IS_NULL: businessError('MOBILE_IS_NULL', '手机号码参数为空'),
  NO_USER_ERROR: businessError('NO_USER_ERROR', '身份三要素不存在支付宝认证的个人会员'),
  SYSTEM_ERROR: businessError('SYSTEM_ERROR', '系统繁忙'),
};

const MOBILE = /^1\d{10}$/;

/** The seed has no code for a malformed value, so these are the gateway's isv.invalid-parameter. */
function invalidParameter(message: string) {
  return gatewayError('isv.invalid-parameter', `参数无效：${message}`);
}

export const alipayUserAuthZhimaperInnerApply: MethodSpec = {
  method: 'alipay.user.auth.zhimaper.inner.apply',
  input: 'biz_content',
  fields: [
    { name: 'cert_no', type: 'String', maxLength: 32, required: true, onMissing: ERRORS.CERT_NO_IS_NULL },
    { name: 'cert_type', type: 'String', maxLength: 32, required: true, onMissing: ERRORS.CERT_TYPE_IS_NULL },
    { name: 'name', type: 'String', maxLength: 16, required: true, onMissing: ERRORS.NAME_IS_NULL },
    { name: 'mobile', type: 'String', maxLength: 16, required: true, onMissing: ERRORS.MOBILE_IS_NULL },
    { name: 'linked_merchant_id', type: 'String', maxLength: 16, required: false },
  ],
  errors: ERRORS,

  async handle({ db, ctx, app, input, now }) {
    if (input.cert_type !== 'IDENTITY_CARD') fail(invalidParameter('cert_type 只支持 IDENTITY_CARD（身份证）'));
    const certNo = input.cert_no.trim().toUpperCase();
    if (!isValidIdNumber(certNo)) fail(invalidParameter('cert_no 不是合法的18位身份证号码（校验位不符）'));
    const mobile = input.mobile.trim();
    if (!MOBILE.test(mobile)) fail(invalidParameter('mobile 不是合法的11位手机号码'));
    const linked = input.linked_merchant_id?.trim() || null;
    if (linked) {
      const merchant = await findMerchant(db, linked);
      if (!merchant || !app.provider_id || merchant.provider_id !== app.provider_id) {
        fail(explained(
          invalidParameter(`linked_merchant_id ${linked} 不是本应用所属服务商的商户`),
          app.provider_id ? `merchant ${linked} is not a merchant of provider ${app.provider_id}` : 'the app belongs to no provider (provider_id), so it has no linked merchants',
        ));
      }
    }

    const userId = await findCertifiedUserId(db, ctx.vault, input.name.trim(), certNo, mobile);
    if (!userId) return fail(explained(ERRORS.NO_USER_ERROR, 'no certified member matches name + cert_no + mobile'));

    const authId = await recordZhimaAuth(db, { app_id: app.app_id, user_id: userId, linked_merchant_id: linked, now });
    const pair = await issueTokens(db, app, userId, authId, now);
    await queueSms(db, ctx.vault, {
      user_id: userId,
      mobile,
      content: `【芝麻信用】您已通过支付宝授权“${app.name}”（${app.app_id}）查询您的芝麻个人信用信息。如非本人操作，请及时联系客服。`,
      now,
    });
    const expiry = lifetimes(pair);
    return {
      access_token: pair.access_token,
      refresh_token: pair.refresh_token,
      // permanent: never expires; otherwise empty, and expires_in / re_expires_in govern.
      ...(expiry ? expiry : { auth_token_type: 'permanent' }),
    };
  },
};
