import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { Engine } from './engine.ts';
import * as m001 from './migrations/001_initial.ts';

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

export async function openStorage(config: StorageConfig): Promise<Storage> {
  let db: Db;
  let engine: Engine;
  if (config.kind === 'postgres') {
    engine = 'postgres';
    const pool = new pg.Pool({ connectionString: config.url, max: 10 });
    // A dropped idle connection must not take the process down.
    pool.on('error', () => {});
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
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { db, engine, close: () => db.destroy() };
}
