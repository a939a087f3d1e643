import type { GatewayContext } from '../../context.ts';
import { CharsetError, encode, normalizeCharset, type Charset } from '../../crypto/charset.ts';
import { diagnoseSignature, type Diagnosis } from '../../crypto/diagnose.ts';
import { FormEncodingError, parseForm } from '../../crypto/form.ts';
import { mapiContent, type Params } from '../../crypto/sign-content.ts';
import { verify } from '../../crypto/signature.ts';
import { findCachedPartner, type Partner } from '../../storage/repositories/partners.ts';
import { MapiError } from './errors.ts';
import { ENVELOPE_PARAMS, checkParams } from './params.ts';
import type { MapiRequest, MapiService } from './service.ts';
import { isMapiSignType, partnerKey, type MapiSignType } from './signing.ts';
import { limitPartner } from '../rate-limit.ts';

/** The bytes of a MAPI request as the gateway route received them. */
export interface MapiInput {
  httpMethod: string;
  /** After `?`, one char per byte. */
  rawQuery: string;
  rawBody: Buffer | null;
  contentType: string | undefined;
  /** Why the body could not be read; the request is refused with ILLEGAL_ARGUMENT. */
  bodyError?: string;
}

export interface ParsedMapi {
  charset: Charset;
  /** Query and form body merged, decoded in the charset. */
  params: Params;
  /** The same, values as they arrived (still percent-encoded), for the signature diagnosis. */
  rawParams: Params;
}

/** The charsets MAPI speaks (seed: `_input_charset` String(6); old integrations send GBK). */
const MAPI_CHARSETS: readonly Charset[] = ['utf-8', 'gbk', 'gb2312'];

/** `k=v` pairs of a raw query or form, undecoded. */
export function rawPairs(raw: string): Array<[string, string]> {
  return raw
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq === -1 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    });
}

/** `_input_charset` must be read before anything can be decoded; it is ASCII, in the query string. */
function declaredCharset(rawQuery: string): { declared: string | undefined; charset: Charset } {
  const raw = rawPairs(rawQuery).find(([k]) => k === '_input_charset')?.[1];
  let declared: string | undefined;
  try {
    declared = raw === undefined ? undefined : decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new MapiError('ILLEGAL_CHARSET', '_input_charset 的编码不正确');
  }
  try {
    const charset = normalizeCharset(declared);
    if (!MAPI_CHARSETS.includes(charset)) throw new CharsetError(declared ?? '', 'unknown');
    return { declared, charset };
  } catch (err) {
    if (err instanceof CharsetError) throw new MapiError('ILLEGAL_CHARSET', `不支持的字符集 ${declared}，请使用 utf-8 或 gbk`);
    throw err;
  }
}

function decodePairs(raw: string, charset: Charset): Array<[string, string]> {
  try {
    return parseForm(raw, charset);
  } catch (err) {
    if (err instanceof CharsetError) throw new MapiError('ILLEGAL_ENCODING', `参数不是合法的 ${charset} 编码`);
    if (err instanceof FormEncodingError) throw new MapiError('ILLEGAL_ARGUMENT', `参数的 URL 编码不正确: ${err.message}`);
    throw err;
  }
}

function isForm(contentType: string | undefined): boolean {
  return contentType === undefined || contentType.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** Decodes query + form body in `_input_charset`; a key given twice must carry one value. */
export function readMapiRequest(input: MapiInput): ParsedMapi {
  const { declared, charset } = declaredCharset(input.rawQuery);
  const sources = [input.rawQuery];
  if (input.rawBody && isForm(input.contentType)) sources.push(input.rawBody.toString('latin1'));
  const params: Params = {};
  const rawParams: Params = {};
  for (const source of sources) {
    const decoded = decodePairs(source, charset);
    const raw = rawPairs(source);
    decoded.forEach(([k, v], i) => {
      if (Object.hasOwn(params, k) && params[k] !== v) throw new MapiError('ILLEGAL_ARGUMENT', `参数 ${k} 出现多次且取值不同`);
      params[k] = v;
      rawParams[k] = raw[i][1];
    });
  }
  if (declared === undefined && params._input_charset !== undefined) {
    throw new MapiError('ILLEGAL_ARGUMENT', '_input_charset 必须在 URL 查询字符串中传递');
  }
  return { charset, params, rawParams };
}

async function verifySignature(partner: Partner, signType: MapiSignType, parsed: ParsedMapi): Promise<void> {
  const { params, rawParams, charset } = parsed;
  const key = partnerKey(partner, signType);
  const content = mapiContent(params);
  if (key === null) {
    const detail = `合作伙伴没有配置 ${signType} 公钥`;
    const diagnosis: Diagnosis = { string_to_sign: content, charset, sign_type: signType, cause: 'wrong_key', detail };
    throw new MapiError('ILLEGAL_SIGN', detail, diagnosis);
  }
  // A configured key that cannot be used (KeyError) fails the same way as a wrong signature.
  const ok = await verify(signType, encode(content, charset), params.sign, key).catch(() => false);
  if (ok) return;
  let diagnosis: Diagnosis | undefined;
  try {
    diagnosis = diagnoseSignature({ params, rawParams, charset, signType, signature: params.sign, key, build: mapiContent });
  } catch {
    // The diagnosis is an aid; without it the answer is still ILLEGAL_SIGN.
  }
  throw new MapiError('ILLEGAL_SIGN', diagnosis?.detail, diagnosis);
}

/**
 * The envelope checks in the order a caller can fix them: partner, basic parameters,
 * sign_type, signature, privilege, then the service's own parameters.
 */
export async function authenticate(ctx: GatewayContext, parsed: ParsedMapi, service: MapiService): Promise<MapiRequest> {
  const { params } = parsed;
  const partner = params.partner ? await findCachedPartner(ctx.db, params.partner) : undefined;
  if (!partner) throw new MapiError('ILLEGAL_PARTNER', params.partner ? `合作伙伴 ${params.partner} 不存在` : '缺少参数 partner');
  checkParams(ENVELOPE_PARAMS, params);
  const signType = params.sign_type;
  if (!isMapiSignType(signType)) throw new MapiError('ILLEGAL_SIGN_TYPE', `sign_type 必须是大写的 MD5 / RSA / DSA，收到 ${signType}`);
  await verifySignature(partner, signType, parsed);
  limitPartner(ctx, partner.partner);
  if (!partner.services.includes(service.name)) throw new MapiError('HAS_NO_PRIVILEGE', `合作伙伴未开通 ${service.name}`);
  checkParams(service.params, params, partner.allowed_domains);
  return { service: service.name, partner, charset: parsed.charset, signType, params };
}
