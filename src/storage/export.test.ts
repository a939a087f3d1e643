import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../index.ts';
import { koubeiMemberDataOauthQuery, mapiUrl, snsAccountBind, verifyReturn, zhimaperInnerApply } from '../client/index.ts';
import { freshDatabaseUrl, startTestGateway } from '../../test/support/gateway.ts';
import { BIN, ROOT, runCli } from '../../test/support/cli.ts';
import { exportState, importState, StateError, type StateFile } from './export.ts';

/**
 * Export from the embedded database, import elsewhere (another data dir, PostgreSQL) under
 * a different data key, and the same requests get the same answers.
 */
interface Before {
  file: string;
  state: StateFile;
  code: string;
  operatorId: string;
  bindKey: string;
}

let before_: Before;

/** The CLI on the embedded database, whatever DATABASE_URL this test run has. */
const EMBEDDED = { DATABASE_URL: undefined };

/** The ISV's notify_url: every notification is delivered, so none is still due after an import. */
let notifyUrl = '';

/** RSA signatures are deterministic: the same parameters make the same URL, a repeat. */
function bind(gw: Gateway, snsUserId: string, loginId: string, snsUserName = '导出前') {
  const signed = snsAccountBind(gw.sandbox.partner!, {
    return_url: 'http://127.0.0.1:9/return',
    notify_url: notifyUrl,
    sns_user_id: snsUserId,
    sns_user_name: snsUserName,
    type: 'buyer',
  }, { signType: 'RSA', charset: 'gbk' });
  return gw.admin.request('POST', '/mapi/complete', { url: mapiUrl(gw.gatewayUrl, signed), login_id: loginId, decision: 'agree' });
}

function member(gw: Gateway, login: string) {
  return gw.sandbox.members.find((m) => m.login_id === login)!;
}

before(async () => {
  const isv = createServer((req, res) => req.resume().on('end', () => res.end('success')));
  await new Promise<void>((resolve) => isv.listen(0, '127.0.0.1', resolve));
  isv.unref();
  notifyUrl = `http://127.0.0.1:${(isv.address() as AddressInfo).port}/notify`;
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-export-'));
  const gw = await startGateway({ storage: { dataDir: join(dir, 'data') }, notifySchedule: [100] });
  try {
    const operatorId = gw.sandbox.koubei_operators[3].operator_id;
    const code = (await gw.admin.request('POST', '/koubei/auth-codes', { app_id: gw.sandbox.app!.app_id, operator_id: operatorId })).json.code;
    const bound = await bind(gw, 'sns-exported', 'buyer@sandbox.gatewaydo');
    assert.equal(bound.json.code, 'T');
    const seller = member(gw, 'seller@sandbox.gatewaydo');
    assert.ok((await zhimaperInnerApply(gw.gatewayUrl, gw.sandbox.app!, seller)).ok);
    assert.equal((await gw.admin.request('POST', '/faults', { target: 'sns.cancel.account.bind', latency_ms: 5, probability: 0.3 })).status, 201);
    while ((await gw.admin.request('GET', '/notifications?state=delivered')).json.length < 1) await new Promise((r) => setTimeout(r, 50));
    before_ = { file: join(dir, 'state.json'), state: undefined as never, code, operatorId, bindKey: verifyReturn(gw.sandbox.partner!, bound.json.return_url, 'gbk').params.key };
  } finally {
    await gw.close();
  }
  const run = await runCli(['export', '--data-dir', join(dir, 'data'), '--output', before_.file], EMBEDDED);
  assert.equal(run.code, 0, run.stderr);
  before_.state = JSON.parse(readFileSync(before_.file, 'utf8'));
});

test('the state file: every table, personal data in clear instead of sealed, owner-only', () => {
  const { state } = before_;
  assert.equal(state.format, 'gatewaydo-state');
  assert.equal(state.version, 1);
  assert.equal(statSync(before_.file).mode & 0o777, 0o600);
  for (const table of ['members', 'partners', 'apps', 'operators', 'auth_codes', 'bind_requests', 'bindings', 'zhima_auths', 'tokens', 'notifications', 'notify_attempts', 'sms', 'request_log', 'faults', 'meta'] as const) {
    assert.ok(state.tables[table].length > 0, `${table} exported`);
  }
  const buyer = state.tables.members.find((m) => m.login_id === 'buyer@sandbox.gatewaydo')!;
  assert.equal(buyer.name, '张三');
  assert.equal(typeof buyer.cert_no, 'string');
  assert.ok(!('name_enc' in buyer) && !('identity_hash' in buyer), 'nothing sealed with the old key');
  assert.match(String(state.tables.sms[0].mobile), /^1\d{10}$/);
  const spec = state.tables.meta.find((m) => m.key === 'sandbox')!;
  assert.equal(spec.sealed, true);
  assert.equal(JSON.parse(String(spec.value)).members.length, 4);
});

/** What a client sees of the state: the exported code, binding and identities all still work. */
async function sameAnswers(gw: Gateway) {
  const app = gw.sandbox.app!;
  const operator = await koubeiMemberDataOauthQuery(gw.gatewayUrl, app, { code: before_.code });
  assert.ok(operator.ok, JSON.stringify(operator));
  assert.equal(operator.operator_id, before_.operatorId);
  assert.deepEqual(operator.shop_ids, gw.sandbox.koubei_operators[3].shop_ids);

  const repeated = await bind(gw, 'sns-exported', 'buyer@sandbox.gatewaydo');
  assert.equal(repeated.json.code, 'BIND_ERROR_REPEAT', 'the exported bind request was already decided');
  const taken = await bind(gw, 'sns-exported', 'seller@sandbox.gatewaydo', '导入后');
  const refused = verifyReturn(gw.sandbox.partner!, taken.json.return_url, 'gbk');
  assert.ok(refused.valid, 'signed with the imported partner keys');
  assert.equal(refused.params.error, 'BIND_ERROR_HAS_CERTIFIED');
  const rebound = await bind(gw, 'sns-exported', 'buyer@sandbox.gatewaydo', '再次绑定');
  assert.equal(verifyReturn(gw.sandbox.partner!, rebound.json.return_url, 'gbk').params.key, before_.bindKey, 'the same binding');

  // Identities match under the new data key; new rows get ids after the imported ones.
  const tokens = await zhimaperInnerApply(gw.gatewayUrl, app, member(gw, 'buyer@sandbox.gatewaydo'));
  assert.ok(tokens.ok, JSON.stringify(tokens));
  assert.equal((await bind(gw, 'sns-new', 'buyer@sandbox.gatewaydo')).json.code, 'T');
  const members = (await gw.admin.request('GET', '/members')).json as Array<{ name: string }>;
  assert.deepEqual(members.map((m) => m.name).sort(), ['张三', '李四', '王五', '赵六'].sort());
}

test('SQLite to SQLite with another data key: the same state, the same answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-import-'));
  const run = await runCli(['import', '--data-dir', dir, before_.file], EMBEDDED);
  assert.equal(run.code, 0, run.stderr);
  assert.notEqual(readFileSync(join(dir, 'data.key'), 'utf8'), readFileSync(join(before_.file, '..', 'data', 'data.key'), 'utf8'));
  const gw = await startGateway({ storage: { dataDir: dir } });
  try {
    assert.deepEqual((await gw.exportState()).tables, before_.state.tables, 'exported again, identical');
    await sameAnswers(gw);
  } finally {
    await gw.close();
  }
});

/** PostgreSQL `real` is single precision: compare floats to 6 digits. */
function comparable(tables: StateFile['tables']): unknown {
  return JSON.parse(JSON.stringify(tables), (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v));
}

test('SQLite to PostgreSQL: the same state, the same answers', async (t) => {
  if (!process.env.DATABASE_URL) return t.skip('DATABASE_URL is not set: no PostgreSQL to import into');
  const databaseUrl = await freshDatabaseUrl(process.env.DATABASE_URL);
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-import-pg-'));
  const run = await runCli(['import', '--database-url', databaseUrl, '--data-dir', dir, before_.file]);
  assert.equal(run.code, 0, run.stderr);
  const gw = await startGateway({ storage: { databaseUrl, dataDir: dir } });
  try {
    assert.deepEqual(comparable((await gw.exportState()).tables), comparable(before_.state.tables));
    await sameAnswers(gw);
  } finally {
    await gw.close();
  }
});

test('import is all or nothing: a bad row, another schema or an unknown table changes nothing', async () => {
  const gw = await startTestGateway();
  try {
    const state = await exportState(gw.ctx.storage, gw.ctx.vault);
    const broken = structuredClone(before_.state);
    delete broken.tables.members[2].name;
    await assert.rejects(importState(gw.ctx.storage, gw.ctx.vault, broken), (err: Error) => err instanceof StateError && /members\[2\]\.name: must be a string/.test(err.message));
    const badRow = structuredClone(before_.state);
    (badRow.tables.tokens[0] as Record<string, unknown>).colour = 'blue';
    await assert.rejects(importState(gw.ctx.storage, gw.ctx.vault, badRow), (err: Error) => err instanceof StateError && /^tokens/.test(err.message));
    await assert.rejects(importState(gw.ctx.storage, gw.ctx.vault, { ...before_.state, schema: '099_future' }), /schema is 099_future/);
    await assert.rejects(importState(gw.ctx.storage, gw.ctx.vault, { ...before_.state, tables: { ...before_.state.tables, widgets: [] } } as StateFile), /unknown table widgets/);
    await assert.rejects(importState(gw.ctx.storage, gw.ctx.vault, { format: 'other' } as never), /not a gatewaydo state file/);
    assert.deepEqual((await exportState(gw.ctx.storage, gw.ctx.vault)).tables, state.tables);
  } finally {
    await gw.close();
  }
});

test('export refuses a database sealed with another data key, naming the cause', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-wrong-key-'));
  const imported = await runCli(['import', '--data-dir', dir, before_.file], EMBEDDED);
  assert.equal(imported.code, 0, imported.stderr);
  const run = await runCli(['export', '--data-dir', dir], { ...EMBEDDED, GATEWAYDO_DATA_KEY: '00'.repeat(32) });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /cannot unseal personal data: this is not the data key/);
  assert.equal(run.stdout, '');
});

test('serve --export-on-exit writes the state when stopped by SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-serve-export-'));
  const out = join(dir, 'state.json');
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--export-on-exit', out], {
    cwd: ROOT,
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      if (stdout.includes('admin token')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`serve exited early (${code})`)));
  });
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  const state = JSON.parse(readFileSync(out, 'utf8')) as StateFile;
  assert.equal(state.tables.members.length, 4);
  assert.equal(statSync(out).mode & 0o777, 0o600);
});
