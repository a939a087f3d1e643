import { decode, encode, normalizeCharset, type Charset } from '../../src/crypto/charset.ts';
import { buildForm } from '../../src/crypto/form.ts';
import { openApiRequestContent, type Params } from '../../src/crypto/sign-content.ts';
import { signSync, verifySync } from '../../src/crypto/signature.ts';
import { beijingTime } from '../../src/domain/ids.ts';

/**
 * A hand-built OpenAPI client, as the Java SDK behaves (Beijing-time timestamp, empty values
 * left out, any charset), for the requests the Node SDK cannot make: GBK, tampered or
 * malformed ones. Common params go in the query string, the rest in the form body.
 */
export interface Caller {
  app_id: string;
  privateKey: string;
  signType?: 'RSA2' | 'RSA';
}

const QUERY_KEYS = ['app_id', 'method', 'format', 'charset', 'sign_type', 'sign', 'timestamp', 'version', 'app_auth_token', 'auth_token'];

/** The signed params of a call; `params` override or add to the common ones (undefined removes). */
export function signedParams(
  caller: Caller,
  method: string,
  params: Record<string, string | undefined> = {},
  charset = 'utf-8',
  { dropEmpty = true }: { dropEmpty?: boolean } = {},
): Params {
  const all: Record<string, string | undefined> = {
    app_id: caller.app_id,
    method,
    format: 'JSON',
    charset,
    sign_type: caller.signType ?? 'RSA2',
    timestamp: beijingTime(),
    version: '1.0',
    ...params,
  };
  const defined = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Params;
  const content = encode(openApiRequestContent(defined, dropEmpty), normalizeCharset(charset));
  return { ...defined, sign: signSync(caller.signType ?? 'RSA2', content, caller.privateKey) };
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
  json: any;
}

/** POSTs params (common ones in the query, the rest as a form body) percent-encoded in the charset. */
export async function post(gatewayUrl: string, params: Params, charset: Charset = 'utf-8'): Promise<RawAnswer> {
  const query: Params = {};
  const body: Params = {};
  for (const [k, v] of Object.entries(params)) (QUERY_KEYS.includes(k) ? query : body)[k] = v;
  return send(`${gatewayUrl}?${buildForm(query, charset)}`, buildForm(body, charset), charset);
}

/** Sends an exact query string and body (for malformed requests). */
export async function send(url: string, body: string | Buffer, charset: Charset = 'utf-8'): Promise<RawAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': `application/x-www-form-urlencoded;charset=${charset}` },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const declared = /charset=([\w-]+)/.exec(res.headers.get('content-type') ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  const text = decode(bytes, declared as Charset);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, text, json };
}

/**
 * Checks an answer's signature as a strict client would: over the node's exact bytes as
 * received (from the byte after `"<node>":` to the byte before `,"sign":"`).
 */
export function signatureValid(answer: RawAnswer, nodeName: string, platformPublicKey: string, signType: 'RSA2' | 'RSA' = 'RSA2'): boolean {
  const prefix = Buffer.from(`{"${nodeName}":`, 'latin1');
  if (!answer.bytes.subarray(0, prefix.length).equals(prefix)) return false;
  const end = answer.bytes.lastIndexOf(Buffer.from(',"sign":"', 'latin1'));
  if (end === -1 || typeof answer.json?.sign !== 'string') return false;
  return verifySync(signType, answer.bytes.subarray(prefix.length, end), answer.json.sign, platformPublicKey);
}

export function methodNode(method: string): string {
  return `${method.replaceAll('.', '_')}_response`;
}
