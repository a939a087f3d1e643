import type { Db } from '../db.ts';
import type { AppTable } from '../schema.ts';
import { forgetCachedRows, RowCache } from '../row-cache.ts';

/** OpenAPI apps: the app's public key, our platform key pair for it, granted methods, policies. */
export interface App extends Omit<AppTable, 'methods'> {
  methods: string[];
}

function toApp(row: AppTable): App {
  return { ...row, methods: JSON.parse(row.methods) };
}

export async function insertApp(db: Db, app: Omit<App, 'created_at'>): Promise<App> {
  const created_at = Date.now();
  await db.insertInto('apps').values({ ...app, methods: JSON.stringify(app.methods), created_at }).execute();
  return { ...app, created_at };
}

export async function findApp(db: Db, appId: string): Promise<App | undefined> {
  const row = await db.selectFrom('apps').selectAll().where('app_id', '=', appId).executeTakeFirst();
  return row && toApp(row);
}

const cachedApps = new RowCache<App>();

/** findApp through the row cache: the gateway reads the caller's app on every call. */
export function findCachedApp(db: Db, appId: string): Promise<App | undefined> {
  return cachedApps.get(db, appId, () => findApp(db, appId));
}

export async function listApps(db: Db): Promise<App[]> {
  return (await db.selectFrom('apps').selectAll().orderBy('created_at').execute()).map(toApp);
}

export async function updateApp(db: Db, appId: string, patch: Partial<Omit<App, 'app_id' | 'created_at'>>): Promise<boolean> {
  const { methods, ...rest } = patch;
  const res = await db
    .updateTable('apps')
    .set({ ...rest, ...(methods && { methods: JSON.stringify(methods) }) })
    .where('app_id', '=', appId)
    .executeTakeFirst();
  forgetCachedRows();
  return Number(res.numUpdatedRows) > 0;
}
