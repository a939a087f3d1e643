import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { Engine } from './engine.ts';
import { statementName } from './prepared.ts';
import * as m001 from './migrations/001_initial.ts';
import * as m002 from './migrations/002_live_tokens_index.ts';
import * as m003 from './migrations/003_login_attempts.ts';

export type Db = Kysely<Database>;

export type StorageConfig = { kind: 'sqlite'; file: string } | { kind: 'memory' } | { kind: 'postgres'; url: string };

export interface Storage {
  db: Db;
  engine: Engine;
  close(): Promise<void>;
}

// int8 (bigint) columns hold epoch-millisecond times: numbers, not strings.
pg.types.setTypeParser(20, (v) => Number(v));

function migrations(engine: Engine): Record<string, Migration> {
  return {
    '001_initial': { up: (db) => m001.up(db, engine) },
    '002_live_tokens_index': { up: (db) => m002.up(db) },
    '003_login_attempts': { up: (db) => m003.up(db) },
  };
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a
 * point query, so statements are cached by their SQL text (queries are parameterised, so
 * the set of texts is small and fixed). Safe because one connection runs one query at a time.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      let stmt = statements.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (statements.size < 2000) statements.set(sql, stmt);
      }
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

/**
 * The hot path's queries (prepared.ts) become named statements on each PostgreSQL
 * connection: parsed and planned once per connection instead of on every call.
 */
function withServerSidePreparedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (config: unknown, values?: unknown, callback?: unknown) => unknown;
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    const name = typeof config === 'string' && callback === undefined ? statementName(config) : undefined;
    return name ? query({ name, text: config, values }) : query(config, values, callback);
  }) as typeof client.query;
}

/**
 * Kysely's migrator lists the tables of every schema in the database before it starts; a
 * schema that another deployment (or test) drops meanwhile fails that listing with
 * 3F000 invalid_schema_name, though nothing is wrong with ours: so that is tried again.
 */
async function migrate(migrator: Migrator): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error || attempt === 5 || (error as { code?: string }).code !== '3F000') return error;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
}

export async function openStorage(config: StorageConfig): Promise<Storage> {
  let db: Db;
  let engine: Engine;
  if (config.kind === 'postgres') {
    engine = 'postgres';
    const pool = new pg.Pool({ connectionString: config.url, max: 10 });
    // A dropped idle connection must not take the process down.
    pool.on('error', () => {});
    pool.on('connect', withServerSidePreparedStatements);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    engine = 'sqlite';
    const file = config.kind === 'memory' ? ':memory:' : config.file;
    if (config.kind === 'sqlite') mkdirSync(join(file, '..'), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL + synchronous=NORMAL: durable at each commit boundary after a crash, fast writes.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  // Kysely looks for its migration tables in every schema unless told which one; on a
  // database shared by several schemas (tests, one schema per deployment) it must be ours.
  const migrationTableSchema = engine === 'postgres'
    ? ((await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ?? undefined)
    : undefined;
  const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: async () => migrations(engine) } });
  const error = await migrate(migrator);
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { db, engine, close: () => db.destroy() };
}
