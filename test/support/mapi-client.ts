import { createHash, createSign, createVerify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';

/**
 * An independent MAPI client, written from the old PHP/Java demos and not from src/crypto,
 * so tests check the gateway against the protocol rather than against itself. Also a tiny
 * ISV web server that records what the gateway sends to return_url and notify_url.
 */
export type MapiCharset = 'utf-8' | 'gbk';
export type MapiSignType = 'MD5' | 'RSA' | 'DSA';
export type Params = Record<string, string>;

/** The partner's half, as GET /admin/api/sandbox shows it. */
export interface PartnerKeys {
  partner: string;
  md5_key: string;
  rsa_private_key: string;
  dsa_private_key: string;
  alipay_rsa_public_key: string;
  alipay_dsa_public_key: string;
}

/** Drop sign, sign_type and empty values; sort by key; raw `k=v` joined by `&`. */
export function stringToSign(params: Params): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export function signParams(params: Params, signType: MapiSignType, keys: PartnerKeys, charset: MapiCharset): Params {
  const content = iconv.encode(stringToSign(params), charset);
  let sign: string;
  if (signType === 'MD5') sign = createHash('md5').update(Buffer.concat([content, Buffer.from(keys.md5_key)])).digest('hex');
  else sign = createSign('SHA1').update(content).sign(signType === 'RSA' ? keys.rsa_private_key : keys.dsa_private_key, 'base64');
  return { ...params, sign_type: signType, sign };
}

/** Checks what the gateway signed: MD5 with the shared key, RSA/DSA with the platform public keys. */
export function verifyParams(params: Params, keys: PartnerKeys, charset: MapiCharset): boolean {
  const content = iconv.encode(stringToSign(params), charset);
  if (params.sign_type === 'MD5') {
    return createHash('md5').update(Buffer.concat([content, Buffer.from(keys.md5_key)])).digest('hex') === params.sign;
  }
  const key = params.sign_type === 'RSA' ? keys.alipay_rsa_public_key : params.sign_type === 'DSA' ? keys.alipay_dsa_public_key : undefined;
  return key !== undefined && createVerify('SHA1').update(content).verify(key, params.sign, 'base64');
}

/** Percent-encodes the value's bytes in the charset (as PHP's urlencode does for a GBK page). */
export function percentEncode(value: string, charset: MapiCharset): string {
  let out = '';
  for (const b of iconv.encode(value, charset)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function encodeForm(params: Params, charset: MapiCharset): string {
  return Object.entries(params)
    .map(([k, v]) => `${percentEncode(k, charset)}=${percentEncode(v, charset)}`)
    .join('&');
}

/** A signed gateway URL, `_input_charset` included in what is signed, as the demos build it. */
export function signedUrl(gatewayUrl: string, params: Params, signType: MapiSignType, keys: PartnerKeys, charset: MapiCharset): string {
  return `${gatewayUrl}?${encodeForm(signParams(params, signType, keys, charset), charset)}`;
}

/** Decodes a raw query / form body: `+` is a space, escapes are bytes in the charset. */
export function parseQuery(raw: string, charset: MapiCharset): Params {
  const out: Params = {};
  for (const piece of raw.split('&')) {
    if (!piece) continue;
    const [k, v = ''] = piece.split('=');
    const bytes = (s: string) => {
      const parts: number[] = [];
      const text = s.replace(/\+/g, ' ');
      for (let i = 0; i < text.length; i++) {
        if (text[i] === '%') {
          parts.push(parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else parts.push(text.charCodeAt(i));
      }
      return Buffer.from(parts);
    };
    out[iconv.decode(bytes(k), charset)] = iconv.decode(bytes(v), charset);
  }
  return out;
}

export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

export interface IsvHit {
  method: string;
  path: string;
  rawQuery: string;
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
}

export interface IsvServer {
  url: string;
  port: number;
  hits: IsvHit[];
  /** Resolves with the matching hits once `n` requests to `path` (or matching a test) have arrived. */
  waitFor(match: string | ((hit: IsvHit) => boolean), n?: number, timeoutMs?: number): Promise<IsvHit[]>;
  close(): Promise<void>;
}

type IsvAnswer = { status: number; body: string };

/** The ISV's site on 127.0.0.1: `answer` decides what each path replies (default `success`), at once or later. */
export async function startIsvServer(answer: (hit: IsvHit) => IsvAnswer | Promise<IsvAnswer> = () => ({ status: 200, body: 'success' }), port = 0): Promise<IsvServer> {
  const hits: IsvHit[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const hit: IsvHit = {
        method: req.method ?? '',
        path: q === -1 ? url : url.slice(0, q),
        rawQuery: q === -1 ? '' : url.slice(q + 1),
        body: Buffer.concat(chunks).toString('latin1'),
        headers: req.headers,
        at: Date.now(),
      };
      hits.push(hit);
      for (const w of waiters) w();
      void Promise.resolve(answer(hit)).then(({ status, body }) => {
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    hits,
    waitFor(match, n = 1, timeoutMs = 10_000) {
      const test = typeof match === 'string' ? (h: IsvHit) => h.path === match : match;
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = hits.filter(test);
          if (matching.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(matching);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waited ${timeoutMs}ms for ${n} request(s) to ${match}, got ${hits.filter(test).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The code an error page names (`<span id="error-code">`), or undefined for any other page. */
export function pageErrorCode(html: string): string | undefined {
  return /id="error-code">([A-Z_]+)</.exec(html)?.[1];
}
