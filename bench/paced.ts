import net from 'node:net';

/**
 * Open-loop load at a fixed rate: request k is due at start + k/rate whatever the server is
 * doing, and its latency is counted from when it was due, not from when a free connection
 * let it go. A closed-loop generator (wrk, or autocannon's per-second quotas, which fire
 * in bursts) waits for the server and so hides the queueing a stall causes; this does not.
 *
 * HTTP/1.1 keep-alive over raw sockets with the request bytes built once, so the generator
 * costs little CPU on a machine it shares with the server. It expects what the gateway
 * sends: a Content-Length body, no chunked encoding.
 */
export interface PacedRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  contentType?: string;
}

export interface PacedResult {
  requests: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  /** Achieved rate: requests ÷ time from the first due instant to the last answer. */
  rps: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function requestBytes(url: URL, req: PacedRequest): Buffer {
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const head = [`${req.method} ${req.path} HTTP/1.1`, `Host: ${url.host}`, 'Connection: keep-alive'];
  if (body) head.push(`Content-Type: ${req.contentType ?? 'application/x-www-form-urlencoded'}`, `Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), body ?? Buffer.alloc(0)]);
}

/** One keep-alive connection: one request in flight, its answer parsed by Content-Length. */
class Connection {
  private socket: net.Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: ((ok: boolean, text: string) => void) | undefined;

  constructor(private readonly url: URL) {}

  send(bytes: Buffer, done: (ok: boolean, text: string) => void): void {
    this.pending = done;
    if (!this.socket || this.socket.destroyed) this.open();
    this.socket!.write(bytes);
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): void {
    this.buffered = Buffer.alloc(0);
    const socket = net.connect(Number(this.url.port), this.url.hostname);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', () => this.finish(false, ''));
    socket.on('close', () => this.finish(false, ''));
    this.socket = socket;
  }

  private received(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = this.buffered.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
    if (Number.isNaN(length)) return this.finish(false, head);
    if (this.buffered.length < end + 4 + length) return;
    const body = this.buffered.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffered = this.buffered.subarray(end + 4 + length);
    this.finish(head.startsWith('HTTP/1.1 200'), body);
  }

  private finish(ok: boolean, text: string): void {
    const done = this.pending;
    this.pending = undefined;
    if (!ok) this.socket?.destroy();
    done?.(ok, text);
  }
}

export function pacedLoad(base: string, req: PacedRequest, opts: { rate: number; seconds: number; expect: string; maxConnections: number }): Promise<PacedResult> {
  const url = new URL(base);
  const bytes = requestBytes(url, req);
  const total = Math.max(1, Math.floor(opts.rate * opts.seconds));
  const interval = 1000 / opts.rate;
  const idle = Array.from({ length: opts.maxConnections }, () => new Connection(url));
  const all = [...idle];
  /** Due instants of requests waiting for a free connection: their wait counts as latency. */
  const queued: number[] = [];
  const latencies: number[] = [];
  let errors = 0;
  let due = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const dispatch = (dueAt: number, conn: Connection) => {
      conn.send(bytes, (ok, text) => {
        latencies.push(performance.now() - dueAt);
        if (!ok || !text.includes(opts.expect)) errors++;
        if (latencies.length === total) return finish();
        const next = queued.shift();
        if (next === undefined) idle.push(conn);
        else dispatch(next, conn);
      });
    };
    const finish = () => {
      for (const conn of all) conn.close();
      latencies.sort((a, b) => a - b);
      const round = (v: number) => Math.round(v * 100) / 100;
      resolve({ requests: total, errors, p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), rps: total / ((performance.now() - start) / 1000) });
    };
    const tick = () => {
      const now = performance.now();
      for (; due < total && start + due * interval <= now; due++) {
        const dueAt = start + due * interval;
        const conn = idle.pop();
        if (conn) dispatch(dueAt, conn);
        else queued.push(dueAt);
      }
      if (due < total) setTimeout(tick, Math.max(0, start + due * interval - performance.now()));
    };
    tick();
  });
}
