import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * The whole schema, portable across SQLite and PostgreSQL: text, integer, bigint and
 * real only; single-use and uniqueness enforced by keys and unique indexes.
 */
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  // The one spelling that differs: an auto-assigned integer key.
  const serial = <T extends CreateTableBuilder<any, any>>(t: T) =>
    t.addColumn('id', 'integer', (c) =>
      engine === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    );

  await db.schema.createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('members')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('login_id', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('name_enc', 'text', (c) => c.notNull())
    .addColumn('cert_type', 'text', (c) => c.notNull())
    .addColumn('cert_no_enc', 'text', (c) => c.notNull())
    .addColumn('mobile_enc', 'text', (c) => c.notNull())
    .addColumn('identity_hash', 'text', (c) => c.notNull())
    .addColumn('certified', 'integer', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('members_identity').on('members').column('identity_hash').execute();

  await db.schema.createTable('partners')
    .addColumn('partner', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('md5_key', 'text', (c) => c.notNull())
    .addColumn('rsa_public_key', 'text')
    .addColumn('dsa_public_key', 'text')
    .addColumn('rsa_private_key', 'text')
    .addColumn('dsa_private_key', 'text')
    .addColumn('platform_rsa_private_key', 'text', (c) => c.notNull())
    .addColumn('platform_rsa_public_key', 'text', (c) => c.notNull())
    .addColumn('platform_dsa_private_key', 'text', (c) => c.notNull())
    .addColumn('platform_dsa_public_key', 'text', (c) => c.notNull())
    .addColumn('services', 'text', (c) => c.notNull())
    .addColumn('allowed_domains', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('apps')
    .addColumn('app_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sign_type', 'text', (c) => c.notNull())
    .addColumn('app_public_key', 'text', (c) => c.notNull())
    .addColumn('app_private_key', 'text')
    .addColumn('platform_private_key', 'text', (c) => c.notNull())
    .addColumn('platform_public_key', 'text', (c) => c.notNull())
    .addColumn('methods', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text')
    .addColumn('isv_url', 'text', (c) => c.notNull())
    .addColumn('auth_code_ttl_seconds', 'integer', (c) => c.notNull())
    .addColumn('token_policy', 'text', (c) => c.notNull())
    .addColumn('access_token_ttl_seconds', 'integer', (c) => c.notNull())
    .addColumn('refresh_token_ttl_seconds', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('merchants')
    .addColumn('merchant_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('operators')
    .addColumn('operator_id', 'text', (c) => c.primaryKey())
    .addColumn('operator_type', 'text', (c) => c.notNull())
    .addColumn('operator_partner_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('login_id', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('shop_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('auth_codes')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('operator_id', 'text', (c) => c.notNull())
    .addColumn('ext_info', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('bind_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull().unique())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('result', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('bindings')
    .$call(serial)
    .addColumn('partner', 'text', (c) => c.notNull())
    .addColumn('sns_user_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('bind_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('bindings_partner_sns', ['partner', 'sns_user_id'])
    .execute();

  await db.schema.createTable('zhima_auths')
    .$call(serial)
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('linked_merchant_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('tokens')
    .addColumn('access_token', 'text', (c) => c.primaryKey())
    .addColumn('refresh_token', 'text', (c) => c.notNull().unique())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('auth_id', 'integer', (c) => c.notNull())
    .addColumn('token_type', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('re_expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tokens_app_user').on('tokens').columns(['app_id', 'user_id']).execute();

  await db.schema.createTable('notifications')
    .$call(serial)
    .addColumn('notify_id', 'text', (c) => c.notNull().unique())
    .addColumn('gateway', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('charset', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('notifications_due').on('notifications').columns(['state', 'next_attempt_at']).execute();

  await db.schema.createTable('notify_attempts')
    .$call(serial)
    .addColumn('notification_id', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('http_status', 'integer')
    .addColumn('body_excerpt', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('notify_attempts_notification').on('notify_attempts').column('notification_id').execute();

  await db.schema.createTable('sms')
    .$call(serial)
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('mobile_enc', 'text', (c) => c.notNull())
    .addColumn('mobile_masked', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('request_log')
    .$call(serial)
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('gateway', 'text', (c) => c.notNull())
    .addColumn('caller', 'text')
    .addColumn('method', 'text')
    .addColumn('http_method', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('response', 'text')
    .addColumn('code', 'text')
    .addColumn('sub_code', 'text')
    .addColumn('latency_ms', 'real', (c) => c.notNull())
    .addColumn('diagnosis', 'text')
    .addColumn('trace_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('request_log_at').on('request_log').column('at').execute();

  await db.schema.createTable('faults')
    .$call(serial)
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('sub_code', 'text')
    .addColumn('sub_msg', 'text')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('remaining', 'integer')
    .addColumn('probability', 'real')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

