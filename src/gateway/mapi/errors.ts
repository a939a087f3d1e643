import type { Diagnosis } from '../../crypto/diagnose.ts';

/**
 * MAPI answers with error code names. The first fifteen are sns.account.bind's table (seed
 * §5.2) with its descriptions; the rest are general MAPI codes of the same family, used
 * where the seed has no name for what went wrong:
 * - ILLEGAL_CHARSET (字符集不合法): `_input_charset` is not utf-8 / gbk / gb2312;
 * - ILLEGAL_ENCODING: the bytes are not valid in the declared charset;
 * - ILLEGAL_SIGN_TYPE: `sign_type` is not upper-case MD5 / RSA / DSA;
 * - USER_REFUSED: the person pressed 拒绝 on the consent page. No Alipay source names this
 *   outcome (unconfirmed); the name says what happened.
 * - CALL_LIMITED: the partner went over GATEWAYDO_RATE_LIMIT calls per second. No Alipay
 *   source names MAPI's answer to that (unconfirmed); named after OpenAPI's 40005 Call Limited.
 */
export const MAPI_ERRORS = {
  BIND_ERROR_ACCOUNT_PROTECTED: '账户被保护',
  BIND_ERROR_NO_CERTIFIED: '未实名认证',
  ILLEGAL_PARTNER: '表示请求中的 partner 错误',
  ILLEGAL_SERVICE: '请求的接口信息不存在',
  ALREADY_NOT_EXIT_ACCOUNT: '账户未绑定',
  ILLEGAL_SIGN: '数字验签失败',
  BIND_ERROR_REPEAT: '重复提交',
  SYSTEM_ERROR: '支付宝系统错误',
  BIND_ERROR_GATEWAY: '网络网关错误',
  HAS_NO_PRIVILEGE: '无权访问该接口',
  SESSION_TIMEOUT: '连接超时错误',
  Q_USER_ERROR: 'Q 用户错误',
  ILLEGAL_ARGUMENT: '参数不正确',
  DATA_ERROR: '数据错误',
  BIND_ERROR_HAS_CERTIFIED: '账户已经绑定',
  ILLEGAL_CHARSET: '字符集不合法',
  ILLEGAL_ENCODING: '参数编码与字符集不符',
  ILLEGAL_SIGN_TYPE: '签名方式不正确',
  USER_REFUSED: '用户拒绝授权',
  CALL_LIMITED: '调用频率超限',
} as const;

export type MapiErrorCode = keyof typeof MAPI_ERRORS;

export function isMapiErrorCode(v: string): v is MapiErrorCode {
  return Object.hasOwn(MAPI_ERRORS, v);
}

/** A refusal with its code; `detail` says which parameter or check, `diagnosis` why a sign failed. */
export class MapiError extends Error {
  constructor(
    readonly code: MapiErrorCode,
    readonly detail?: string,
    readonly diagnosis?: Diagnosis,
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }
}
