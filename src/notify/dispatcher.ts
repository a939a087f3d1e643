import type { GatewayContext } from '../context.ts';
import { claimDueNotifications, recordAttempt, releaseLease, type AttemptRecord, type Notification } from '../storage/repositories/notifications.ts';

/**
 * Delivers the notification outbox: takes due rows with a lease, POSTs each stored body
 * as a form in its charset, and is done when the ISV answers exactly `success`. Otherwise
 * the next attempt comes after the next delay of GATEWAYDO_NOTIFY_SCHEDULE (Alipay's
 * 4m,10m,10m,1h,2h,6h,15h: 8 deliveries), then the row is `failed`. All state is in the
 * database, so a restart — or another process — carries on where this one stopped.
 */
export interface NotifyDispatcher {
  stop(): Promise<void>;
}

/**
 * Alipay's timeout for the ISV's answer is unpublished; GATEWAYDO_NOTIFY_TIMEOUT (15 s by
 * default). A lease is twice that, so an attempt ends well inside it — and a process that
 * died mid-attempt holds its rows no longer than that before another process retries them.
 */
const LEASE_PER_TIMEOUT = 2;
const BATCH = 16;
const EXCERPT_BYTES = 512;

/** Reads at most EXCERPT_BYTES of the answer; a huge body is not `success` anyway. */
async function readExcerpt(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= EXCERPT_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES + 1));
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000}s`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

export function startNotifyDispatcher(ctx: GatewayContext): NotifyDispatcher {
  const schedule = ctx.config.notifySchedule;
  const timeoutMs = ctx.config.notifyTimeoutMs;
  // Poll often enough for the shortest delay (tests use 200ms), at most once a second.
  const pollMs = Math.min(1000, Math.max(50, Math.floor(Math.min(...schedule, 2000) / 2)));
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function attempt(n: Notification): Promise<void> {
    const at = Date.now();
    let status: number | null = null;
    let excerpt: string | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(n.url, {
        method: 'POST',
        headers: { 'content-type': `application/x-www-form-urlencoded; charset=${n.charset}` },
        body: n.body,
        // A redirect is not an answer; Alipay does not follow them either.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal]),
      });
      status = res.status;
      excerpt = await readExcerpt(res);
    } catch (err) {
      if (stopping.signal.aborted) return releaseLease(ctx.db, n);
      error = describeError(err, timeoutMs);
    }
    const delivered = status !== null && status >= 200 && status < 300 && excerpt === 'success';
    const attempts = n.attempts + 1;
    const giveUp = !delivered && attempts > schedule.length;
    const record: AttemptRecord = {
      at,
      http_status: status,
      body_excerpt: excerpt === null ? null : excerpt.slice(0, 200),
      error,
      state: delivered ? 'delivered' : giveUp ? 'failed' : 'pending',
      next_attempt_at: delivered || giveUp ? n.next_attempt_at : Date.now() + schedule[attempts - 1],
      last_status: delivered ? 'success' : (error ?? `HTTP ${status}: ${(excerpt ?? '').slice(0, 40)}`),
    };
    await recordAttempt(ctx.db, n, record);
  }

  async function tick(): Promise<void> {
    try {
      for (;;) {
        const due = await claimDueNotifications(ctx.db, Date.now(), timeoutMs * LEASE_PER_TIMEOUT, BATCH);
        await Promise.all(due.map(attempt));
        if (due.length < BATCH || stopping.signal.aborted) return;
      }
    } catch (err) {
      ctx.logger.warn({ err: { message: (err as Error).message } }, 'notification dispatch failed; retrying');
    }
  }

  const loop = () => {
    running = tick().finally(() => {
      if (!stopping.signal.aborted) timer = setTimeout(loop, pollMs).unref();
    });
  };
  loop();

  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
