import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, createVerify } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.close());

test('healthz answers 200 with the storage engine', async () => {
  const res = await fetch(`${gw.url}/healthz`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.equal(body.storage, process.env.DATABASE_URL ? 'postgres' : 'sqlite');
});

test('admin API refuses a missing or wrong token with a bare 401', async () => {
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: gw.adminToken }];
  for (const headers of attempts) {
    const res = await fetch(`${gw.url}/admin/api/sandbox`, { headers });
    assert.equal(res.status, 401);
    const text = await res.text();
    assert.ok(!text.includes('PRIVATE'), 'no key material leaks');
    assert.ok(!text.includes(gw.adminToken));
  }
});

test('sandbox has the documented shape with working PEM key pairs', async () => {
  const { status, json } = await gw.admin('GET', '/sandbox');
  assert.equal(status, 200);
  assert.equal(json.gateway, gw.gatewayUrl);
  assert.match(json.app.app_id, /^\d{16}$/);
  assert.equal(json.app.sign_type, 'RSA2');
  const data = Buffer.from('app_id=1&method=x');
  const sig = createSign('RSA-SHA256').update(data).sign(json.app.app_private_key);
  assert.ok(createVerify('RSA-SHA256').update(data).verify(json.app.app_public_key, sig));
  assert.ok(!createVerify('RSA-SHA256').update(data).verify(json.app.alipay_public_key, sig), 'platform key is a different pair');
  assert.match(json.partner.partner, /^2088\d{12}$/);
  assert.match(json.partner.md5_key, /^[0-9a-f]{32}$/);
  for (const k of ['rsa_private_key', 'dsa_private_key']) assert.match(json.partner[k], /-----BEGIN (RSA |)PRIVATE KEY-----/);
  for (const k of ['rsa_public_key', 'dsa_public_key', 'alipay_rsa_public_key', 'alipay_dsa_public_key']) assert.match(json.partner[k], /-----BEGIN PUBLIC KEY-----/);
  const dsaSig = createSign('SHA1').update(data).sign(json.partner.dsa_private_key);
  assert.ok(createVerify('SHA1').update(data).verify(json.partner.dsa_public_key, dsaSig));
  const roles = json.members.map((m: any) => [m.certified, m.protected]);
  assert.deepEqual(roles, [[true, false], [true, false], [false, false], [true, true]]);
  for (const m of json.members) assert.match(m.user_id, /^2088\d{12}$/);
  assert.deepEqual(json.koubei_operators.map((o: any) => o.operator_type).sort(), ['MER', 'MER_STAFF', 'PROVIDER', 'PROVIDER_STAFF', 'SALES']);
});

test('bad admin input gets a 400 naming the field', async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['/members', { login_id: 'x@y.z', password: 'secret1', name: '测试', cert_no: '330701199001011312', mobile: '13500000000' }, /cert_no/],
    ['/members', { login_id: 'x@y.z', password: 'secret1', name: '测试', cert_no: 12, mobile: '135' }, /cert_no|mobile/],
    ['/apps', { sign_type: 'MD5' }, /sign_type/],
    ['/apps', { app_public_key: 'not a key' }, /app_public_key/],
    ['/partners', { partner: '123' }, /partner/],
  ];
  for (const [path, body, field] of cases) {
    const { status, json } = await gw.admin('POST', path, body);
    assert.equal(status, 400, `${path} ${JSON.stringify(body)}`);
    assert.match(json.message, field);
  }
  const notJson = await fetch(`${gw.url}/admin/api/members`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
    body: '{"broken',
  });
  assert.equal(notJson.status, 400);
  assert.ok(!(await notJson.text()).includes(' at '), 'no stack trace');
});

test('creating a member, an app and a partner; duplicates refused', async () => {
  const member = { login_id: 'new@sandbox.test', password: 'secret1', name: '钱七', cert_no: '11010119900307001X'.slice(0, 17), mobile: '13512345678' };
  const { idCheckDigit } = await import('../domain/ids.ts');
  member.cert_no += idCheckDigit(member.cert_no);
  const created = await gw.admin('POST', '/members', member);
  assert.equal(created.status, 201);
  assert.equal(created.json.name, '钱七');
  assert.equal((await gw.admin('POST', '/members', member)).status, 409);
  const list = await gw.admin('GET', '/members');
  assert.ok(list.json.some((m: any) => m.login_id === 'new@sandbox.test'));

  const app = await gw.admin('POST', '/apps', { sign_type: 'RSA' });
  assert.equal(app.status, 201);
  assert.equal(app.json.sign_type, 'RSA');
  assert.match(app.json.app_private_key, /PRIVATE KEY/);
  assert.ok((await gw.admin('GET', '/apps')).json.some((a: any) => a.app_id === app.json.app_id));

  const partner = await gw.admin('POST', '/partners', {});
  assert.equal(partner.status, 201);
  assert.match(partner.json.md5_key, /^[0-9a-f]{32}$/);
  assert.equal((await gw.admin('POST', '/partners', { partner: partner.json.partner })).status, 409);
});

test('reset brings back the same sandbox and drops what was added', async () => {
  const before = (await gw.admin('GET', '/sandbox')).json;
  await gw.admin('POST', '/apps', {});
  const reset = await gw.admin('POST', '/reset', {});
  assert.equal(reset.status, 200);
  assert.equal(reset.json.app.app_id, before.app.app_id);
  assert.equal(reset.json.partner.md5_key, before.partner.md5_key);
  assert.equal((await gw.admin('GET', '/apps')).json.length, 1);
});

test('metrics expose request counts by route in Prometheus text', async () => {
  await fetch(`${gw.url}/healthz`);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(text, /gatewaydo_http_requests_total\{route="\/healthz",status="200"\} \d+/);
  assert.match(text, /gatewaydo_http_request_duration_seconds_bucket/);
});
