import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../storage/db.ts';
import { takeFault } from '../../storage/repositories/faults.ts';
import { isMapiErrorCode, type MapiErrorCode } from './errors.ts';

/**
 * A fault-injection rule applied to a MAPI service: its `sub_code` when that is a MAPI code
 * (e.g. BIND_ERROR_GATEWAY), SYSTEM_ERROR for any other code, and its latency. Taken inside
 * the decision's transaction, so a rolled-back decision does not use up a counted rule.
 */
export interface MapiFault {
  code: MapiErrorCode | undefined;
  /** Waited out after the transaction, so a slow answer holds no database connection. */
  delay(): Promise<void>;
}

export async function takeMapiFault(db: Db, service: string): Promise<MapiFault> {
  const rule = await takeFault(db, service);
  const code = !rule ? undefined : rule.sub_code && isMapiErrorCode(rule.sub_code) ? rule.sub_code : rule.code || rule.sub_code ? 'SYSTEM_ERROR' : undefined;
  const latency = rule?.latency_ms ?? 0;
  return {
    code,
    delay: async () => {
      if (latency > 0) await sleep(latency);
    },
  };
}
