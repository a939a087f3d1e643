import type { GatewayContext } from '../context.ts';
import { pruneRequestLog } from '../storage/repositories/request-log.ts';

export const RETENTION_INTERVAL_MS = 60_000;

/**
 * Keeps the request log bounded: prunes to the newest `config.requestLogRetention` rows at
 * start and then periodically. Several processes may prune the same table; the deletes are
 * idempotent. `stop()` waits for a prune in flight, so storage can close after it.
 */
export function startRequestLogRetention(ctx: GatewayContext, intervalMs = RETENTION_INTERVAL_MS): { stop(): Promise<void> } {
  const keep = ctx.config.requestLogRetention;
  let running: Promise<void> = Promise.resolve();
  const prune = () => {
    running = running.then(async () => {
      try {
        const deleted = await pruneRequestLog(ctx.db, keep);
        if (deleted > 0) ctx.logger.debug({ deleted, keep }, 'request log pruned');
      } catch (err) {
        ctx.logger.warn({ err: { message: (err as Error).message } }, 'request log prune failed');
      }
    });
  };
  prune();
  const timer = setInterval(prune, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
