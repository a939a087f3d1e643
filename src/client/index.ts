/**
 * `gatewaydo/client`: what an ISV's code does against gatewaydo (or Alipay), small and typed.
 * MAPI: sign sns.account.bind as a URL or a self-submitting form, verify return_url and
 * notifications, ask notify_verify. OpenAPI: the two methods, signed and verified.
 */
export {
  mapiForm,
  mapiUrl,
  notifyVerify,
  signMapiRequest,
  snsAccountBind,
  verifyMapiParams,
  verifyNotification,
  verifyReturn,
  type MapiCharset,
  type MapiOptions,
  type MapiPartner,
  type MapiSignType,
  type MapiVerified,
  type SnsAccountBindParams,
} from './mapi.ts';
export {
  callOpenApi,
  koubeiMemberDataOauthQuery,
  ResponseSignatureError,
  zhimaperInnerApply,
  type KoubeiMemberDataOauthQuery,
  type OpenApiApp,
  type OpenApiOptions,
  type OpenApiResult,
  type ZhimaperInnerApply,
} from './openapi.ts';
