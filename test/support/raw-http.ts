import { connect } from 'node:net';

/**
 * HTTP/1.1 over a bare socket, for requests no well-behaved client would send: raw bytes
 * in the query, a body unlike its Content-Length, duplicate headers, a client that stalls.
 * One request per connection (`Connection: close`).
 */
export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (set-cookie with "\n"). */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  /** Path and query exactly as sent, one char per byte (latin1). */
  target: string;
  headers?: Array<[string, string]>;
  body?: Buffer;
  /** Without Content-Length, the body goes out chunked. */
  chunked?: boolean;
}

function encodeRequest(r: RawRequest, host: string): Buffer {
  const body = r.body ?? Buffer.alloc(0);
  const lines = [`${r.method} ${r.target} HTTP/1.1`, `host: ${host}`, 'connection: close'];
  for (const [k, v] of r.headers ?? []) lines.push(`${k}: ${v}`);
  if (r.chunked) lines.push('transfer-encoding: chunked');
  else if ((body.length > 0 || r.method === 'POST') && !r.headers?.some(([k]) => k.toLowerCase() === 'content-length')) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  if (!r.chunked) return Buffer.concat([head, body]);
  const chunk = body.length > 0 ? [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')] : [];
  return Buffer.concat([head, ...chunk, Buffer.from('0\r\n\r\n')]);
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol === -1) throw new Error('truncated chunked body');
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts);
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function parseResponse(data: Buffer): RawResponse {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete response head (${data.length} bytes received)`);
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) throw new Error(`bad status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}${name === 'set-cookie' ? '\n' : ', '}${value}`;
  }
  const rest = data.subarray(end + 4);
  const body = headers['transfer-encoding']?.includes('chunked') ? dechunk(rest) : rest.subarray(0, Number(headers['content-length'] ?? rest.length));
  return { status, headers, body };
}

/**
 * Sends the request and reads until the server closes. Rejects when the server closes
 * without an answer, or gives none within `timeoutMs` (a hung connection). The server may
 * answer before the whole body is sent (an oversize body): write errors are then ignored.
 * `Connection: close` makes the server close once it has answered.
 */
export function rawRequest(url: string, r: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port, host } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms: ${r.method} ${r.target.slice(0, 120)}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(new Error(`${(err as Error).message}: ${r.method} ${r.target.slice(0, 120)}`));
      }
    });
    // No half-close after writing: Node's server drops a request whose client sent FIN.
    socket.write(encodeRequest(r, host));
  });
}
