import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { idCheckDigit } from '../domain/ids.ts';
import { maskCertNo } from '../domain/pii.ts';
import { appendRequestLog } from '../storage/repositories/request-log.ts';
import { startIsvServer } from '../../test/support/mapi-client.ts';
import { completeBind, postSignIn, signInConsole, waitForNotification, type ConsoleClient } from './test-support.ts';

/**
 * The console over plain HTTP: sign-in, session cookie, CSRF, and that each console form
 * changes exactly what the matching admin API call shows.
 */
let gw: TestGateway;
let console_: ConsoleClient;
before(async () => {
  gw = await startTestGateway();
  console_ = await signInConsole(gw.url, gw.adminToken);
});
after(() => gw.close());

test('console pages need a session: a sign-in redirect that comes back to the page', async () => {
  for (const path of ['/console', '/console/apps', '/console/requests?code=40002', '/console/keys/app_private_key.pem']) {
    const res = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
    assert.equal(res.status, 303, path);
    assert.equal(res.headers.get('location'), `/console/login?next=${encodeURIComponent(path)}`);
  }
  const post = await fetch(`${gw.url}/console/reset`, { method: 'POST', redirect: 'manual', body: '' });
  assert.equal(post.status, 303, 'no action without a session');
  const forged = await fetch(`${gw.url}/console`, { headers: { cookie: 'gatewaydo_console=forged' }, redirect: 'manual' });
  assert.equal(forged.status, 303);
});

test('sign-in: wrong token refused, session cookie HttpOnly + SameSite=Strict, no open redirect', async () => {
  const wrong = await postSignIn(gw.url, 'not-the-token');
  assert.equal(wrong.res.status, 401);
  assert.equal(wrong.sessionCookie, undefined);
  assert.match(wrong.res.text, /not the admin token/);

  const ok = await postSignIn(gw.url, gw.adminToken, '/console/faults');
  assert.equal(ok.res.status, 303);
  assert.equal(ok.res.location, '/console/faults');
  const cookie = ok.setCookie.find((c) => c.startsWith('gatewaydo_console='))!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\/console/);
  const stored = await gw.ctx.db.selectFrom('sessions').select('kind').where('id', '=', ok.sessionCookie!.split('=')[1]).executeTakeFirst();
  assert.equal(stored?.kind, 'console');

  for (const next of ['//evil.example/', 'https://evil.example/console', '/console//evil.example', '/admin/api/sandbox']) {
    const r = await postSignIn(gw.url, gw.adminToken, next);
    assert.equal(r.res.location, '/console', next);
  }

  const noLoginCookie = await fetch(`${gw.url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: 'x', token: gw.adminToken }).toString(),
  });
  assert.equal(noLoginCookie.status, 403, 'the sign-in form is CSRF-protected too');
});

test('a POST without the CSRF token (or with a wrong one) is refused and changes nothing', async () => {
  const fields = { target: '*', code: '20000' };
  for (const csrf of [null, 'wrong-token']) {
    const res = await console_.post('/console/faults', fields, csrf);
    assert.equal(res.status, 403);
    assert.match(res.text, /CSRF/);
  }
  assert.deepEqual((await gw.admin('GET', '/faults')).json, []);
  const other = await signInConsole(gw.url, gw.adminToken);
  assert.equal((await console_.post('/console/faults', fields, other.csrf)).status, 403, "another session's token does not do");
});

test('a malformed form body gets a 400 page, never a 500', async () => {
  const res = await fetch(`${gw.url}/console/faults`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: console_.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${console_.csrf}&target=%ZZ`,
  });
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
});

test('creating a member in the console = POST /admin/api/members; identity masked unless revealed', async () => {
  const first17 = '11010519930415' + '123';
  const certNo = first17 + idCheckDigit(first17);
  const res = await console_.post('/console/members', { login_id: 'console@sandbox.test', password: 'secret12', name: '孙八', cert_no: certNo, mobile: '13811112222', certified: 'on' });
  assert.equal(res.status, 303);
  const created = (await gw.admin('GET', '/members')).json.find((m: any) => m.login_id === 'console@sandbox.test');
  assert.deepEqual([created.name, created.cert_no, created.mobile, created.certified, created.protected], ['孙八', certNo, '13811112222', true, false]);

  const masked = await console_.get('/console/members');
  assert.ok(!masked.text.includes(certNo) && !masked.text.includes('13811112222') && !masked.text.includes('孙八'));
  assert.ok(masked.text.includes(maskCertNo(certNo)));
  const revealed = await console_.get('/console/members?reveal=1');
  assert.ok(revealed.text.includes(certNo) && revealed.text.includes('孙八'));

  const duplicate = await console_.post('/console/members', { login_id: 'console@sandbox.test', password: 'secret12', name: '孙八', cert_no: certNo, mobile: '13811112222' });
  assert.equal(duplicate.status, 409);
  assert.match(duplicate.text, /already exists/);
  const invalid = await console_.post('/console/members', { login_id: 'x@y.z', password: 'secret12', name: '孙八', cert_no: '123', mobile: '138' });
  assert.equal(invalid.status, 400);
  assert.match(invalid.text, /cert_no/);

  const flags = await console_.post(`/console/members/${created.user_id}`, { protected: 'on' });
  assert.equal(flags.status, 303);
  const after = (await gw.admin('GET', '/members')).json.find((m: any) => m.user_id === created.user_id);
  assert.deepEqual([after.certified, after.protected], [false, true], 'an unchecked box clears the flag');
});

test('apps in the console: create with an uploaded key, edit, rotate — as the admin API sees it', async () => {
  const created = await console_.post('/console/apps', [
    ['name', 'Uploaded'],
    ['sign_type', 'RSA'],
    ['app_public_key', gw.sandbox.app.app_public_key],
    ['methods', 'koubei.member.data.oauth.query'],
    ['auth_code_ttl_seconds', '900'],
    ['token_policy', 'permanent'],
  ]);
  assert.equal(created.status, 303);
  const appId = /\/console\/apps\/(\d{16})/.exec(created.location ?? '')![1];
  let app = (await gw.admin('GET', '/apps')).json.find((a: any) => a.app_id === appId);
  assert.deepEqual([app.name, app.sign_type, app.app_private_key, app.auth_code_ttl_seconds, app.token_policy], ['Uploaded', 'RSA', null, 900, 'permanent']);
  assert.deepEqual(app.methods, ['koubei.member.data.oauth.query']);
  const page = await console_.get(`/console/apps/${appId}?done=created`);
  assert.match(page.text, /App created/);
  assert.ok(page.text.includes(app.alipay_public_key.split('\n')[1]), 'the page shows the platform public key');

  const edited = await console_.post(`/console/apps/${appId}`, [
    ['sign_type', 'RSA2'],
    ['methods', 'koubei.member.data.oauth.query'],
    ['methods', 'alipay.system.oauth.token'],
    ['isv_url', 'http://127.0.0.1:9/isv'],
    ['auth_code_ttl_seconds', '600'],
    ['token_policy', 'expiring'],
  ]);
  assert.equal(edited.status, 303);
  app = (await gw.admin('GET', '/apps')).json.find((a: any) => a.app_id === appId);
  assert.deepEqual([app.sign_type, app.isv_url, app.auth_code_ttl_seconds, app.token_policy], ['RSA2', 'http://127.0.0.1:9/isv', 600, 'expiring']);
  assert.deepEqual(app.methods, ['koubei.member.data.oauth.query', 'alipay.system.oauth.token']);

  const refused = await console_.post(`/console/apps/${appId}`, [['auth_code_ttl_seconds', '10']]);
  assert.equal(refused.status, 400);
  assert.match(refused.text, /auth_code_ttl_seconds/);

  const rotated = await console_.post(`/console/apps/${appId}/rotate-platform-key`, {});
  assert.equal(rotated.status, 303);
  const after = (await gw.admin('GET', '/apps')).json.find((a: any) => a.app_id === appId);
  assert.notEqual(after.alipay_public_key, app.alipay_public_key);
  assert.equal((await console_.get('/console/apps/2021999999999999')).status, 404);
});

test('partners in the console: create, edit services and allowed domains', async () => {
  const created = await console_.post('/console/partners', [['name', 'Console partner'], ['services', 'sns.account.bind']]);
  assert.equal(created.status, 303);
  const pid = /\/console\/partners\/(2088\d{12})/.exec(created.location ?? '')![1];
  const edited = await console_.post(`/console/partners/${pid}`, { allowed_domains: 'isv.example\nlocalhost', services: 'sns.cancel.account.bind' });
  assert.equal(edited.status, 303);
  const p = (await gw.admin('GET', '/partners')).json.find((x: any) => x.partner === pid);
  assert.equal(p.name, 'Console partner');
  assert.deepEqual(p.services, ['sns.cancel.account.bind']);
  assert.deepEqual(p.allowed_domains, ['isv.example', 'localhost']);
  assert.match(p.rsa_private_key, /PRIVATE KEY/, 'no key uploaded: a pair was generated');
});

test('fault rules in the console: add and delete = the admin API rules', async () => {
  const added = await console_.post('/console/faults', { target: 'koubei.member.data.oauth.query', code: '40004', sub_code: 'SYSTEM_ERROR', sub_msg: '系统繁忙', count: '2', latency_ms: '', probability: '' });
  assert.equal(added.status, 303);
  const [rule] = (await gw.admin('GET', '/faults')).json;
  assert.deepEqual([rule.target, rule.code, rule.sub_code, rule.sub_msg, rule.remaining, rule.probability, rule.latency_ms], ['koubei.member.data.oauth.query', '40004', 'SYSTEM_ERROR', '系统繁忙', 2, null, 0]);
  const refused = await console_.post('/console/faults', { target: '*', code: 'abc' });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /code/);
  assert.equal((await console_.post(`/console/faults/${rule.id}/delete`, {})).status, 303);
  assert.deepEqual((await gw.admin('GET', '/faults')).json, []);
  assert.equal((await console_.post(`/console/faults/${rule.id}/delete`, {})).status, 404);
});

test('keys download as .pem files matching the admin API; platform private keys never', async () => {
  const app = (await gw.admin('GET', '/apps')).json.find((a: any) => a.app_id === gw.sandbox.app.app_id);
  const partner = (await gw.admin('GET', '/partners')).json.find((p: any) => p.partner === gw.sandbox.partner.partner);
  const cases: Array<[string, string]> = [
    ['/console/keys/app_private_key.pem', app.app_private_key],
    [`/console/keys/alipay_public_key.pem?app_id=${app.app_id}`, app.alipay_public_key],
    ['/console/keys/partner_dsa_private_key.pem', partner.dsa_private_key],
    [`/console/keys/alipay_rsa_public_key.pem?partner=${partner.partner}`, partner.alipay_rsa_public_key],
  ];
  for (const [path, key] of cases) {
    const res = await console_.get(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.text.trim(), key.trim());
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="\d{16}_[a-z_]+\.pem"$/);
  }
  for (const path of ['/console/keys/platform_private_key.pem', '/console/keys/app_private_key.txt', '/console/keys/app_private_key.pem?app_id=1']) {
    assert.equal((await console_.get(path)).status, 404, path);
  }
});

test('request log page: filters, and the detail with masked params and the signature diagnosis', async () => {
  const diagnosis = { string_to_sign: 'app_id=2021000000000009&biz_content={"code":"x"}&charset=utf-8', charset: 'utf-8', sign_type: 'RSA2', cause: 'charset_mismatch', detail: '签名按 gbk 编码计算' };
  await appendRequestLog(gw.ctx.db, {
    at: Date.now(), gateway: 'openapi', caller: '2021000000000009', method: 'alipay.user.auth.zhimaper.inner.apply', http_method: 'POST',
    params: { cert_no: maskCertNo('330701199001011311') }, response: '{"x_response":{"code":"40002"}}', code: '40002', sub_code: 'isv.invalid-signature',
    latency_ms: 7, diagnosis, trace_id: 't-console',
  });
  const list = await console_.get('/console/requests?caller=2021000000000009');
  assert.equal(list.status, 200);
  const id = /href="\/console\/requests\/(\d+)"/.exec(list.text)![1];
  assert.doesNotMatch((await console_.get('/console/requests?caller=2021000000000000')).text, /href="\/console\/requests\/\d+"/);
  const detail = await console_.get(`/console/requests/${id}`);
  assert.match(detail.text, /charset_mismatch/);
  assert.ok(detail.text.includes('app_id=2021000000000009&amp;biz_content={&quot;code&quot;:&quot;x&quot;}&amp;charset=utf-8'), 'string to sign shown, escaped');
  assert.ok(detail.text.includes(maskCertNo('330701199001011311')) && !detail.text.includes('330701199001011311'));
  assert.equal((await console_.get('/console/requests?since=soon')).status, 400);
  assert.equal((await console_.get('/console/requests/424242')).status, 404);
});

test('notifications page lists each attempt; "Resend now" = POST /admin/api/notifications/:id/resend', async () => {
  const isv = await startIsvServer(() => ({ status: 502, body: 'upstream down' }));
  try {
    assert.equal((await completeBind(gw, isv.url, 'sns-console')).status, 200);
    await isv.waitFor('/notify', 1);
    const n = await waitForNotification(gw, (x) => x.url.startsWith(isv.url) && x.attempts === 1);
    const list = await console_.get('/console/notifications');
    assert.match(list.text, new RegExp(`id="notification-${n.id}"`));
    assert.match(list.text, /upstream down/);
    assert.match(list.text, /502/);
    const res = await console_.post(`/console/notifications/${n.id}/resend`, {});
    assert.equal(res.status, 303);
    await isv.waitFor('/notify', 2);
    await waitForNotification(gw, (x) => x.id === n.id && x.attempts === 2);
  } finally {
    await isv.close();
  }
  assert.equal((await console_.post('/console/notifications/999999/resend', {})).status, 404);
});

test('reset from the console = POST /admin/api/reset, and the admin stays signed in', async () => {
  await gw.admin('POST', '/apps', {});
  assert.equal((await gw.admin('GET', '/apps')).json.length > 1, true);
  const res = await console_.post('/console/reset', {});
  assert.equal(res.status, 303);
  assert.equal(res.location, '/console?done=reset');
  assert.equal((await gw.admin('GET', '/apps')).json.length, 1);
  const overview = await console_.get('/console?done=reset');
  assert.equal(overview.status, 200, 'a fresh session replaced the one the reset removed');
  assert.match(overview.text, /sandbox was reset/);
});

test('sign-out ends the session', async () => {
  const client = await signInConsole(gw.url, gw.adminToken);
  const res = await client.post('/console/logout', {});
  assert.equal(res.status, 303);
  assert.equal((await client.get('/console')).status, 303);
});
