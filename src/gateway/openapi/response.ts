import type { FastifyReply } from 'fastify';
import { decode, encode, type Charset } from '../../crypto/charset.ts';
import { openApiResponseBody } from '../../crypto/sign-content.ts';
import { sign } from '../../crypto/signature.ts';
import { gatewayMsg, type OpenApiError } from './codes.ts';
import type { OpenApiSignType } from './common-params.ts';

/**
 * The answer on the wire (PROTOCOL.md §Response): `{"<node>":{…},"sign":"…"}`, compact
 * JSON, the node first, the signature over the node's exact bytes in the request charset
 * made with the app's platform key; HTTP 200 always.
 */
export const ERROR_NODE = 'error_response';

export function methodNode(method: string): string {
  return `${method.replaceAll('.', '_')}_response`;
}

export function successNode(fields: Record<string, unknown>, bare = false): Record<string, unknown> {
  return bare ? fields : { code: '10000', msg: 'Success', ...fields };
}

export function errorNode(error: OpenApiError): Record<string, unknown> {
  return { code: error.code, msg: gatewayMsg(error.code), sub_code: error.sub_code, sub_msg: error.sub_msg };
}

export interface Signer {
  signType: OpenApiSignType;
  privateKey: string;
}

export interface RenderedAnswer {
  /** The body as text (what the client decodes), and as the bytes we send. */
  text: string;
  bytes: Buffer;
  charset: Charset;
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * JSON text every byte of which survives the charset: characters GBK/GB2312 cannot encode
 * become \u escapes instead of "?", so what we sign is what the client decodes.
 */
function jsonFor(value: unknown, charset: Charset): string {
  const json = JSON.stringify(value);
  if (charset === 'utf-8' || charset === 'gb18030' || ASCII.test(json)) return json;
  return json.replace(/[^\x00-\x7f]/gu, (ch) => {
    if (decodesBack(ch, charset)) return ch;
    let out = '';
    for (let i = 0; i < ch.length; i++) out += '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0');
    return out;
  });
}

function decodesBack(ch: string, charset: Charset): boolean {
  try {
    return decode(encode(ch, charset), charset) === ch;
  } catch {
    return false;
  }
}

/**
 * Builds (and, given a signer, signs) an answer. The node's name must not recur later in
 * the body (the Java SDK rejects that), so a value containing it gets its first letter escaped.
 */
export async function renderAnswer(name: string, node: Record<string, unknown>, charset: Charset, signer?: Signer): Promise<RenderedAnswer> {
  const nodeJson = jsonFor(node, charset).replaceAll(name, `\\u${name.charCodeAt(0).toString(16).padStart(4, '0')}${name.slice(1)}`);
  const signature = signer && (await sign(signer.signType, encode(nodeJson, charset), signer.privateKey));
  const text = openApiResponseBody(name, nodeJson, signature);
  return { text, bytes: encode(text, charset), charset };
}

export function sendAnswer(reply: FastifyReply, answer: RenderedAnswer, traceId: string): FastifyReply {
  return reply
    .code(200)
    .header('content-type', `application/json;charset=${answer.charset}`)
    .header('trace_id', traceId)
    .send(answer.bytes);
}
