import { encode, type Charset } from '../../crypto/charset.ts';
import { buildForm } from '../../crypto/form.ts';
import { mapiContent, type Params } from '../../crypto/sign-content.ts';
import { sign } from '../../crypto/signature.ts';
import type { Partner } from '../../storage/repositories/partners.ts';

/** MAPI's three signature types, upper case as the partner must send them. */
export const MAPI_SIGN_TYPES = ['MD5', 'RSA', 'DSA'] as const;
export type MapiSignType = (typeof MAPI_SIGN_TYPES)[number];

export function isMapiSignType(v: string | undefined): v is MapiSignType {
  return (MAPI_SIGN_TYPES as readonly (string | undefined)[]).includes(v);
}

/** What a partner's signature is checked with: its MD5 key or its RSA / DSA public key. */
export function partnerKey(partner: Partner, type: MapiSignType): string | null {
  return type === 'MD5' ? partner.md5_key : type === 'RSA' ? partner.rsa_public_key : partner.dsa_public_key;
}

/** What we sign for a partner with: the shared MD5 key, or our private key whose public half it holds. */
function platformKey(partner: Partner, type: MapiSignType): string {
  return type === 'MD5' ? partner.md5_key : type === 'RSA' ? partner.platform_rsa_private_key : partner.platform_dsa_private_key;
}

/** The fields plus `sign_type` and `sign`, signed over their bytes in the partner's charset. */
export async function signForPartner(partner: Partner, type: MapiSignType, charset: Charset, fields: Params): Promise<Params> {
  const signature = await sign(type, encode(mapiContent(fields), charset), platformKey(partner, type));
  return { ...fields, sign_type: type, sign: signature };
}

/**
 * `return_url` with the result appended to its query (values percent-encoded in the
 * partner's charset), before any `#fragment`. Characters a Location header cannot carry
 * are percent-encoded as UTF-8.
 */
export function returnLocation(returnUrl: string, params: Params, charset: Charset): string {
  const hash = returnUrl.indexOf('#');
  const base = hash === -1 ? returnUrl : returnUrl.slice(0, hash);
  const fragment = hash === -1 ? '' : returnUrl.slice(hash);
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  const headerSafe = (s: string) => s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
  return headerSafe(base) + sep + buildForm(params, charset) + headerSafe(fragment);
}
