import { sql } from 'kysely';
import type { Db } from '../db.ts';
import type { FaultTable } from '../schema.ts';
import { prepare } from '../prepared.ts';

/**
 * Fault-injection rules: for a method/service (or `*`), answer with a chosen code/sub_code
 * or add latency, for the next N calls (`remaining`) or a share of calls (`probability`).
 * Counters are decremented in the database, so several processes share them.
 */
export interface FaultRule extends Omit<FaultTable, 'id'> {
  id: number;
}

export type NewFaultRule = Omit<FaultRule, 'id' | 'created_at'>;

export async function insertFault(db: Db, rule: NewFaultRule): Promise<FaultRule> {
  const created_at = Date.now();
  const row = await db.insertInto('faults').values({ ...rule, created_at }).returning('id').executeTakeFirstOrThrow();
  return { ...rule, id: row.id, created_at };
}

export async function listFaults(db: Db): Promise<FaultRule[]> {
  return db.selectFrom('faults').selectAll().orderBy('id').execute();
}

export async function deleteFault(db: Db, id?: number): Promise<number> {
  let q = db.deleteFrom('faults');
  if (id !== undefined) q = q.where('id', '=', id);
  return Number((await q.executeTakeFirst()).numDeletedRows);
}

/** Run on every gateway call, usually to find nothing: prepared once. */
const selectRules = prepare((db: Db, target: string) =>
  db
    .selectFrom('faults')
    .selectAll()
    .where((eb) => eb.or([eb('target', '=', target), eb('target', '=', '*')]))
    .orderBy('id'),
);

/**
 * The rule that fires for this call, if any: the oldest matching rule whose dice roll
 * succeeds and whose counter could be taken atomically (`remaining > 0`, or unlimited).
 */
export async function takeFault(db: Db, target: string): Promise<FaultRule | undefined> {
  const { rows: rules } = await selectRules(db, target);
  for (const rule of rules) {
    if (rule.probability !== null && Math.random() >= rule.probability) continue;
    if (rule.remaining === null) return rule;
    const taken = await db
      .updateTable('faults')
      .set({ remaining: sql<number>`remaining - 1` })
      .where('id', '=', rule.id)
      .where('remaining', '>', 0)
      .returning('remaining')
      .executeTakeFirst();
    if (taken) {
      if (taken.remaining === 0) await db.deleteFrom('faults').where('id', '=', rule.id).where('remaining', '=', 0).execute();
      return rule;
    }
  }
  return undefined;
}
