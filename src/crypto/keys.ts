import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Keys as Alipay users hold them: PEM, or the bare base64 DER body the console shows;
 * private keys PKCS#8 (Java) or PKCS#1 (Python, Node SDK default); public keys SPKI
 * (or PKCS#1 RSA). Parsed once and cached, since parsing costs more than a signature.
 */
export type KeyKind = 'rsa' | 'dsa';

export class KeyError extends Error {}

const privateCache = new Map<string, KeyObject>();
const publicCache = new Map<string, KeyObject>();

function isPem(text: string): boolean {
  return text.includes('-----BEGIN');
}

const BASE64_BODY = /^[A-Za-z0-9+/]+=*$/;

function bareDer(text: string): Buffer {
  const body = text.replace(/\s+/g, '');
  if (!BASE64_BODY.test(body)) throw new KeyError('key is neither PEM nor base64 DER');
  return Buffer.from(body, 'base64');
}

/**
 * The DER inside a PEM that OpenSSL refuses: armour and body on one line, or literal `\n`
 * escapes (keys pasted into an environment variable). Encrypted PEMs are not unwrapped.
 */
function pemFallbackDer(text: string): Buffer | undefined {
  if (/Proc-Type|ENCRYPTED/.test(text)) return undefined;
  const body = text
    .replace(/\\[rn]/g, '')
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, '');
  return BASE64_BODY.test(body) ? Buffer.from(body, 'base64') : undefined;
}

function privateFromDer(der: Buffer): KeyObject | undefined {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      /* try the next encoding */
    }
  }
  return undefined;
}

function publicFromDer(der: Buffer): KeyObject | undefined {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return createPublicKey({ key: der, format: 'der', type });
    } catch {
      /* try the next encoding */
    }
  }
  return undefined;
}

function checkKind(key: KeyObject, kind: KeyKind | undefined, what: string): KeyObject {
  if (kind && key.asymmetricKeyType !== kind) {
    throw new KeyError(`${what} is a ${key.asymmetricKeyType} key, expected ${kind}`);
  }
  return key;
}

export function parsePrivateKey(text: string, kind?: KeyKind): KeyObject {
  const cached = privateCache.get(text);
  if (cached) return checkKind(cached, kind, 'private key');
  let key: KeyObject | undefined;
  if (isPem(text)) {
    try {
      key = createPrivateKey(text.trim());
    } catch {
      const der = pemFallbackDer(text);
      if (der) key = privateFromDer(der);
    }
  } else {
    key = privateFromDer(bareDer(text));
  }
  if (!key) throw new KeyError('not a private key in PEM, PKCS#8 or PKCS#1 form');
  privateCache.set(text, key);
  return checkKind(key, kind, 'private key');
}

export function parsePublicKey(text: string, kind?: KeyKind): KeyObject {
  const cached = publicCache.get(text);
  if (cached) return checkKind(cached, kind, 'public key');
  if (/PRIVATE KEY/.test(text)) throw new KeyError('a private key was given where a public key is expected');
  let key: KeyObject | undefined;
  let der: Buffer | undefined;
  if (isPem(text)) {
    try {
      key = createPublicKey(text.trim());
    } catch {
      der = pemFallbackDer(text);
    }
  } else {
    der = bareDer(text);
  }
  if (der) {
    // createPublicKey({type: 'pkcs1'}) silently derives the public half of a PKCS#1 or
    // PKCS#8 *private* key; a secret pasted into the public-key field must be refused.
    if (privateFromDer(der)) throw new KeyError('a private key was given where a public key is expected');
    key = publicFromDer(der);
  }
  if (!key || key.type !== 'public') throw new KeyError('not a public key in PEM or SPKI form');
  publicCache.set(text, key);
  return checkKind(key, kind, 'public key');
}

export interface PemKeyPair {
  privateKey: string;
  publicKey: string;
}

const generate = promisify(generateKeyPair);

/** RSA-2048 (RSA2 and RSA apps, MAPI RSA) with a PKCS#1 private key, as the Node SDK expects by default. */
export async function generateRsaKeyPair(): Promise<PemKeyPair> {
  const { privateKey, publicKey } = await generate('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privateKey, publicKey };
}

/** DSA 1024/160: what SHA1withDSA in the old MAPI demos (and Java's SHA1withDSA) works with. */
export async function generateDsaKeyPair(): Promise<PemKeyPair> {
  const { privateKey, publicKey } = await generate('dsa', {
    modulusLength: 1024,
    divisorLength: 160,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKey, publicKey };
}

/** The bare base64 body of a PEM key, as Alipay's console shows it. */
export function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

/** Re-encodes any accepted private key form as PKCS#8 PEM (what the Java SDK takes). */
export function toPkcs8Pem(text: string): string {
  return parsePrivateKey(text).export({ type: 'pkcs8', format: 'pem' }).toString();
}
