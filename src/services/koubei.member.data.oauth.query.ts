import { businessError, explained, fail } from '../gateway/openapi/codes.ts';
import type { MethodSpec } from '../gateway/openapi/registry.ts';
import { consumeAuthCode, type CodeRefusal } from '../storage/repositories/auth-codes.ts';
import { findOperator } from '../storage/repositories/koubei.ts';

/**
 * koubei.member.data.oauth.query (口碑业务授权令牌查询): the ISV trades the one-time `code`
 * an operator brought from the Koubei portal for who that operator is.
 */
const ERRORS = {
  INVALID_PARAMETER: businessError('INVALID_PARAMETER', '参数有误。'),
  AUTH_CODE_NOT_EXIST: businessError('AUTH_CODE_NOT_EXIST', '授权码不存在'),
  AUTH_CODE_EXPIRES: businessError('AUTH_CODE_EXPIRES', '授权码过期'),
  ACCESS_NOT_ALLOWED: businessError('ACCESS_NOT_ALLOWED', '无权访问'),
  SYSTEM_ERROR: businessError('SYSTEM_ERROR', '系统繁忙'),
};

const REFUSALS: Record<CodeRefusal, [keyof typeof ERRORS, string]> = {
  unknown: ['AUTH_CODE_NOT_EXIST', 'no such code'],
  used: ['AUTH_CODE_NOT_EXIST', 'the code was already used (codes are single-use)'],
  other_app: ['ACCESS_NOT_ALLOWED', 'the code was issued to another app'],
  expired: ['AUTH_CODE_EXPIRES', 'the code has expired'],
};

export const koubeiMemberDataOauthQuery: MethodSpec = {
  method: 'koubei.member.data.oauth.query',
  input: 'biz_content',
  fields: [
    { name: 'auth_type', type: 'String', maxLength: 16, required: true },
    { name: 'code', type: 'String', maxLength: 32, required: true },
    { name: 'ext_info', type: 'String', maxLength: 512, required: false },
  ],
  errors: ERRORS,
  invalidParameter: ERRORS.INVALID_PARAMETER,

  async handle({ db, app, input, now }) {
    if (input.auth_type !== 'pay_member') fail(explained(ERRORS.INVALID_PARAMETER, 'auth_type must be pay_member'));
    const taken = await consumeAuthCode(db, input.code, app.app_id, now);
    if ('refused' in taken) {
      const [name, why] = REFUSALS[taken.refused];
      fail(explained(ERRORS[name], why));
    }
    const operator = (await findOperator(db, taken.operator_id)) ?? fail(explained(ERRORS.AUTH_CODE_NOT_EXIST, 'the operator of this code no longer exists'));
    // ext_info given when the code was issued wins; else the request's is echoed (both "reserved").
    const extInfo = taken.ext_info ?? input.ext_info;
    return {
      operator_id: operator.operator_id,
      operator_type: operator.operator_type,
      ...(operator.operator_partner_id && { operator_partner_id: operator.operator_partner_id }),
      ...(extInfo && { ext_info: extInfo }),
      ...(operator.shop_ids.length > 0 && { shop_ids: operator.shop_ids }),
    };
  },
};
