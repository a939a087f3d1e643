/**
 * The one catalogue of OpenAPI gateway codes and common sub-codes (PROTOCOL.md §Gateway
 * codes). Errors are values with Alipay's names; a service's own business codes are made
 * with `businessError` (code 40004, the seed's code and description as written).
 */
export const GATEWAY_CODES = {
  '10000': 'Success',
  '20000': 'Service Currently Unavailable',
  '20001': 'Insufficient Token Permissions',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40003': 'Insufficient Conditions',
  '40004': 'Business Failed',
  // Wording unconfirmed (PROTOCOL.md); "Call Limited" is what Alipay's docs list for 40005.
  '40005': 'Call Limited',
  '40006': 'Insufficient Permissions',
} as const;

export type GatewayCode = keyof typeof GATEWAY_CODES;

export function isGatewayCode(code: string): code is GatewayCode {
  return Object.hasOwn(GATEWAY_CODES, code);
}

/** Common sub-codes: [gateway code, Alipay's sub_msg]. */
const COMMON_SUB_CODES = {
  'isp.unknow-error': ['20000', '系统繁忙'],
  'aop.unknow-error': ['20000', '系统繁忙'],
  'aop.invalid-auth-token': ['20001', '无效的访问令牌'],
  'aop.auth-token-time-out': ['20001', '访问令牌已过期'],
  'aop.invalid-app-auth-token': ['20001', '无效的应用授权令牌'],
  'aop.app-auth-token-time-out': ['20001', '应用授权令牌已过期'],
  'aop.invalid-app-auth-token-no-api': ['20001', '商户未授权当前接口'],
  'isv.missing-method': ['40001', '缺少方法名参数'],
  'isv.missing-signature': ['40001', '缺少签名参数'],
  'isv.missing-signature-type': ['40001', '缺少签名类型参数'],
  'isv.missing-app-id': ['40001', '缺少AppID参数'],
  'isv.missing-timestamp': ['40001', '缺少时间戳参数'],
  'isv.missing-version': ['40001', '缺少版本参数'],
  'isv.decryption-error-missing-encrypt-type': ['40001', '解密出错, 未指定加密算法'],
  'isv.invalid-parameter': ['40002', '参数无效'],
  'isv.invalid-method': ['40002', '不存在的方法名'],
  'isv.invalid-format': ['40002', '无效的数据格式'],
  'isv.invalid-signature-type': ['40002', '无效的签名类型'],
  'isv.invalid-signature': ['40002', '验签出错'],
  'isv.invalid-encrypt-type': ['40002', '无效的加密类型'],
  'isv.invalid-encrypt': ['40002', '解密异常'],
  'isv.invalid-app-id': ['40002', '无效的AppID参数'],
  'isv.invalid-timestamp': ['40002', '非法的时间戳参数'],
  'isv.invalid-charset': ['40002', '字符集错误'],
  'isv.missing-signature-config': ['40002', '应用未配置对应签名算法的公钥或者证书'],
  'isv.not-support-app-auth': ['40002', '本接口不支持第三方代理调用'],
  'isv.code-invalid': ['40002', '授权码code无效'],
  // alipay.system.oauth.token's own (its API reference lists them under 40002).
  'isv.grant-type-invalid': ['40002', 'grant_type参数不正确'],
  'isv.refresh-token-invalid': ['40002', '刷新令牌refresh_token无效'],
  'isv.refresh-token-time-out': ['40002', '刷新令牌refresh_token过期'],
  'isv.unmatched-app-id': ['40002', '调用接口的应用标识(app_id)与令牌授权的应用不相符'],
  'isv.decryption-error-unknown': ['40003', '解密出错, 未知错误'],
  'isv.app-call-limited': ['40005', '应用调用次数超限'],
  'isv.method-call-limited': ['40005', '方法调用次数超限'],
  'isv.insufficient-isv-permissions': ['40006', 'ISV权限不足，建议在开发者中心检查对应功能是否已经添加'],
  'isv.insufficient-user-permissions': ['40006', '用户权限不足'],
} as const satisfies Record<string, readonly [GatewayCode, string]>;

export type SubCode = keyof typeof COMMON_SUB_CODES;

export function isCommonSubCode(subCode: string): subCode is SubCode {
  return Object.hasOwn(COMMON_SUB_CODES, subCode);
}

/** A failed answer: what goes into the node, plus an explanation for the request log only. */
export interface OpenApiError {
  /** A GatewayCode; any 5-digit code only when a fault rule asks for one. */
  code: string;
  sub_code: string;
  sub_msg: string;
  /** Why, in a developer's words; kept in the request log, never sent. */
  detail?: string;
}

/** A common sub-code with Alipay's sub_msg, or a more specific one. */
export function gatewayError(subCode: SubCode, subMsg?: string, detail?: string): OpenApiError {
  const [code, msg] = COMMON_SUB_CODES[subCode];
  return { code, sub_code: subCode, sub_msg: subMsg ?? msg, ...(detail !== undefined && { detail }) };
}

/** A method's own business code (40004): the seed's code and description as written. */
export function businessError(subCode: string, subMsg: string): OpenApiError {
  return { code: '40004', sub_code: subCode, sub_msg: subMsg };
}

/** A catalogue entry with a developer-facing explanation attached (not sent to the client). */
export function explained(error: OpenApiError, detail: string): OpenApiError {
  return { ...error, detail };
}

/**
 * Thrown by services and envelope steps to end a request with an error; inside the
 * service's transaction it also rolls back whatever the handler wrote.
 */
export class OpenApiFailure extends Error {
  constructor(readonly error: OpenApiError) {
    super(`${error.code} ${error.sub_code}`);
  }
}

export function fail(error: OpenApiError): never {
  throw new OpenApiFailure(error);
}

export function gatewayMsg(code: string): string {
  return isGatewayCode(code) ? GATEWAY_CODES[code] : 'Unknown Error';
}

/** The first catalogued sub-code of a gateway code (a fault rule that names only a code). */
export function commonSubCodeFor(code: string): SubCode | undefined {
  return (Object.keys(COMMON_SUB_CODES) as SubCode[]).find((s) => COMMON_SUB_CODES[s][0] === code);
}
