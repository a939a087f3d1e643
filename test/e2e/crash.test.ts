import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dropDatabaseSchema, freshDatabaseUrl } from '../support/gateway.ts';
import { spawnServe, type ServeProcess } from '../support/serve-process.ts';
import { parseQuery, signedUrl, startIsvServer, type PartnerKeys } from '../support/mapi-client.ts';
import { openStorage, type StorageConfig } from '../../src/storage/db.ts';
import { hex } from '../../src/domain/ids.ts';

/**
 * Issue 8, crash safety: a `gatewaydo serve` process is killed with SIGKILL in the middle of
 * a burst of bindings (POST /admin/api/mapi/complete, in parallel) while notifications are
 * being delivered (the ISV answers slowly, so some are mid-POST), then a new process is
 * started on the same storage. Every binding a client was told about, and every binding in
 * the database, has exactly one notification row, delivered at least once with its stored
 * notify_id; every decided bind request has its outcome; nothing is lost or half-written.
 */
/** Workers bind until the kill (this many at most): the crash always cuts the burst. */
const BURST_CAP = 2000;
const PARALLEL = 8;
/** Crash once this many bindings were acknowledged and this many deliveries are under way. */
const KILL_AFTER_ACKS = 40;
const KILL_AFTER_DELIVERIES = 8;

interface Storage {
  label: string;
  env: Record<string, string | undefined>;
  config: StorageConfig;
  cleanup(): Promise<void>;
}

async function embedded(): Promise<Storage> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-crash-'));
  return {
    label: 'embedded SQLite',
    env: { GATEWAYDO_DATA_DIR: dir, DATABASE_URL: undefined },
    config: { kind: 'sqlite', file: join(dir, 'gatewaydo.sqlite') },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgres(): Promise<Storage> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-crash-'));
  const url = await freshDatabaseUrl(process.env.DATABASE_URL!);
  return {
    label: 'PostgreSQL',
    env: { GATEWAYDO_DATA_DIR: dir, DATABASE_URL: url },
    config: { kind: 'postgres', url },
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      await dropDatabaseSchema(url);
    },
  };
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function crashDuringBurst(storage: Storage): Promise<void> {
  const adminToken = hex(24);
  // The ISV takes a while to answer, so deliveries are in flight when the process dies.
  const isv = await startIsvServer(async () => {
    await sleep(150);
    return { status: 200, body: 'success' };
  });
  const env = {
    ...storage.env,
    GATEWAYDO_DATA_KEY: randomBytes(32).toString('base64'),
    GATEWAYDO_NOTIFY_SCHEDULE: Array(10).fill('200ms').join(','),
    // A lease is twice this: a delivery cut off by the crash is retried 2 s later.
    GATEWAYDO_NOTIFY_TIMEOUT: '1s',
  };
  let first: ServeProcess | undefined;
  let second: ServeProcess | undefined;
  try {
    first = await spawnServe(env, adminToken);
    const keys: PartnerKeys = (await first.admin('GET', '/sandbox')).json.partner;
    const acked = new Set<string>();
    const unanswered = new Set<string>();
    let next = 0;
    let crashed = false;
    const worker = async () => {
      while (!crashed && next < BURST_CAP) {
        const sns = `crash_${next++}`;
        const url = signedUrl(first!.gatewayUrl, {
          service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: `${isv.url}/return`,
          notify_url: `${isv.url}/notify`, sns_user_id: sns, sns_user_name: '崩溃测试', type: 'common',
        }, 'MD5', keys, 'utf-8');
        try {
          const done = await first!.admin('POST', '/mapi/complete', { url, login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
          assert.equal(done.json.code, 'T', JSON.stringify(done.json));
          acked.add(sns);
        } catch (err) {
          if (!crashed) throw err;
          unanswered.add(sns);
        }
      }
    };
    const burst = Promise.all(Array.from({ length: PARALLEL }, worker));
    await until('bindings and deliveries under way', () => acked.size >= KILL_AFTER_ACKS && isv.hits.length >= KILL_AFTER_DELIVERIES);
    crashed = true;
    await first.crash();
    await burst;
    assert.ok(unanswered.size > 0, 'bindings were in flight when the process died');
    const deliveredBeforeCrash = isv.hits.length;

    second = await spawnServe(env, adminToken);
    const db = (await openStorage(storage.config)).db;
    try {
      // Every notification in the outbox gets delivered by the new process.
      await until('every notification delivered', async () => {
        const pending = await db.selectFrom('notifications').select('id').where('state', '!=', 'delivered').execute();
        return pending.length === 0;
      });
      const bindings = await db.selectFrom('bindings').selectAll().execute();
      const notifications = await db.selectFrom('notifications').selectAll().execute();
      const requests = await db.selectFrom('bind_requests').selectAll().execute();
      const attempts = await db.selectFrom('notify_attempts').select(['notification_id', 'http_status']).execute();

      const bound = new Set(bindings.map((b) => b.sns_user_id));
      for (const sns of acked) assert.ok(bound.has(sns), `acknowledged binding ${sns} was lost`);

      // Exactly one notification row per binding, and none without a binding.
      const notifiedSns = notifications.map((n) => parseQuery(n.body, 'utf-8').sns_user_id);
      assert.equal(notifications.length, bindings.length, 'one notification per binding');
      assert.deepEqual(new Set(notifiedSns), bound);
      for (const n of notifications) assert.equal(parseQuery(n.body, 'utf-8').notify_id, n.notify_id, 'the body carries the row\'s notify_id');

      // A decided request has its outcome; a T outcome has its binding.
      for (const r of requests) {
        assert.equal(r.decided_at === null, r.result === null, `bind request ${r.id}: decided_at and result are written together`);
        const sns = JSON.parse(r.params).sns_user_id as string;
        assert.equal(r.result === 'T', bound.has(sns), `bind request for ${sns}: outcome ${r.result} vs binding`);
      }
      assert.equal(requests.filter((r) => r.result === 'T').length, bindings.length);

      // Delivered at least once, each time with the notify_id that is stored.
      const stored = new Set(notifications.map((n) => n.notify_id));
      const received = isv.hits.filter((h) => h.path === '/notify').map((h) => parseQuery(h.body, 'utf-8').notify_id);
      for (const id of stored) assert.ok(received.includes(id), `notification ${id} never reached the ISV`);
      for (const id of received) assert.ok(stored.has(id), `the ISV got a notify_id (${id}) that is not stored`);
      for (const n of notifications) assert.ok(attempts.some((a) => a.notification_id === n.id && a.http_status === 200), `delivery of ${n.notify_id} recorded`);

      const duplicates = received.length - new Set(received).size;
      console.log(
        `crash (${storage.label}): ${acked.size} bindings acknowledged and ${unanswered.size} requests cut off by kill -9 ` +
          `(${deliveredBeforeCrash} deliveries before it); after restart ${bindings.length} bindings, ${notifications.length} notifications, ` +
          `all delivered (${received.length} POSTs, ${duplicates} repeated after the crash); 0 lost, 0 half-written`,
      );
    } finally {
      await db.destroy();
    }
  } finally {
    await first?.crash();
    await second?.stop();
    await isv.close();
    await storage.cleanup();
  }
}

test('kill -9 during bindings and deliveries, restart: nothing lost or half-written (embedded database)', { timeout: 120_000 }, async () => {
  await crashDuringBurst(await embedded());
});

test('kill -9 during bindings and deliveries, restart: nothing lost or half-written (PostgreSQL)', {
  timeout: 120_000,
  skip: process.env.DATABASE_URL ? false : 'DATABASE_URL not set',
}, async () => {
  await crashDuringBurst(await postgres());
});
