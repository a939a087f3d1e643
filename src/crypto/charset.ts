import iconv from 'iconv-lite';

/** Charsets the gateways accept (PROTOCOL.md: utf-8, gbk, gb2312; Java sends them upper-case). */
const CANONICAL: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  gbk: 'gbk',
  gb2312: 'gb2312',
  gb18030: 'gb18030',
};

export type Charset = 'utf-8' | 'gbk' | 'gb2312' | 'gb18030';

export class CharsetError extends Error {
  constructor(readonly charset: string, readonly reason: 'unknown' | 'malformed') {
    super(reason === 'unknown' ? `unsupported charset: ${charset}` : `bytes are not valid ${charset}`);
  }
}

/** Case-insensitive charset name → canonical name; throws CharsetError for anything else. */
export function normalizeCharset(name: string | undefined, fallback: Charset = 'utf-8'): Charset {
  if (name === undefined || name === '') return fallback;
  const canonical = CANONICAL[name.trim().toLowerCase()];
  if (!canonical) throw new CharsetError(name, 'unknown');
  return canonical as Charset;
}

// ignoreBOM: keep a leading U+FEFF. Each form value is decoded on its own, and a value that
// starts with EF BB BF must keep it: the client signed those bytes.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes bytes in the charset; malformed sequences are an error, never a silent U+FFFD. */
export function decode(bytes: Buffer, charset: Charset): string {
  if (charset === 'utf-8') {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new CharsetError(charset, 'malformed');
    }
  }
  const text = iconv.decode(bytes, charset);
  // iconv-lite replaces undecodable sequences with U+FFFD. GBK/GB2312 cannot encode U+FFFD,
  // so there its presence means a failed sequence; GB18030 can (84 31 A4 37), so there a
  // U+FFFD is genuine only if the text encodes back to exactly the bytes received.
  if (text.includes('\uFFFD') && (charset !== 'gb18030' || !iconv.encode(text, charset).equals(bytes))) {
    throw new CharsetError(charset, 'malformed');
  }
  return text;
}

export function encode(text: string, charset: Charset): Buffer {
  return charset === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, charset);
}
