import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { csrfIn, FormBrowser, type PageAnswer } from '../../test/support/form-browser.ts';
import { pageErrorCode, signedUrl, type PartnerKeys } from '../../test/support/mapi-client.ts';
import { PAGE_HEADERS } from './html.ts';

/**
 * Issue 8, pages: every HTML page — bind login, consent, the gateway's error page, refusals,
 * the Koubei portal, the ISV landing page, the SMS inbox, every console page — carries the
 * security headers and puts a CSRF token in every POST form; every session cookie is
 * HttpOnly with SameSite (Lax for the flows entered from another site, Strict for the
 * console) and scoped to its path. return_url / notify_url must be on a partner's allowed
 * domains when it has any.
 */
let gw: TestGateway;
let keys: PartnerKeys;
const checked: string[] = [];

before(async () => {
  gw = await startTestGateway();
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});
after(async () => {
  console.log(`page security: ${checked.length} HTML answers checked (${[...new Set(checked)].join(', ')})`);
  await gw.close();
});

function assertSecurePage(what: string, page: PageAnswer): void {
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/, `${what}: HTML`);
  for (const [name, value] of Object.entries(PAGE_HEADERS)) assert.equal(page.headers.get(name), value, `${what}: ${name}`);
  const forms = page.text.match(/<form[^>]*method="post"[\s\S]*?<\/form>/g) ?? [];
  for (const form of forms) assert.match(form, /name="_csrf" value="[0-9a-f]{16,}"/, `${what}: a POST form without its CSRF token`);
  checked.push(what);
}

function assertCookie(what: string, page: PageAnswer, name: string, attrs: { path: string; sameSite: 'Lax' | 'Strict' }): void {
  const line = page.setCookies.find((c) => c.startsWith(`${name}=`));
  assert.ok(line, `${what}: sets ${name}`);
  const parts = line.split(';').map((p) => p.trim().toLowerCase());
  assert.ok(parts.includes('httponly'), `${what}: ${name} is HttpOnly`);
  assert.ok(parts.includes(`samesite=${attrs.sameSite.toLowerCase()}`), `${what}: ${name} is SameSite=${attrs.sameSite}`);
  assert.ok(parts.includes(`path=${attrs.path.toLowerCase()}`), `${what}: ${name} is scoped to ${attrs.path}`);
  assert.ok(!parts.includes('secure'), `${what}: not Secure over plain HTTP (the TLS test checks it is over HTTPS)`);
}

function bindParams(overrides: Record<string, string> = {}) {
  return {
    service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: 'http://127.0.0.1:9/return', notify_url: 'http://127.0.0.1:9/notify',
    sns_user_id: `page_${Math.random().toString(36).slice(2)}`, sns_user_name: '页面', type: 'common', ...overrides,
  };
}

test('bind pages: cookie scoped to the flow, headers and CSRF on login, consent, error and refusal pages', async () => {
  const browser = new FormBrowser(gw.url);
  const opened = await browser.follow(signedUrl(gw.gatewayUrl, bindParams(), 'MD5', keys, 'utf-8'));
  assert.equal(opened.status, 302);
  const flow = opened.location!;
  assertCookie('bind flow', opened, 'gwd_bind', { path: flow, sameSite: 'Lax' });
  const login = await browser.get(flow);
  assertSecurePage('bind login', login);
  const csrf = csrfIn(login.text);
  assertSecurePage('bind wrong password', await browser.post(`${flow}/login`, { _csrf: csrf, login_id: 'buyer@sandbox.gatewaydo', password: 'wrong' }));
  const forged = await browser.post(`${flow}/login`, { _csrf: '0'.repeat(32), login_id: 'buyer@sandbox.gatewaydo', password: 'buyer123' });
  assert.equal(forged.status, 403, 'a wrong CSRF token is refused');
  assertSecurePage('bind CSRF refusal', forged);
  const loggedIn = await browser.post(`${flow}/login`, { _csrf: csrf, login_id: 'buyer@sandbox.gatewaydo', password: 'buyer123' });
  assert.equal(loggedIn.status, 303);
  assertCookie('bind login', loggedIn, 'gwd_bind', { path: flow, sameSite: 'Lax' });
  const consent = await browser.get(flow);
  assertSecurePage('bind consent', consent);
  assert.notEqual(csrfIn(consent.text), '', 'consent form carries a token');
  const withoutCookie = await new FormBrowser(gw.url).get(flow);
  assert.equal(pageErrorCode(withoutCookie.text), 'SESSION_TIMEOUT', 'another browser has no session here');
  assertSecurePage('bind without session', withoutCookie);
  assertSecurePage('unknown bind request', await browser.get('/mapi/bind/00000000000000000000000000000000'));
  const refused = await browser.follow(`${gw.gatewayUrl}?service=sns.account.bind&partner=2088000000000000&_input_charset=utf-8`);
  assert.equal(pageErrorCode(refused.text), 'ILLEGAL_PARTNER');
  assertSecurePage('gateway error page', refused);
});

test('Koubei portal, ISV landing page and SMS inbox', async () => {
  const browser = new FormBrowser(gw.url);
  const portal = await browser.get('/koubei/portal');
  assertSecurePage('portal login', portal);
  assertCookie('portal', portal, 'gwd_koubei', { path: '/koubei', sameSite: 'Lax' });
  const forged = await browser.post('/koubei/portal', { _csrf: 'x', action: 'login' });
  assert.equal(forged.status, 403);
  assertSecurePage('portal CSRF refusal', forged);
  const operator = gw.sandbox.koubei_operators[0];
  const signedIn = await browser.post('/koubei/portal', { _csrf: csrfIn(portal.text), action: 'login', login_id: operator.login_id, password: operator.password });
  assert.equal(signedIn.status, 303);
  assertCookie('portal sign-in', signedIn, 'gwd_koubei', { path: '/koubei', sameSite: 'Lax' });
  assertSecurePage('portal app chooser', await browser.get('/koubei/portal'));
  assertSecurePage('ISV landing page', await browser.get('/sandbox/isv?code=x&app_id=y'));
  assertSecurePage('SMS inbox', await browser.get('/sandbox/sms'));
});

test('console: sign-in and every page', async () => {
  const browser = new FormBrowser(gw.url);
  const login = await browser.get('/console/login');
  assertSecurePage('console sign-in', login);
  assertCookie('console sign-in', login, 'gatewaydo_console_login', { path: '/console/login', sameSite: 'Strict' });
  const wrong = await browser.post('/console/login', { _csrf: csrfIn(login.text), token: 'wrong' });
  assert.equal(wrong.status, 401);
  assertSecurePage('console wrong token', wrong);
  const signedIn = await browser.post('/console/login', { _csrf: csrfIn(login.text), token: gw.adminToken });
  assert.equal(signedIn.status, 303);
  assertCookie('console session', signedIn, 'gatewaydo_console', { path: '/console', sameSite: 'Strict' });
  const partner = keys.partner;
  const app = gw.sandbox.app.app_id;
  const member = gw.sandbox.members[0].user_id;
  for (const path of ['/console', '/console/apps', `/console/apps/${app}`, '/console/partners', `/console/partners/${partner}`, '/console/members', '/console/requests', '/console/notifications', '/console/faults']) {
    const page = await browser.get(path);
    assert.equal(page.status, 200, path);
    assertSecurePage(path, page);
  }
  const forged = await browser.post(`/console/members/${member}`, { _csrf: 'x', certified: 'on' });
  assert.equal(forged.status, 403);
  assertSecurePage('console CSRF refusal', forged);
});

test("return_url and notify_url must be on the partner's allowed domains", async () => {
  const created = await gw.admin('POST', '/partners', { allowed_domains: ['isv.example'] });
  assert.equal(created.status, 201);
  const own: PartnerKeys = { ...keys, partner: created.json.partner, md5_key: created.json.md5_key };
  const open = (overrides: Record<string, string>) =>
    fetch(signedUrl(gw.gatewayUrl, bindParams({ partner: own.partner, return_url: 'https://isv.example/return', notify_url: 'https://isv.example/notify', ...overrides }), 'MD5', own, 'utf-8'), { redirect: 'manual' });
  for (const url of ['https://isv.example/r', 'https://shop.isv.example/r', 'http://ISV.EXAMPLE:8443/r']) {
    assert.equal((await open({ return_url: url })).status, 302, `${url} is allowed`);
  }
  for (const url of ['https://evilisv.example/r', 'https://isv.example.evil.test/r', 'https://isv.example@evil.test/r', 'https://evil.test/r?https://isv.example/', 'https://evil.test#isv.example', 'javascript://isv.example/%0aalert(1)']) {
    for (const name of ['return_url', 'notify_url']) {
      const res = await open({ [name]: url });
      assert.equal(res.status, 200, `${name}=${url}: refused, never redirected`);
      assert.equal(pageErrorCode(await res.text()), 'ILLEGAL_ARGUMENT', `${name}=${url}`);
    }
  }
  // The headless path checks the same.
  const headless = await gw.admin('POST', '/mapi/complete', {
    url: signedUrl(gw.gatewayUrl, bindParams({ partner: own.partner, return_url: 'https://evil.test/r', notify_url: 'https://isv.example/n' }), 'MD5', own, 'utf-8'),
    login_id: 'buyer@sandbox.gatewaydo',
    decision: 'agree',
  });
  assert.equal(headless.json.error, 'ILLEGAL_ARGUMENT');
  // Without a list, any http(s) host will do (the sandbox partner).
  const anyHost = await fetch(signedUrl(gw.gatewayUrl, bindParams({ return_url: 'https://anywhere.test/r' }), 'MD5', keys, 'utf-8'), { redirect: 'manual' });
  assert.equal(anyHost.status, 302);
});
