import { decode, encode, type Charset } from '../crypto/charset.ts';
import { buildForm } from '../crypto/form.ts';
import { openApiRequestContent, type Params } from '../crypto/sign-content.ts';
import { signSync, verifySync } from '../crypto/signature.ts';
import { beijingTime } from '../domain/ids.ts';

/**
 * Typed calls to the OpenAPI methods, made the way the official SDKs make them: common
 * parameters in the query, `biz_content` in the form body, signed RSA2 (or RSA); the
 * answer's signature checked over the exact bytes of its response node.
 */

/** An app's credentials, in the shape of `gw.sandbox.app` (GET /admin/api/sandbox). */
export interface OpenApiApp {
  app_id: string;
  app_private_key: string | null;
  alipay_public_key: string;
  sign_type?: string;
}

export interface OpenApiOptions {
  /** Default: the app's sign_type, else RSA2. */
  signType?: 'RSA2' | 'RSA';
  /** Default utf-8. */
  charset?: 'utf-8' | 'gbk';
}

/** The response node: `ok` is ours (code 10000); everything else is the node as sent. */
export type OpenApiResult<T> =
  | ({ ok: true; code: '10000'; msg: string } & T)
  | { ok: false; code: string; msg: string; sub_code?: string; sub_msg?: string };

/** The answer's signature did not verify (or a success came unsigned): do not trust it. */
export class ResponseSignatureError extends Error {}

export interface KoubeiMemberDataOauthQuery {
  operator_id: string;
  operator_type: 'PROVIDER' | 'PROVIDER_STAFF' | 'MER' | 'MER_STAFF' | 'SALES';
  operator_partner_id?: string;
  ext_info?: string;
  shop_ids?: string[];
}

export interface ZhimaperInnerApply {
  access_token: string;
  refresh_token: string;
  expires_in?: number;
  re_expires_in?: number;
  /** `permanent`: the tokens never expire. */
  auth_token_type?: string;
}

const QUERY_KEYS = new Set(['app_id', 'method', 'format', 'charset', 'sign_type', 'sign', 'timestamp', 'version']);

/** The node's exact bytes: after `{"<node>":`, up to the last `,"sign":"`. */
function nodeBytes(body: Buffer, nodeName: string): Buffer | undefined {
  const prefix = Buffer.from(`{"${nodeName}":`, 'latin1');
  const end = body.lastIndexOf(Buffer.from(',"sign":"', 'latin1'));
  return body.subarray(0, prefix.length).equals(prefix) && end > prefix.length ? body.subarray(prefix.length, end) : undefined;
}

/** Any OpenAPI method: biz_content in, the verified response node out. */
export async function callOpenApi<T>(gatewayUrl: string, app: OpenApiApp, method: string, bizContent: object, opts: OpenApiOptions = {}): Promise<OpenApiResult<T>> {
  if (!app.app_private_key) throw new Error(`app ${app.app_id} has no app_private_key to sign with`);
  const signType = opts.signType ?? (app.sign_type === 'RSA' ? 'RSA' : 'RSA2');
  const charset: Charset = opts.charset ?? 'utf-8';
  const params: Params = {
    app_id: app.app_id,
    method,
    format: 'JSON',
    charset,
    sign_type: signType,
    timestamp: beijingTime(),
    version: '1.0',
    biz_content: JSON.stringify(bizContent),
  };
  params.sign = signSync(signType, encode(openApiRequestContent(params, false), charset), app.app_private_key);
  const query: Params = {};
  const form: Params = {};
  for (const [k, v] of Object.entries(params)) (QUERY_KEYS.has(k) ? query : form)[k] = v;
  const res = await fetch(`${gatewayUrl}?${buildForm(query, charset)}`, {
    method: 'POST',
    headers: { 'content-type': `application/x-www-form-urlencoded;charset=${charset}` },
    body: buildForm(form, charset),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const declared = /charset=([\w-]+)/i.exec(res.headers.get('content-type') ?? '')?.[1]?.toLowerCase() === 'gbk' ? 'gbk' : 'utf-8';
  const parsed = JSON.parse(decode(body, declared)) as Record<string, unknown>;
  const nodeName = `${method.replaceAll('.', '_')}_response` in parsed ? `${method.replaceAll('.', '_')}_response` : 'error_response';
  const node = parsed[nodeName] as { code?: string; msg?: string } | undefined;
  if (!node || typeof node !== 'object') throw new Error(`unexpected answer (HTTP ${res.status}): ${decode(body, declared).slice(0, 200)}`);
  const signed = nodeBytes(body, nodeName);
  if (typeof parsed.sign === 'string' && signed) {
    if (!verifySync(signType, signed, parsed.sign, app.alipay_public_key)) throw new ResponseSignatureError(`the ${nodeName} signature does not verify with the app's alipay_public_key`);
  } else if (node.code === '10000') {
    throw new ResponseSignatureError(`the ${nodeName} is unsigned`);
  }
  return { ok: node.code === '10000', ...node } as OpenApiResult<T>;
}

/** koubei.member.data.oauth.query: who the operator behind a Koubei portal `code` is. */
export function koubeiMemberDataOauthQuery(
  gatewayUrl: string,
  app: OpenApiApp,
  biz: { code: string; auth_type?: 'pay_member'; ext_info?: string },
  opts?: OpenApiOptions,
): Promise<OpenApiResult<KoubeiMemberDataOauthQuery>> {
  return callOpenApi(gatewayUrl, app, 'koubei.member.data.oauth.query', { auth_type: 'pay_member', ...biz }, opts);
}

/** alipay.user.auth.zhimaper.inner.apply: Zhima authorization for a certified member's identity. */
export function zhimaperInnerApply(
  gatewayUrl: string,
  app: OpenApiApp,
  biz: { name: string; cert_no: string; mobile: string; cert_type?: string; linked_merchant_id?: string },
  opts?: OpenApiOptions,
): Promise<OpenApiResult<ZhimaperInnerApply>> {
  return callOpenApi(gatewayUrl, app, 'alipay.user.auth.zhimaper.inner.apply', { cert_type: 'IDENTITY_CARD', ...biz }, opts);
}
