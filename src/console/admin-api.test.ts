import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, createVerify } from 'node:crypto';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { appendRequestLog, listRequestLog, type RequestLogEntry } from '../storage/repositories/request-log.ts';
import { startIsvServer } from '../../test/support/mapi-client.ts';
import { methodNode, post, signatureValid, signedParams } from '../../test/support/openapi.ts';
import { startRequestLogRetention } from './request-log-retention.ts';
import { completeBind, waitForNotification } from './test-support.ts';

/** The admin API behind every console action: request log, apps, partners, members, faults. */
let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw.close());

const T0 = Date.UTC(2024, 4, 13, 9, 0, 0);

function entry(over: Partial<RequestLogEntry>): RequestLogEntry {
  return {
    at: T0,
    gateway: 'openapi',
    caller: '2021000000000001',
    method: 'koubei.member.data.oauth.query',
    http_method: 'POST',
    params: { method: 'koubei.member.data.oauth.query' },
    response: '{"koubei_member_data_oauth_query_response":{"code":"10000","msg":"Success"},"sign":"x"}',
    code: '10000',
    sub_code: null,
    latency_ms: 3,
    diagnosis: null,
    trace_id: 'trace-1',
    ...over,
  };
}

test('GET /admin/api/requests lists newest first and filters by caller, method, code and time', async () => {
  await gw.admin('POST', '/reset', {});
  const diagnosis = { string_to_sign: 'app_id=2021000000000002&charset=utf-8', charset: 'utf-8', sign_type: 'RSA2', cause: 'wrong_key', detail: 'key mismatch' };
  await appendRequestLog(gw.ctx.db, entry({ at: T0, trace_id: 'a' }));
  await appendRequestLog(gw.ctx.db, entry({ at: T0 + 60_000, trace_id: 'b', caller: '2021000000000002', code: '40002', sub_code: 'isv.invalid-signature', diagnosis }));
  await appendRequestLog(gw.ctx.db, entry({ at: T0 + 120_000, trace_id: 'c', gateway: 'mapi', caller: '2088000000000001', method: 'sns.account.bind', code: 'ILLEGAL_SIGN' }));

  const all = await gw.admin('GET', '/requests');
  assert.equal(all.status, 200);
  assert.deepEqual(all.json.map((e: any) => e.trace_id), ['c', 'b', 'a']);

  const traces = async (query: string) => {
    const res = await gw.admin('GET', `/requests?${query}`);
    assert.equal(res.status, 200, query);
    return res.json.map((e: any) => e.trace_id);
  };
  assert.deepEqual(await traces('caller=2021000000000002'), ['b']);
  assert.deepEqual(await traces('method=sns.account.bind'), ['c']);
  assert.deepEqual(await traces('code=isv.invalid-signature'), ['b'], 'code matches sub_code too');
  assert.deepEqual(await traces('code=40002'), ['b']);
  assert.deepEqual(await traces(`since=${T0 + 60_000}`), ['c', 'b']);
  assert.deepEqual(await traces(`until=${new Date(T0 + 60_000).toISOString()}`), ['b', 'a'], 'ISO times work too');
  assert.deepEqual(await traces('limit=1'), ['c']);
  assert.deepEqual(await traces('caller=&method=&code='), ['c', 'b', 'a'], 'blank filters are no filters');

  const b = all.json[1];
  const detail = await gw.admin('GET', `/requests/${b.id}`);
  assert.equal(detail.status, 200);
  assert.deepEqual(detail.json.diagnosis, diagnosis);
  assert.equal(detail.json.sub_code, 'isv.invalid-signature');
});

test('a rejected gateway request is in the log with its signature diagnosis', async () => {
  const app = gw.sandbox.app;
  const signed = signedParams({ app_id: app.app_id, privateKey: gw.sandbox.partner.rsa_private_key! }, 'koubei.member.data.oauth.query', {
    biz_content: '{"auth_type":"pay_member","code":"x"}',
  });
  const answer = await post(gw.gatewayUrl, signed);
  assert.equal(answer.json.koubei_member_data_oauth_query_response.sub_code, 'isv.invalid-signature');
  const [logged] = (await gw.admin('GET', `/requests?caller=${app.app_id}&code=isv.invalid-signature&limit=1`)).json;
  const detail = (await gw.admin('GET', `/requests/${logged.id}`)).json;
  assert.equal(detail.method, 'koubei.member.data.oauth.query');
  assert.equal(detail.diagnosis.cause, 'wrong_key', 'signed with another private key');
  assert.equal(detail.diagnosis.sign_type, 'RSA2');
  assert.equal(detail.diagnosis.charset, 'utf-8');
  assert.match(detail.diagnosis.string_to_sign, new RegExp(`^app_id=${app.app_id}&biz_content=`));
  assert.equal(detail.params.sign, signed.sign);
  assert.ok(detail.latency_ms >= 0);
});

test('request log queries refuse bad input with a 400 naming the field, unknown ids with 404', async () => {
  for (const [query, field] of [['since=yesterday-ish', /since/], ['limit=0', /limit/], ['limit=abc', /limit/], ['until=2024-13-45', /until/]] as const) {
    const res = await gw.admin('GET', `/requests?${query}`);
    assert.equal(res.status, 400, query);
    assert.match(res.json.message, field);
  }
  assert.equal((await gw.admin('GET', '/requests/999999')).status, 404);
  const notNumber = await gw.admin('GET', '/requests/abc');
  assert.equal(notNumber.status, 400);
  assert.equal(notNumber.json.error, 'invalid_request');
  const res = await fetch(`${gw.url}/admin/api/requests`);
  assert.equal(res.status, 401, 'the request log needs the admin token');
});

test('rotating an app platform key: a new pair, the app key untouched; unknown app is 404', async () => {
  const app = gw.sandbox.app;
  const rotated = await gw.admin('POST', `/apps/${app.app_id}/rotate-platform-key`);
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.json.alipay_public_key, app.alipay_public_key);
  assert.match(rotated.json.alipay_public_key, /BEGIN PUBLIC KEY/);
  assert.equal(rotated.json.app_public_key, app.app_public_key);
  assert.equal(rotated.json.app_private_key, app.app_private_key);
  assert.ok(!JSON.stringify(rotated.json).includes('platform_private_key'), 'the platform private key never leaves');
  const listed = (await gw.admin('GET', '/apps')).json.find((a: any) => a.app_id === app.app_id);
  assert.equal(listed.alipay_public_key, rotated.json.alipay_public_key);
  // The stored private half matches the published public half.
  const stored = await gw.ctx.db.selectFrom('apps').select('platform_private_key').where('app_id', '=', app.app_id).executeTakeFirstOrThrow();
  const sig = createSign('RSA-SHA256').update('x').sign(stored.platform_private_key);
  assert.ok(createVerify('RSA-SHA256').update('x').verify(rotated.json.alipay_public_key, sig));
  assert.equal((await gw.admin('POST', '/apps/2021999999999999/rotate-platform-key')).status, 404);

  // The gateway signs its next answer with the new key.
  const method = 'koubei.member.data.oauth.query';
  const answer = await post(gw.gatewayUrl, signedParams({ app_id: app.app_id, privateKey: app.app_private_key! }, method, { biz_content: '{"auth_type":"pay_member","code":"x"}' }));
  assert.ok(signatureValid(answer, methodNode(method), rotated.json.alipay_public_key));
  assert.ok(!signatureValid(answer, methodNode(method), app.alipay_public_key));
});

test('editing an app: sign type, methods, auth-code TTL, token policy, isv_url; an empty patch changes nothing', async () => {
  const app = gw.sandbox.app;
  const edited = await gw.admin('PATCH', `/apps/${app.app_id}`, {
    sign_type: 'RSA',
    methods: ['koubei.member.data.oauth.query'],
    auth_code_ttl_seconds: 300,
    token_policy: 'permanent',
    isv_url: 'http://127.0.0.1:9/isv',
  });
  assert.equal(edited.status, 200);
  assert.equal(edited.json.sign_type, 'RSA');
  assert.deepEqual(edited.json.methods, ['koubei.member.data.oauth.query']);
  assert.equal(edited.json.auth_code_ttl_seconds, 300);
  assert.equal(edited.json.token_policy, 'permanent');
  assert.equal(edited.json.isv_url, 'http://127.0.0.1:9/isv');
  const same = await gw.admin('PATCH', `/apps/${app.app_id}`, {});
  assert.equal(same.status, 200);
  assert.deepEqual(same.json, edited.json);
  assert.equal((await gw.admin('PATCH', '/apps/2021999999999999', {})).status, 404);
  const bad = await gw.admin('PATCH', `/apps/${app.app_id}`, { auth_code_ttl_seconds: 5 });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /auth_code_ttl_seconds/);
});

test('editing a partner: services and allowed domains; uploaded key drops the private half', async () => {
  const pid = gw.sandbox.partner.partner;
  const edited = await gw.admin('PATCH', `/partners/${pid}`, { services: ['sns.account.bind'], allowed_domains: ['isv.example', 'localhost'] });
  assert.equal(edited.status, 200);
  assert.deepEqual(edited.json.services, ['sns.account.bind']);
  assert.deepEqual(edited.json.allowed_domains, ['isv.example', 'localhost']);
  const created = await gw.admin('POST', '/partners', {});
  const uploaded = await gw.admin('PATCH', `/partners/${created.json.partner}`, { rsa_public_key: gw.sandbox.partner.rsa_public_key });
  assert.equal(uploaded.status, 200);
  assert.equal(uploaded.json.rsa_public_key, gw.sandbox.partner.rsa_public_key);
  assert.equal(uploaded.json.rsa_private_key, null);
  assert.equal((await gw.admin('PATCH', '/partners/2088999999999999', { services: [] })).status, 404);
  const bad = await gw.admin('PATCH', `/partners/${pid}`, { services: ['alipay.trade.pay'] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /services/);
});

test('marking a member certified / protected', async () => {
  const member = gw.sandbox.members.find((m: any) => m.login_id === 'uncertified@sandbox.gatewaydo')!;
  const res = await gw.admin('PATCH', `/members/${member.user_id}`, { certified: true, protected: true });
  assert.equal(res.status, 200);
  assert.equal(res.json.certified, true);
  assert.equal(res.json.protected, true);
  const listed = (await gw.admin('GET', '/members')).json.find((m: any) => m.user_id === member.user_id);
  assert.deepEqual([listed.certified, listed.protected], [true, true]);
  assert.equal((await gw.admin('PATCH', '/members/2088999999999999', { certified: false })).status, 404);
  assert.equal((await gw.admin('PATCH', `/members/${member.user_id}`, { certified: 'yes' })).status, 400);
});

test('fault rules: add, list, delete one, refuse bad ids and empty rules', async () => {
  const added = await gw.admin('POST', '/faults', { target: 'koubei.member.data.oauth.query', code: '40004', sub_code: 'SYSTEM_ERROR', sub_msg: '系统繁忙', count: 1 });
  assert.equal(added.status, 201);
  assert.equal(added.json.remaining, 1);
  assert.ok((await gw.admin('GET', '/faults')).json.some((r: any) => r.id === added.json.id));
  assert.equal((await gw.admin('POST', '/faults', { target: '*' })).status, 400, 'a rule must do something');
  assert.equal((await gw.admin('DELETE', '/faults/abc')).status, 400);
  assert.deepEqual((await gw.admin('DELETE', `/faults/${added.json.id}`)).json, { deleted: added.json.id });
  assert.equal((await gw.admin('DELETE', `/faults/${added.json.id}`)).status, 404);
});

test('resending a notification makes it due at once: one more attempt, recorded', async () => {
  await gw.admin('POST', '/reset', {}); // the partner's allowed domains were narrowed above
  const isv = await startIsvServer(() => ({ status: 200, body: 'fail' }));
  try {
    const completed = await completeBind(gw, isv.url, 'sns-admin-api');
    assert.equal(completed.status, 200, JSON.stringify(completed.json));
    await isv.waitFor('/notify', 1);
    const n = await waitForNotification(gw, (x) => x.url.startsWith(isv.url) && x.attempts === 1);
    assert.equal(n.state, 'pending');
    assert.ok(n.next_attempt_at > Date.now() + 60_000, 'the next retry is minutes away on the schedule');
    const res = await gw.admin('POST', `/notifications/${n.id}/resend`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { resent: n.id });
    await isv.waitFor('/notify', 2);
    const after = await waitForNotification(gw, (x) => x.id === n.id && x.attempts === 2);
    assert.deepEqual(after.attempt_log.map((a: any) => [a.http_status, a.body_excerpt]), [[200, 'fail'], [200, 'fail']]);
  } finally {
    await isv.close();
  }
  assert.equal((await gw.admin('POST', '/notifications/999999/resend')).status, 404);
  assert.equal((await gw.admin('POST', '/notifications/abc/resend')).status, 400);
});

test('request log retention keeps only the newest rows, at start and periodically', async () => {
  await gw.admin('POST', '/reset', {});
  for (let i = 0; i < 8; i++) await appendRequestLog(gw.ctx.db, entry({ trace_id: `r${i}` }));
  const traces = async () => (await listRequestLog(gw.ctx.db)).map((e) => e.trace_id);
  const waitFor = async (done: (t: string[]) => boolean) => {
    const deadline = Date.now() + 5000;
    while (!done(await traces()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  const atStart = startRequestLogRetention({ ...gw.ctx, config: { ...gw.ctx.config, requestLogRetention: 5 } }, 60_000);
  await atStart.stop(); // waits for the prune made at start
  assert.deepEqual(await traces(), ['r7', 'r6', 'r5', 'r4', 'r3']);

  const periodic = startRequestLogRetention({ ...gw.ctx, config: { ...gw.ctx.config, requestLogRetention: 2 } }, 20);
  try {
    await waitFor((t) => t.length === 2);
    await appendRequestLog(gw.ctx.db, entry({ trace_id: 'r8' }));
    await waitFor((t) => t.length === 2 && t[0] === 'r8');
    assert.deepEqual(await traces(), ['r8', 'r7']);
  } finally {
    await periodic.stop();
  }
});
