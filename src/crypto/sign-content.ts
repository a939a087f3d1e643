/**
 * Strings to sign, one builder per context (PROTOCOL.md §1 and §2). Each is pure:
 * sort keys in byte order, join raw `k=v` with `&`, no trailing `&`.
 */
export type Params = Record<string, string>;

function join(params: Params, exclude: readonly string[], dropEmpty: boolean): string {
  return Object.keys(params)
    .filter((k) => !exclude.includes(k) && !(dropEmpty && params[k] === ''))
    .sort(byteOrder)
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

/** Keys are ASCII in practice; compare code units so non-ASCII keys still sort deterministically. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * OpenAPI request: everything except `sign`; `sign_type` IS signed. Java drops empty
 * values, Node and Python keep `key=` — which one the real gateway uses is unconfirmed,
 * so the verifier tries both (`dropEmpty` false first, then true).
 */
export function openApiRequestContent(params: Params, dropEmpty: boolean): string {
  return join(params, ['sign'], dropEmpty);
}

/**
 * OpenAPI async notification: `sign` and `sign_type` excluded, empty values KEPT as `key=` —
 * what the SDKs check: Java's AlipaySignature.getSignCheckContentV1 (rsaCheckV1) appends
 * every remaining key, and the Node SDK's checkNotifySign filters empty keys, not empty
 * values (it tries with and then without sign_type, so excluding it verifies there too).
 * The notifier should still leave empty fields out: then every client variant agrees.
 */
export function openApiNotifyContent(params: Params): string {
  return join(params, ['sign', 'sign_type'], false);
}

/** MAPI request, return_url parameters and notification: `sign`, `sign_type` and empties dropped. */
export function mapiContent(params: Params): string {
  return join(params, ['sign', 'sign_type'], true);
}

/**
 * OpenAPI response: the signature covers the node's JSON text exactly as emitted. We build
 * the body from that same text, so what is signed is what is sent.
 */
export function openApiResponseBody(nodeName: string, nodeJson: string, sign: string | undefined): string {
  return sign === undefined
    ? `{"${nodeName}":${nodeJson}}`
    : `{"${nodeName}":${nodeJson},"sign":"${sign}"}`;
}
