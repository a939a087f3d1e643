import { decode, encode, type Charset } from './charset.ts';

/**
 * application/x-www-form-urlencoded in a declared charset. Percent-escapes stand for bytes
 * in that charset (a GBK form carries %D5%C5 for 张), so we decode escapes to bytes first
 * and only then apply the charset — WHATWG URLSearchParams assumes UTF-8 and cannot.
 */
export type FormPairs = Array<[string, string]>;

export class FormEncodingError extends Error {}

const HEX = /^[0-9a-fA-F]{2}$/;

function percentDecodeToBytes(part: string): Buffer {
  // `part` holds the received bytes one char each (latin1), so this recovers them exactly.
  const raw = Buffer.from(part.replace(/\+/g, ' '), 'latin1');
  if (!raw.includes(0x25)) return raw;
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 0x25) {
      const hex = raw.toString('latin1', i + 1, i + 3);
      if (!HEX.test(hex)) throw new FormEncodingError(`invalid percent-encoding near "%${hex}"`);
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

/** Parses a raw form/query string (bytes as received, latin1-mapped) into decoded pairs. */
export function parseForm(raw: string, charset: Charset): FormPairs {
  const pairs: FormPairs = [];
  if (raw === '') return pairs;
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const k = eq === -1 ? piece : piece.slice(0, eq);
    const v = eq === -1 ? '' : piece.slice(eq + 1);
    pairs.push([decode(percentDecodeToBytes(k), charset), decode(percentDecodeToBytes(v), charset)]);
  }
  return pairs;
}

/** Percent-encodes a value's bytes in the charset (the inverse of parseForm), spaces as %20. */
export function encodeComponent(value: string, charset: Charset): string {
  if (charset === 'utf-8') return encodeURIComponent(value);
  let out = '';
  for (const b of encode(value, charset)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function buildForm(params: Record<string, string>, charset: Charset): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeComponent(k, charset)}=${encodeComponent(v, charset)}`)
    .join('&');
}
