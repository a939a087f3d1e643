import type { Logger } from 'pino';
import type { Db } from './db.ts';
import { appendRequestLog, type RequestLogEntry } from './repositories/request-log.ts';

/**
 * Request-log rows written in batches: one multi-row INSERT every `delayMs` or every
 * `maxBatch` rows, instead of one transaction per gateway call (the commit cost more than
 * the call's own queries). Readers in this process call flush() first, so the console and
 * admin API always show the request just answered; other processes sharing PostgreSQL see
 * it at most `delayMs` later. The log is diagnostic: a crash loses at most the last
 * `delayMs` of rows, never business state, which the calls commit themselves.
 */
export class RequestLogWriter {
  private pending: RequestLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The batches in flight, in order: a flush waits for every row appended before it. */
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly delayMs = 50,
    private readonly maxBatch = 500,
  ) {}

  append(entry: RequestLogEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes every row appended so far; never rejects (a failed batch is logged and dropped). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      this.written = this.written.then(() =>
        appendRequestLog(this.db, ...batch).catch((err: Error) => {
          this.logger.error({ err: { message: err.message }, rows: batch.length }, 'request log write failed');
        }),
      );
    }
    return this.written;
  }
}
