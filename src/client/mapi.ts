import { CharsetError, encode } from '../crypto/charset.ts';
import { FormEncodingError, buildForm, parseForm } from '../crypto/form.ts';
import { mapiContent, type Params } from '../crypto/sign-content.ts';
import { signSync, verifySync } from '../crypto/signature.ts';
import { html } from '../pages/html.ts';

/**
 * The ISV's side of the legacy MAPI gateway, as the old PHP/Java demos do it: sign a page
 * request (sns.account.bind), send the browser there by URL or auto-submitting form, and
 * check what comes back on return_url and notify_url (then ask notify_verify).
 */
export type MapiSignType = 'MD5' | 'RSA' | 'DSA';
export type MapiCharset = 'utf-8' | 'gbk';

/** A partner's credentials, in the shape of `gw.sandbox.partner` (GET /admin/api/sandbox). */
export interface MapiPartner {
  partner: string;
  md5_key?: string;
  rsa_private_key?: string | null;
  dsa_private_key?: string | null;
  alipay_rsa_public_key?: string;
  alipay_dsa_public_key?: string;
}

export interface MapiOptions {
  /** Default MD5. */
  signType?: MapiSignType;
  /** `_input_charset`; default utf-8. */
  charset?: MapiCharset;
}

/** sns.account.bind's business parameters (seed §3). */
export interface SnsAccountBindParams {
  return_url: string;
  notify_url: string;
  sns_user_id: string;
  sns_user_name: string;
  type: 'seller' | 'buyer' | 'common';
}

function signingKey(partner: MapiPartner, type: MapiSignType): string {
  const key = type === 'MD5' ? partner.md5_key : type === 'RSA' ? partner.rsa_private_key : partner.dsa_private_key;
  if (!key) throw new Error(`partner ${partner.partner} has no ${type === 'MD5' ? 'md5_key' : `${type.toLowerCase()}_private_key`}`);
  return key;
}

function verifyingKey(partner: MapiPartner, type: string): string | undefined {
  return type === 'MD5' ? partner.md5_key : type === 'RSA' ? partner.alipay_rsa_public_key : type === 'DSA' ? partner.alipay_dsa_public_key : undefined;
}

/** A request to a MAPI service: service, partner and `_input_charset` added, then signed. */
export function signMapiRequest(partner: MapiPartner, service: string, params: Record<string, string>, opts: MapiOptions = {}): Params {
  const signType = opts.signType ?? 'MD5';
  const charset = opts.charset ?? 'utf-8';
  const all: Params = { service, partner: partner.partner, _input_charset: charset, ...params };
  return { ...all, sign: signSync(signType, encode(mapiContent(all), charset), signingKey(partner, signType)), sign_type: signType };
}

/** A signed sns.account.bind request (pass it to mapiUrl or mapiForm). */
export function snsAccountBind(partner: MapiPartner, params: SnsAccountBindParams, opts: MapiOptions = {}): Params {
  return signMapiRequest(partner, 'sns.account.bind', { ...params }, opts);
}

function charsetOf(signed: Params): MapiCharset {
  return signed._input_charset === 'gbk' ? 'gbk' : 'utf-8';
}

/** The page URL to send the browser to: every parameter in the query, encoded in `_input_charset`. */
export function mapiUrl(gatewayUrl: string, signed: Params): string {
  return `${gatewayUrl}?${buildForm(signed, charsetOf(signed))}`;
}

/**
 * An HTML page whose form submits itself to the gateway, as the demos' buildRequestForm:
 * `_input_charset` stays in the action's query (where the gateway reads it) and the
 * browser encodes the fields in that charset (accept-charset).
 */
export function mapiForm(gatewayUrl: string, signed: Params, method: 'GET' | 'POST' = 'POST'): string {
  const charset = charsetOf(signed);
  const fields = Object.entries(signed).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return html`<!doctype html>
<html><head><meta charset="utf-8"><title>正在跳转到支付宝</title></head><body>
<form id="alipaysubmit" name="alipaysubmit" action="${gatewayUrl}?_input_charset=${charset}" method="${method}" accept-charset="${charset}">${fields}<button type="submit">继续</button></form>
<script>document.forms.alipaysubmit.submit();</script>
</body></html>`.value;
}

export interface MapiVerified {
  /** The signature is the gateway's, over exactly these parameters. */
  valid: boolean;
  params: Params;
}

/** Checks what the gateway signed: MD5 with the shared key, RSA/DSA with its public keys. */
export function verifyMapiParams(partner: MapiPartner, params: Params, charset: MapiCharset = 'utf-8'): boolean {
  const key = verifyingKey(partner, params.sign_type ?? '');
  if (!key || !params.sign) return false;
  try {
    return verifySync(params.sign_type as MapiSignType, encode(mapiContent(params), charset), params.sign, key);
  } catch {
    return false;
  }
}

/** Decodes a raw form / query (as received: percent-escapes are bytes in the charset). */
function decodeForm(raw: string | Buffer, charset: MapiCharset): Params | undefined {
  const latin1 = Buffer.isBuffer(raw) ? raw.toString('latin1') : Buffer.from(raw, 'utf8').toString('latin1');
  try {
    return Object.fromEntries(parseForm(latin1, charset));
  } catch (err) {
    if (err instanceof FormEncodingError || err instanceof CharsetError) return undefined;
    throw err;
  }
}

function verifiedForm(partner: MapiPartner, raw: string | Buffer, charset: MapiCharset): MapiVerified {
  const params = decodeForm(raw, charset);
  return params ? { valid: verifyMapiParams(partner, params, charset), params } : { valid: false, params: {} };
}

/** The browser's arrival at return_url: pass the URL (or just its query) it came with. */
export function verifyReturn(partner: MapiPartner, url: string, charset: MapiCharset = 'utf-8'): MapiVerified {
  const withoutFragment = url.split('#')[0];
  const q = withoutFragment.indexOf('?');
  return verifiedForm(partner, q === -1 ? withoutFragment : withoutFragment.slice(q + 1), charset);
}

/** A notification POSTed to notify_url: pass the raw body. Answer `success` once it is handled. */
export function verifyNotification(partner: MapiPartner, body: string | Buffer, charset: MapiCharset = 'utf-8'): MapiVerified {
  return verifiedForm(partner, body, charset);
}

/** `notify_verify`: did the gateway send this notify_id to this partner (recently)? */
export async function notifyVerify(gatewayUrl: string, partner: Pick<MapiPartner, 'partner'>, notifyId: string): Promise<'true' | 'false' | 'invalid'> {
  const res = await fetch(`${gatewayUrl}?${buildForm({ service: 'notify_verify', partner: partner.partner, notify_id: notifyId }, 'utf-8')}`);
  const answer = (await res.text()).trim();
  if (answer !== 'true' && answer !== 'false' && answer !== 'invalid') throw new Error(`notify_verify answered HTTP ${res.status}: ${answer.slice(0, 80)}`);
  return answer;
}
