import { explained, fail, gatewayError, type SubCode } from '../gateway/openapi/codes.ts';
import type { MethodSpec } from '../gateway/openapi/registry.ts';
import { beijingTime } from '../domain/ids.ts';
import { lifetimes, refreshTokens, type RefreshRefusal } from '../storage/repositories/zhima.ts';

/**
 * alipay.system.oauth.token (换取授权访问令牌), top-level params, errors in error_response.
 * grant_type=refresh_token trades a live refresh token (from a Zhima authorization) for a
 * new pair and revokes the old one. grant_type=authorization_code is refused honestly with
 * isv.code-invalid: gatewaydo has no user-authorization page that issues such codes (Koubei
 * portal codes are for koubei.member.data.oauth.query, not this method).
 */
const REFUSALS: Record<RefreshRefusal, [SubCode, string]> = {
  unknown: ['isv.refresh-token-invalid', 'no such refresh token'],
  revoked: ['isv.refresh-token-invalid', 'the refresh token was already used or revoked'],
  other_app: ['isv.unmatched-app-id', 'the refresh token was issued to another app'],
  expired: ['isv.refresh-token-time-out', 'the refresh token has expired'],
};

export const alipaySystemOauthToken: MethodSpec = {
  method: 'alipay.system.oauth.token',
  input: 'params',
  fields: [
    { name: 'grant_type', type: 'String', maxLength: 20, required: true, onMissing: gatewayError('isv.grant-type-invalid') },
    { name: 'code', type: 'String', maxLength: 40, required: false },
    { name: 'refresh_token', type: 'String', maxLength: 40, required: false },
  ],
  errors: {},
  tokenStyle: true,

  async handle({ db, app, input, now }) {
    if (input.grant_type === 'authorization_code') {
      fail(explained(gatewayError('isv.code-invalid'), 'gatewaydo issues no user authorization codes; only grant_type=refresh_token is served'));
    }
    if (input.grant_type !== 'refresh_token') fail(gatewayError('isv.grant-type-invalid'));
    if (!input.refresh_token) fail(explained(gatewayError('isv.refresh-token-invalid'), 'refresh_token is required with grant_type=refresh_token'));
    const pair = await refreshTokens(db, app, input.refresh_token, now);
    if ('refused' in pair) {
      const [subCode, why] = REFUSALS[pair.refused];
      fail(explained(gatewayError(subCode), why));
    }
    const expiry = lifetimes(pair);
    return {
      user_id: pair.user_id,
      access_token: pair.access_token,
      ...(expiry && { expires_in: expiry.expires_in }),
      refresh_token: pair.refresh_token,
      ...(expiry ? { re_expires_in: expiry.re_expires_in } : { auth_token_type: 'permanent' }),
      auth_start: beijingTime(now),
    };
  },
};
