import { CharsetError, normalizeCharset, type Charset } from '../../crypto/charset.ts';
import { FormEncodingError, parseForm } from '../../crypto/form.ts';
import type { Params } from '../../crypto/sign-content.ts';
import type { GatewayRequest } from '../route.ts';
import { fail, gatewayError } from './codes.ts';

/**
 * The request's parameters: query string and form body merged (the Node SDK puts common
 * params in the query and biz_content in the body; Java sends app_auth_token in the body),
 * every value decoded in the request's `charset`.
 */
export interface RequestParams {
  params: Params;
  /** The same values as they arrived, still percent-encoded (for signature diagnosis). */
  rawParams: Params;
  charset: Charset;
}

/**
 * Lenient, never-throwing lookup of an ASCII parameter in a raw query/body string: what
 * URLSearchParams.get answers, decoding only the pieces that can hold the key rather than
 * the whole body (this runs on every call, before the charset is known).
 */
function peek(raw: string | undefined, key: string): string | undefined {
  if (!raw) return undefined;
  for (const piece of raw.split('&')) {
    const eq = piece.indexOf('=');
    const rawKey = eq === -1 ? piece : piece.slice(0, eq);
    if (rawKey !== key && !/[%+]/.test(rawKey)) continue;
    const value = new URLSearchParams(piece).get(key);
    if (value !== null) return value;
  }
  return undefined;
}

function formBody(req: GatewayRequest): string | undefined {
  if (!req.rawBody) return undefined;
  const type = req.contentType?.toLowerCase();
  // Bodies other than a form (multipart uploads, JSON) carry no signed text params we read.
  if (type !== undefined && !type.includes('application/x-www-form-urlencoded')) return undefined;
  return req.rawBody.toString('latin1');
}

/**
 * The charset the values are encoded in, as declared: in the query string (where
 * PROTOCOL.md says it belongs), else in the body; utf-8 when neither says.
 */
function declaredCharset(req: GatewayRequest, body = formBody(req)): Charset {
  const name = peek(req.rawQuery, 'charset') ?? peek(body, 'charset');
  if (name !== undefined && name.length > 10) throw new CharsetError(name, 'unknown');
  return normalizeCharset(name);
}

/** The charset to answer in, even when the declared one is unusable (then utf-8). */
export function requestCharset(req: GatewayRequest): Charset {
  try {
    return declaredCharset(req);
  } catch {
    return 'utf-8';
  }
}

/** app_id and method of a request whose values could not be decoded, to address the error. */
export function peekCaller(req: GatewayRequest): { app_id?: string; method?: string } {
  const body = formBody(req);
  return {
    app_id: peek(req.rawQuery, 'app_id') ?? peek(body, 'app_id'),
    method: peek(req.rawQuery, 'method') ?? peek(body, 'method'),
  };
}

/** Throws OpenApiFailure: 40002 isv.invalid-charset / isv.invalid-parameter. */
export function readParams(req: GatewayRequest): RequestParams {
  const body = formBody(req);
  let charset: Charset;
  try {
    charset = declaredCharset(req, body);
  } catch (err) {
    const name = (err as CharsetError).charset;
    return fail(gatewayError('isv.invalid-charset', undefined, `unsupported charset "${name}" (use utf-8, gbk, gb2312 or gb18030)`));
  }

  const params: Params = {};
  const rawParams: Params = {};
  for (const raw of [req.rawQuery, body]) {
    if (!raw) continue;
    for (const piece of raw.split('&')) {
      if (piece === '') continue;
      let pair: [string, string];
      try {
        [pair] = parseForm(piece, charset);
      } catch (err) {
        if (err instanceof CharsetError) {
          return fail(gatewayError(
            'isv.invalid-charset',
            `字符集错误，请确认各参数值使用charset参数指示的字符集(${charset})编码`,
            `the value of "${piece.split('=')[0]}" is not valid ${charset}`,
          ));
        }
        if (err instanceof FormEncodingError) {
          return fail(gatewayError('isv.invalid-parameter', '参数无效：URL编码格式错误', err.message));
        }
        throw err;
      }
      const [key, value] = pair;
      if (key === '') continue;
      if (Object.hasOwn(params, key)) {
        // Query and body may both carry a param (e.g. charset); only a conflict is an error.
        if (params[key] !== value) fail(gatewayError('isv.invalid-parameter', `参数无效：参数${key}重复出现且取值不同`));
        continue;
      }
      params[key] = value;
      const eq = piece.indexOf('=');
      rawParams[key] = eq === -1 ? '' : piece.slice(eq + 1);
    }
  }
  return { params, rawParams, charset };
}
