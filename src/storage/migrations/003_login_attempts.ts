import type { Kysely } from 'kysely';

/**
 * Login attempts per login id, for brute-force throttling (pages/login-throttle.ts). In the
 * database, not in process memory, so a limit holds however many processes serve the pages.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('login_attempts')
    // A keyed hash of the page and the login id: login ids (often a mobile) stay out of the database.
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_attempts_window').on('login_attempts').column('window_start').execute();
}
