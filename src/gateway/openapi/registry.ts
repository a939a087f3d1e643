import type { GatewayContext } from '../../context.ts';
import type { Db } from '../../storage/db.ts';
import type { App } from '../../storage/repositories/apps.ts';
import type { OpenApiError } from './codes.ts';
import { koubeiMemberDataOauthQuery } from '../../services/koubei.member.data.oauth.query.ts';
import { alipayUserAuthZhimaperInnerApply } from '../../services/alipay.user.auth.zhimaper.inner.apply.ts';
import { alipaySystemOauthToken } from '../../services/alipay.system.oauth.token.ts';

/**
 * The OpenAPI methods this gateway implements. Each is data plus one function: its
 * request-parameter table, mirroring its seed's 请求参数 table (the envelope checks
 * presence, type and length), its 业务错误码 table, and its handler.
 */
export interface FieldSpec {
  name: string;
  type: 'String';
  maxLength: number;
  required: boolean;
  /** The seed's own code for an absent or empty value (e.g. CERT_NO_IS_NULL). */
  onMissing?: OpenApiError;
}

export interface ServiceCall {
  /** The transaction the whole decision runs in. */
  db: Db;
  ctx: GatewayContext;
  app: App;
  /** Declared fields only, present and checked; absent optional fields are missing. */
  input: Record<string, string>;
  now: number;
}

export interface MethodSpec {
  method: string;
  /** Where the business params travel: in `biz_content`, or as top-level params (oauth.token). */
  input: 'biz_content' | 'params';
  fields: readonly FieldSpec[];
  /** The seed's 业务错误码 table, by code; fault rules naming one of these get its description. */
  errors: Readonly<Record<string, OpenApiError>>;
  /** The method's own code for a missing, overlong or mistyped field, where its seed has one. */
  invalidParameter?: OpenApiError;
  /** Errors answer in `error_response`, success without code/msg (alipay.system.oauth.token). */
  tokenStyle?: boolean;
  /** The business fields of a successful answer; throws OpenApiFailure for a business error. */
  handle(call: ServiceCall): Promise<Record<string, unknown>>;
}

const METHODS = new Map<string, MethodSpec>(
  [koubeiMemberDataOauthQuery, alipayUserAuthZhimaperInnerApply, alipaySystemOauthToken].map((m) => [m.method, m]),
);

export function findMethod(name: string): MethodSpec | undefined {
  return METHODS.get(name);
}

export function listMethods(): MethodSpec[] {
  return [...METHODS.values()];
}
