import { sql, type Kysely } from 'kysely';

/**
 * Issuing a zhima token pair revokes the member's live pairs for the app. Indexed on
 * (app_id, user_id) alone, that UPDATE walked every pair the member was ever issued
 * (thousands in a CI suite that reuses one sandbox member); a partial index holds only
 * the live ones, which are at most one per member and app.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('tokens_app_user').execute();
  await db.schema.createIndex('tokens_live').on('tokens').columns(['app_id', 'user_id']).where(sql.ref('revoked_at'), 'is', null).execute();
}
