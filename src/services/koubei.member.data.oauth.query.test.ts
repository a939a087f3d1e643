import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlipaySdk } from 'alipay-sdk';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';

/** koubei.member.data.oauth.query through the official SDK: success, every seed error, single use under load. */
const METHOD = 'koubei.member.data.oauth.query';

let gw: TestGateway;
let sdk: AlipaySdk;

before(async () => {
  gw = await startTestGateway();
  sdk = sdkFor(gw.gatewayUrl, gw.sandbox.app);
});
after(() => gw.close());

function sdkFor(gatewayUrl: string, app: { app_id: string; app_private_key: string | null; alipay_public_key: string }): AlipaySdk {
  return new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gatewayUrl });
}

function operator(type: string) {
  return gw.sandbox.koubei_operators.find((o) => o.operator_type === type)!;
}

async function issue(body: Record<string, unknown> = {}): Promise<string> {
  const { status, json } = await gw.admin('POST', '/koubei/auth-codes', { app_id: gw.sandbox.app.app_id, operator_id: operator('PROVIDER').operator_id, ...body });
  assert.equal(status, 201, JSON.stringify(json));
  assert.match(json.code, /^[0-9a-f]{32}$/);
  return json.code;
}

function query(code: string, extra: Record<string, unknown> = {}, client = sdk) {
  return client.exec(METHOD, { bizContent: { auth_type: 'pay_member', code, ...extra } }, { validateSign: true });
}

function assertBusinessError(result: Record<string, unknown>, subCode: string, subMsg: string): void {
  assert.deepEqual(
    { code: result.code, msg: result.msg, subCode: result.subCode, subMsg: result.subMsg },
    { code: '40004', msg: 'Business Failed', subCode, subMsg },
  );
}

test('success: who the operator is, per operator type', async () => {
  const provider = operator('PROVIDER');
  const ok = await query(await issue({ ext_info: '{"key":"value"}' }));
  assert.equal(ok.code, '10000');
  assert.equal(ok.msg, 'Success');
  assert.equal(ok.operatorId, provider.operator_id);
  assert.equal(ok.operatorType, 'PROVIDER');
  assert.equal(ok.operatorPartnerId, provider.operator_partner_id);
  assert.equal(ok.extInfo, '{"key":"value"}');

  const staff = operator('MER_STAFF');
  const staffAnswer = await query(await issue({ operator_id: staff.operator_id }), { ext_info: 'echo' });
  assert.equal(staffAnswer.operatorType, 'MER_STAFF');
  assert.deepEqual(staffAnswer.shopIds, staff.shop_ids);
  assert.equal(staffAnswer.extInfo, 'echo', "the request's ext_info is echoed when the code has none");

  const sales = await query(await issue({ operator_id: operator('SALES').operator_id }));
  assert.equal(sales.operatorType, 'SALES');
  assert.ok(!('operatorPartnerId' in sales), 'SALES has no partner id');
});

test('INVALID_PARAMETER: auth_type other than pay_member, missing code', async () => {
  assertBusinessError(await sdk.exec(METHOD, { bizContent: { auth_type: 'shop_member', code: await issue() } }, { validateSign: true }), 'INVALID_PARAMETER', '参数有误。');
  assertBusinessError(await sdk.exec(METHOD, { bizContent: { auth_type: 'pay_member' } }, { validateSign: true }), 'INVALID_PARAMETER', '参数有误。');
});

test('AUTH_CODE_NOT_EXIST: an unknown code, and a code already used', async () => {
  assertBusinessError(await query('f'.repeat(32)), 'AUTH_CODE_NOT_EXIST', '授权码不存在');
  const code = await issue();
  assert.equal((await query(code)).code, '10000');
  assertBusinessError(await query(code), 'AUTH_CODE_NOT_EXIST', '授权码不存在');
});

test('AUTH_CODE_EXPIRES: a code past its TTL', async () => {
  const code = await issue({ ttl_seconds: 1 });
  await sleep(1100);
  assertBusinessError(await query(code), 'AUTH_CODE_EXPIRES', '授权码过期');
});

test("ACCESS_NOT_ALLOWED: another app's code, which stays usable by its own app", async () => {
  const { json: other } = await gw.admin('POST', '/apps', { name: '另一个ISV' });
  const { json: issued } = await gw.admin('POST', '/koubei/auth-codes', { app_id: other.app_id, operator_id: operator('MER').operator_id });
  assertBusinessError(await query(issued.code), 'ACCESS_NOT_ALLOWED', '无权访问');
  const own = await query(issued.code, {}, sdkFor(gw.gatewayUrl, other));
  assert.equal(own.code, '10000');
  assert.equal(own.operatorType, 'MER');
});

test('SYSTEM_ERROR: injected by a fault rule, and the code is not consumed', async () => {
  const { status } = await gw.admin('POST', '/faults', { target: METHOD, sub_code: 'SYSTEM_ERROR', count: 1 });
  assert.equal(status, 201);
  const code = await issue();
  assertBusinessError(await query(code), 'SYSTEM_ERROR', '系统繁忙');
  assert.equal((await query(code)).code, '10000');
});

test('admin auth-codes: bad input is a 400, unknown app or operator a 404', async () => {
  assert.equal((await gw.admin('POST', '/koubei/auth-codes', { app_id: gw.sandbox.app.app_id, operator_id: operator('MER').operator_id, ttl_seconds: 0 })).status, 400);
  assert.equal((await gw.admin('POST', '/koubei/auth-codes', { app_id: '2021000000000000', operator_id: operator('MER').operator_id })).status, 404);
  assert.equal((await gw.admin('POST', '/koubei/auth-codes', { app_id: gw.sandbox.app.app_id, operator_id: '2088000000000000' })).status, 404);
  const { json } = await gw.admin('POST', '/koubei/auth-codes', { app_id: gw.sandbox.app.app_id, operator_id: operator('MER').operator_id });
  const ttl = json.expires_at - Date.now();
  assert.ok(ttl > 590_000 && ttl <= 600_000, "default TTL is the app's (10 minutes)");
});

async function race(code: string, clients: AlipaySdk[]): Promise<Record<string, number>> {
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => query(code, {}, clients[i % clients.length])));
  const tally: Record<string, number> = {};
  for (const r of results) tally[String(r.subCode ?? r.code)] = (tally[String(r.subCode ?? r.code)] ?? 0) + 1;
  return tally;
}

test('100 concurrent queries with one code: exactly one success', async () => {
  assert.deepEqual(await race(await issue(), [sdk]), { '10000': 1, AUTH_CODE_NOT_EXIST: 99 });
});

const twoProcessSkip = process.env.DATABASE_URL ? false : 'DATABASE_URL not set: the two-process test needs PostgreSQL';

test('100 concurrent queries split over two server processes on one PostgreSQL: exactly one success', { skip: twoProcessSkip }, async () => {
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const child = spawn(process.execPath, ['bin/gatewaydo.js', 'serve', '--port', '0'], {
    cwd: repo,
    env: { ...process.env, ...gw.storageEnv, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const secondUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`second process did not start: ${out}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /gateway\s+(http:\/\/\S+\/gateway\.do)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`second process exited (${code}): ${out}`)));
    });
    assert.notEqual(secondUrl, gw.gatewayUrl);
    const second = sdkFor(secondUrl, gw.sandbox.app);
    assert.deepEqual(await race(await issue(), [sdk, second]), { '10000': 1, AUTH_CODE_NOT_EXIST: 99 });
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
});
