import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabaseUrl, startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { parseQuery, signedUrl, startIsvServer, verifyParams, type IsvHit, type PartnerKeys } from '../../test/support/mapi-client.ts';

/** The outbox and its dispatcher: retries on the schedule, restarts, several processes. */
let seq = 0;

async function bindWithNotifyUrl(gw: TestGateway, notifyUrl: string): Promise<string> {
  const keys: PartnerKeys = (await gw.admin('GET', '/sandbox')).json.partner;
  const sns = `notify_${process.pid}_${++seq}`;
  const url = signedUrl(
    gw.gatewayUrl,
    { service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: 'http://127.0.0.1:9/return', notify_url: notifyUrl, sns_user_id: sns, sns_user_name: '通知', type: 'common' },
    'MD5',
    keys,
    'utf-8',
  );
  const done = await gw.admin('POST', '/mapi/complete', { url, login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
  assert.equal(done.status, 200);
  return sns;
}

async function notificationFor(gw: TestGateway, sns: string): Promise<any> {
  const list = (await gw.admin('GET', '/notifications?limit=1000')).json;
  return list.find((n: any) => parseQuery(n.body, 'utf-8').sns_user_id === sns);
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a failing notify_url is retried on the schedule, then marked failed with every attempt recorded; resend delivers', async () => {
  const gw = await startTestGateway({ notifySchedule: '200ms,400ms' });
  let answers = [
    { status: 200, body: 'fail' },
    { status: 500, body: 'oops' },
    { status: 200, body: 'success\n' },
  ];
  const isv = await startIsvServer(() => answers.shift() ?? { status: 200, body: 'success' });
  try {
    const sns = await bindWithNotifyUrl(gw, `${isv.url}/notify`);
    const hits = await isv.waitFor('/notify', 3);
    const gaps = [hits[1].at - hits[0].at, hits[2].at - hits[1].at];
    assert.ok(gaps[0] >= 190 && gaps[0] < 1500, `first retry after ~200ms, was ${gaps[0]}`);
    assert.ok(gaps[1] >= 390 && gaps[1] < 1700, `second retry after ~400ms, was ${gaps[1]}`);
    assert.equal(new Set(hits.map((h) => h.body)).size, 1, 'every attempt posts the same signed body');

    const failed = await until('state failed', async () => {
      const n = await notificationFor(gw, sns);
      return n?.state === 'failed' && n;
    });
    assert.equal(failed.attempts, 3);
    assert.deepEqual(failed.attempt_log.map((a: any) => [a.http_status, a.body_excerpt]), [[200, 'fail'], [500, 'oops'], [200, 'success\n']]);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(isv.hits.length, 3, 'no attempt after the schedule is used up');

    answers = [];
    const resend = await gw.admin('POST', `/notifications/${failed.id}/resend`);
    assert.equal(resend.status, 200);
    await isv.waitFor('/notify', 4);
    const delivered = await until('state delivered', async () => {
      const n = await notificationFor(gw, sns);
      return n?.state === 'delivered' && n;
    });
    assert.equal(delivered.attempts, 4);
    assert.equal((await gw.admin('POST', '/notifications/999999/resend')).status, 404);
  } finally {
    await isv.close();
    await gw.close();
  }
});

test('a notification survives a restart: enqueued while notify_url is down, delivered by the next process', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewaydo-restart-'));
  const databaseUrl = process.env.DATABASE_URL ? await freshDatabaseUrl(process.env.DATABASE_URL) : undefined;
  const schedule = Array(20).fill('300ms').join(',');
  // Take a free port, then free it: notify_url is unreachable until the ISV comes back on it.
  const probe = await startIsvServer();
  const port = probe.port;
  await probe.close();
  let second: TestGateway | undefined;
  let isv: Awaited<ReturnType<typeof startIsvServer>> | undefined;
  try {
    const first = await startTestGateway({ dataDir, databaseUrl, notifySchedule: schedule });
    const sns = await bindWithNotifyUrl(first, `http://127.0.0.1:${port}/notify`);
    const tried = await until('a failed attempt', async () => {
      const n = await notificationFor(first, sns);
      return n?.attempts >= 1 && n;
    });
    assert.equal(tried.state, 'pending');
    assert.match(tried.attempt_log[0].error, /ECONNREFUSED/);
    await first.close();

    isv = await startIsvServer(undefined, port);
    second = await startTestGateway({ dataDir, databaseUrl, notifySchedule: schedule });
    const [hit] = await isv.waitFor('/notify');
    const keys: PartnerKeys = (await second.admin('GET', '/sandbox')).json.partner;
    assert.ok(verifyParams(parseQuery(hit.body, 'utf-8'), keys, 'utf-8'));
    const delivered = await until('delivered', async () => {
      const n = await notificationFor(second!, sns);
      return n?.state === 'delivered' && n;
    });
    assert.equal(delivered.notify_id, parseQuery(hit.body, 'utf-8').notify_id);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(isv.hits.length, 1, 'delivered once');
  } finally {
    await isv?.close();
    await second?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('two gateway processes on one database deliver each notification exactly once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatewaydo-two-'));
  const databaseUrl = process.env.DATABASE_URL ? await freshDatabaseUrl(process.env.DATABASE_URL) : undefined;
  const isv = await startIsvServer();
  const gw = await startTestGateway({ dataDir, databaseUrl, notifySchedule: '100ms' });
  const cli = new URL('../../bin/gatewaydo.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0'], {
    env: { ...process.env, ...gw.storageEnv, GATEWAYDO_DATA_DIR: dataDir, GATEWAYDO_NOTIFY_SCHEDULE: '100ms', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('gateway ')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`second gateway exited with ${code}`)));
    });
    const count = 12;
    await Promise.all(Array.from({ length: count }, () => bindWithNotifyUrl(gw, `${isv.url}/notify`)));
    const hits: IsvHit[] = await isv.waitFor('/notify', count);
    await new Promise((r) => setTimeout(r, 500));
    const ids = isv.hits.map((h) => parseQuery(h.body, 'utf-8').notify_id);
    assert.equal(ids.length, count, `each delivered once (got ${ids.length} for ${hits.length})`);
    assert.equal(new Set(ids).size, count);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await isv.close();
    await gw.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
