import { constants, createHash, publicDecrypt } from 'node:crypto';
import { encode, type Charset } from './charset.ts';
import { parsePublicKey } from './keys.ts';
import { verifySync, type SignType } from './signature.ts';
import type { Params } from './sign-content.ts';

/**
 * Why a signature did not verify, for the request log and the console. For RSA the
 * signature itself tells a lot: "verify-recover" with the public key yields the client's
 * DigestInfo, so a padding failure proves a wrong key, the DigestInfo's algorithm proves
 * an RSA/RSA2 mix-up, and the digest can be matched against likely wrong strings.
 */
export type SignatureCause =
  | 'malformed_signature'
  | 'wrong_key'
  | 'sign_type_mismatch'
  | 'charset_mismatch'
  | 'url_encoded_values'
  | 'unsigned_parameter'
  | 'content_mismatch';

export interface Diagnosis {
  string_to_sign: string;
  charset: Charset;
  sign_type: SignType;
  cause: SignatureCause;
  detail: string;
}

export interface DiagnoseInput {
  params: Params;
  /** The same params with values as they arrived on the wire, still percent-encoded. */
  rawParams: Params;
  charset: Charset;
  signType: SignType;
  signature: string;
  /** Public key (RSA/DSA) or MD5 key the request was checked against. */
  key: string;
  build: (params: Params) => string;
}

// DER prefixes of DigestInfo for SHA-1 and SHA-256 (RFC 8017 §9.2 note 1).
const SHA1_PREFIX = Buffer.from('3021300906052b0e03021a05000414', 'hex');
const SHA256_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function recoverDigest(signature: string, key: string): { alg: 'sha1' | 'sha256' | 'other'; digest: Buffer } | null {
  try {
    const info = publicDecrypt(
      { key: parsePublicKey(key, 'rsa'), padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(signature, 'base64'),
    );
    if (info.subarray(0, SHA1_PREFIX.length).equals(SHA1_PREFIX)) return { alg: 'sha1', digest: info.subarray(SHA1_PREFIX.length) };
    if (info.subarray(0, SHA256_PREFIX.length).equals(SHA256_PREFIX)) return { alg: 'sha256', digest: info.subarray(SHA256_PREFIX.length) };
    return { alg: 'other', digest: info };
  } catch {
    return null;
  }
}

const OTHER_CHARSET: Record<Charset, Charset> = { 'utf-8': 'gbk', gbk: 'utf-8', gb2312: 'utf-8', gb18030: 'utf-8' };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** What an MD5 signature looks like: 32 hex digits (never the length of an RSA/DSA one). */
const MD5_SHAPE = /^[0-9a-fA-F]{32}$/;

/** SHA1withDSA output: DER SEQUENCE { INTEGER r, INTEGER s }, 46–72 bytes, short-form length. */
function looksLikeDsa(sig: Buffer): boolean {
  return sig.length >= 8 && sig.length < 130 && sig[0] === 0x30 && sig[1] === sig.length - 2 && sig[2] === 0x02;
}

/** RSA output is exactly the modulus length: 1024–4096-bit keys. */
function looksLikeRsa(sig: Buffer): boolean {
  return [128, 256, 384, 512].includes(sig.length) && !looksLikeDsa(sig);
}

export function diagnoseSignature(input: DiagnoseInput): Diagnosis {
  const { params, rawParams, charset, signType, signature, key, build } = input;
  const content = build(params);
  const result = (cause: SignatureCause, detail: string): Diagnosis => ({
    string_to_sign: content,
    charset,
    sign_type: signType,
    cause,
    detail,
  });
  const mismatch = (used: string) =>
    result('sign_type_mismatch', `sign值与sign_type参数指定的签名类型不一致: signed with ${used}, sign_type is ${signType}`);

  // The signature's shape tells MD5 (hex) from RSA/DSA (base64) before any key is involved.
  if (signType === 'MD5') {
    if (!MD5_SHAPE.test(signature)) {
      if (BASE64.test(signature)) {
        const raw = Buffer.from(signature, 'base64');
        if (looksLikeDsa(raw)) return mismatch('DSA');
        if (looksLikeRsa(raw)) return mismatch('RSA or RSA2');
      }
      return result('malformed_signature', 'MD5 签名应为 32 位十六进制字符串 (an MD5 sign is 32 hex digits)');
    }
  } else {
    if (MD5_SHAPE.test(signature)) return mismatch('MD5');
    if (!BASE64.test(signature)) {
      return result('malformed_signature', 'sign 不是合法的 base64 字符串 (sign is not valid base64; was it URL-encoded twice?)');
    }
  }

  // Candidate strings the client may have signed instead of ours, each with its cause.
  const otherCharset = OTHER_CHARSET[charset];
  const candidates: Array<[SignatureCause, Buffer, string]> = [
    ['charset_mismatch', encode(content, otherCharset), `签名按 ${otherCharset} 编码计算，但 charset 参数声明为 ${charset} (signed as ${otherCharset} bytes, declared ${charset})`],
    ['url_encoded_values', encode(build(rawParams), charset), '签名字符串中的参数值使用了 URL 编码 (values were URL-encoded before signing; sign raw values)'],
  ];
  for (const k of Object.keys(params)) {
    const without = { ...params };
    delete without[k];
    const shorter = build(without);
    // Skip what the string never contains (`sign`; `sign_type` for MAPI) — but an OpenAPI
    // client that left `sign_type` out of its string (notify-style) is caught here.
    if (shorter === content) continue;
    candidates.push(['unsigned_parameter', encode(shorter, charset), `参数 ${k} 未参与签名 (parameter "${k}" was sent but not signed)`]);
  }

  if (signType === 'RSA' || signType === 'RSA2') {
    const recovered = recoverDigest(signature, key);
    if (!recovered) {
      if (looksLikeDsa(Buffer.from(signature, 'base64'))) return mismatch('DSA');
      return result('wrong_key', '签名私钥与应用公钥不匹配 (the signature was not made with the private key matching the configured public key)');
    }
    const expectedAlg = signType === 'RSA2' ? 'sha256' : 'sha1';
    if (recovered.alg !== expectedAlg) {
      return mismatch(recovered.alg === 'sha1' ? 'RSA' : recovered.alg === 'sha256' ? 'RSA2' : 'an unknown digest');
    }
    for (const [cause, bytes, detail] of candidates) {
      if (createHash(expectedAlg).update(bytes).digest().equals(recovered.digest)) return result(cause, detail);
    }
    return result('content_mismatch', '密钥正确，但签名的字符串与网关生成的验签字符串不同 (key is right; the signed string differs from ours)');
  }

  if (signType === 'DSA' && looksLikeRsa(Buffer.from(signature, 'base64'))) return mismatch('RSA or RSA2');
  try {
    for (const [cause, bytes, detail] of candidates) {
      if (verifySync(signType, bytes, signature, key)) return result(cause, detail);
    }
  } catch {
    // verifySync throws only for an unusable configured key (e.g. an RSA key for DSA).
    return result('wrong_key', '配置的公钥不能用于该签名类型 (the configured key cannot verify this sign_type)');
  }
  return result(
    'content_mismatch',
    signType === 'MD5'
      ? 'MD5 签名不一致：检查签名字符串与 MD5 密钥 (string or MD5 key differs)'
      : 'DSA 签名无法验证：检查签名字符串与密钥 (string or key differs)',
  );
}
