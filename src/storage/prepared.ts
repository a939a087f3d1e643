import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from './db.ts';

/**
 * A query Kysely builds and compiles once per SQL dialect, then runs with each call's
 * values. On the gateway's hot path, building and compiling a query cost more than SQLite
 * takes to run it (a profile of notify_verify: 15% of the main thread in Kysely's builder
 * and compiler, 5% in SQLite), and every call runs several.
 *
 * `build` receives stand-ins for its arguments and may use them only as values, never
 * look at them: the SQL must be the same for every call. A stand-in that does not end up
 * as a bound parameter is refused when the query is first built. Write a LIMIT as a
 * literal (`sql.lit(1)`): SQLite prepares a statement whose LIMIT is a bound parameter
 * anew on every run, which costs more than Kysely's building.
 */
class StandIn {
  constructor(readonly index: number) {}
}

/** The SQL of every prepared query, named: PostgreSQL connections prepare these server-side too. */
const names = new Map<string, string>();

/** The server-side statement name for SQL built by prepare(); undefined for any other SQL. */
export function statementName(sql: string): string | undefined {
  return names.get(sql);
}

export type PreparedQuery<A extends unknown[], R> = (db: Db, ...args: A) => Promise<QueryResult<R>>;

export function prepare<A extends unknown[], R>(build: (db: Db, ...args: A) => Compilable<R>): PreparedQuery<A, R> {
  // By dialect adapter: a database and its transactions share one, and the SQL depends on nothing else.
  const compiled = new WeakMap<object, CompiledQuery<R>>();
  return (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let template = compiled.get(adapter);
    if (!template) {
      const standIns = args.map((_, i) => new StandIn(i)) as unknown as A;
      template = build(db, ...standIns).compile();
      const bound = new Set(template.parameters.filter((p) => p instanceof StandIn).map((p) => (p as StandIn).index));
      if (bound.size !== args.length) throw new Error(`prepared query: an argument is not a bound value in: ${template.sql}`);
      compiled.set(adapter, template);
      if (!names.has(template.sql)) names.set(template.sql, `gatewaydo_${names.size + 1}`);
    }
    const parameters = template.parameters.map((p) => (p instanceof StandIn ? args[p.index] : p));
    return db.executeQuery({ ...template, parameters });
  };
}
