import { createHash, sign as cryptoSign, verify as cryptoVerify, timingSafeEqual } from 'node:crypto';
import { parsePrivateKey, parsePublicKey } from './keys.ts';

/**
 * The four signature types of PROTOCOL.md. MD5 is md5(content + key) in lower-case hex;
 * RSA = SHA1withRSA, RSA2 = SHA256withRSA, DSA = SHA1withDSA, all PKCS#1 v1.5 / DER, base64.
 * RSA and DSA run on libuv's thread pool (callback form) so signing uses every core.
 */
export type SignType = 'MD5' | 'RSA' | 'RSA2' | 'DSA';

export const SIGN_TYPES: readonly SignType[] = ['MD5', 'RSA', 'RSA2', 'DSA'];

const DIGEST: Record<Exclude<SignType, 'MD5'>, string> = { RSA: 'sha1', RSA2: 'sha256', DSA: 'sha1' };
const KIND = { RSA: 'rsa', RSA2: 'rsa', DSA: 'dsa' } as const;

export function isSignType(v: string): v is SignType {
  return (SIGN_TYPES as readonly string[]).includes(v);
}

function md5Hex(content: Buffer, key: string): string {
  return createHash('md5').update(content).update(key, 'utf8').digest('hex');
}

/** `secret` is the MD5 key for MD5, a private key (any accepted form) otherwise. */
export function sign(type: SignType, content: Buffer, secret: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (type === 'MD5') return resolve(md5Hex(content, secret));
    // Inside the executor, so a KeyError becomes a rejection, never a synchronous throw.
    const key = parsePrivateKey(secret, KIND[type]);
    cryptoSign(DIGEST[type], content, key, (err, sig) => (err ? reject(err) : resolve(sig.toString('base64'))));
  });
}

/** Synchronous form for places off the hot path (client helpers, tests). */
export function signSync(type: SignType, content: Buffer, secret: string): string {
  if (type === 'MD5') return md5Hex(content, secret);
  return cryptoSign(DIGEST[type], content, parsePrivateKey(secret, KIND[type])).toString('base64');
}

/** Constant-time: the MD5 key is a shared secret. */
function md5Matches(content: Buffer, signature: string, key: string): boolean {
  const expected = Buffer.from(md5Hex(content, key), 'latin1');
  const given = Buffer.from(signature.toLowerCase(), 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `secret` is the MD5 key for MD5, a public key otherwise. A malformed signature is
 * simply "does not verify"; it never throws for bad client input. An unusable configured
 * key is a KeyError (a rejection here, a throw from verifySync), not a failed verification.
 */
export function verify(type: SignType, content: Buffer, signature: string, secret: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (type === 'MD5') return resolve(md5Matches(content, signature, secret));
    const key = parsePublicKey(secret, KIND[type]);
    if (!BASE64.test(signature)) return resolve(false);
    cryptoVerify(DIGEST[type], content, key, Buffer.from(signature, 'base64'), (err, ok) => resolve(!err && ok));
  });
}

export function verifySync(type: SignType, content: Buffer, signature: string, secret: string): boolean {
  if (type === 'MD5') return md5Matches(content, signature, secret);
  const key = parsePublicKey(secret, KIND[type]);
  if (!BASE64.test(signature)) return false;
  try {
    return cryptoVerify(DIGEST[type], content, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
