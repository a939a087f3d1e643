import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Personal data (names, ID numbers, mobiles): AES-256-GCM at rest, a keyed hash for
 * matching, masks for anything a person or a log sees. The key comes from
 * GATEWAYDO_DATA_KEY or a file generated in the data dir (see config.ts).
 */
export class PiiVault {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(dataKey: Buffer) {
    if (dataKey.length !== 32) throw new Error('GATEWAYDO_DATA_KEY must be 32 bytes (base64 or hex)');
    // Separate keys for encryption and hashing, derived from the one data key.
    this.encKey = createHmac('sha256', dataKey).update('gatewaydo/pii/enc').digest();
    this.macKey = createHmac('sha256', dataKey).update('gatewaydo/pii/mac').digest();
  }

  encrypt(clear: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    const body = Buffer.concat([cipher.update(clear, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** Identity triple → keyed hash; equal inputs (after normalising) give equal hashes. */
  identityHash(name: string, certNo: string, mobile: string): string {
    return createHmac('sha256', this.macKey)
      .update([name.trim(), certNo.trim().toUpperCase(), mobile.trim()].join('\u0000'))
      .digest('hex');
  }
}

export function maskCertNo(v: string): string {
  return v.length <= 8 ? '*'.repeat(v.length) : v.slice(0, 4) + '*'.repeat(v.length - 8) + v.slice(-4);
}

export function maskMobile(v: string): string {
  return v.length <= 7 ? '*'.repeat(v.length) : v.slice(0, 3) + '*'.repeat(v.length - 7) + v.slice(-4);
}

export function maskName(v: string): string {
  const chars = [...v];
  return chars.length <= 1 ? '*' : '*'.repeat(chars.length - 1) + chars[chars.length - 1];
}

/**
 * Parameter names whose values are personal data wherever they appear (request log, logs).
 * A Map, not an object: a parameter named `__proto__` or `constructor` is not a mask.
 */
const MASKS = new Map<string, (v: string) => string>([
  ['cert_no', maskCertNo],
  ['mobile', maskMobile],
  ['name', maskName],
]);

/** Masks personal fields in a flat params object and inside a JSON biz_content. */
export function maskParams(params: Record<string, string>): Record<string, string> {
  // fromEntries: own properties even for a key like `__proto__`.
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, MASKS.get(k)?.(v) ?? (k === 'biz_content' ? maskJsonText(v) : v)]),
  );
}

function maskJsonText(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const masked = Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? (MASKS.get(k)?.(v) ?? v) : v]);
      return JSON.stringify(Object.fromEntries(masked));
    }
    return text;
  } catch {
    // Not JSON: could hold anything, so keep only its size.
    return `<${text.length} chars, not JSON>`;
  }
}

/**
 * For texts that may quote a request's personal values (an answer echoing the string to
 * sign, a signature diagnosis): replaces each name / cert_no / mobile the params — or a
 * JSON biz_content — carried by its mask.
 */
export function piiScrubber(params: Record<string, string>): (text: string) => string {
  const pairs: Array<[string, string]> = [];
  const collect = (source: Record<string, unknown>) => {
    for (const [key, mask] of MASKS) {
      const v = Object.hasOwn(source, key) ? source[key] : undefined;
      const text = typeof v === 'number' ? String(v) : v;
      if (typeof text === 'string' && text.trim() !== '') pairs.push([text, mask(text)], [text.trim(), mask(text.trim())]);
    }
  };
  collect(params);
  try {
    const biz: unknown = JSON.parse(params.biz_content ?? '');
    if (biz && typeof biz === 'object') collect(biz as Record<string, unknown>);
  } catch {
    // Not JSON: maskParams already reduces it to its length; nothing to collect here.
  }
  // Longest first, so a value that contains another is replaced whole.
  pairs.sort((a, b) => b[0].length - a[0].length);
  return (text) => pairs.reduce((t, [value, masked]) => t.replaceAll(value, masked), text);
}
