import { after, before, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { csrfIn, FormBrowser } from '../support/form-browser.ts';
import { encodeForm, pageErrorCode, signParams, signedUrl, type PartnerKeys } from '../support/mapi-client.ts';

/**
 * Issue 8: every comparison with a secret goes through crypto.timingSafeEqual — the admin
 * token, the MAPI MD5 signature, CSRF tokens (bind pages, portal, console), the console
 * sign-in token, member and operator passwords (also for a login id that does not exist,
 * so timing does not reveal which do). Watched by wrapping node:crypto's export (the live
 * ESM bindings are re-synced), so replacing one with `===` fails here.
 */
let gw: TestGateway;
let keys: PartnerKeys;
const spy = mock.method(crypto, 'timingSafeEqual');

before(async () => {
  syncBuiltinESMExports();
  gw = await startTestGateway();
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});
after(async () => {
  spy.mock.restore();
  syncBuiltinESMExports();
  await gw.close();
});

/** How many constant-time comparisons `what` made. */
async function comparisons(what: () => Promise<unknown>): Promise<number> {
  const before = spy.mock.callCount();
  await what();
  return spy.mock.callCount() - before;
}

/** Runs `what` and asserts it compared at least once in constant time. */
async function comparesInConstantTime(label: string, what: () => Promise<void>): Promise<void> {
  assert.ok((await comparisons(what)) > 0, `${label}: no timingSafeEqual call`);
}

test('admin API token', async () => {
  await comparesInConstantTime('admin token', async () => {
    const res = await fetch(`${gw.url}/admin/api/apps`, { headers: { authorization: `Bearer ${'x'.repeat(48)}` } });
    assert.equal(res.status, 401);
  });
});

test('MAPI MD5 signature', async () => {
  await comparesInConstantTime('MD5 sign', async () => {
    const params = signParams({ service: 'sns.cancel.account.bind', partner: keys.partner, _input_charset: 'utf-8', sns_user_id: 'ct', key: 'k' }, 'MD5', keys, 'utf-8');
    const res = await fetch(`${gw.gatewayUrl}?${encodeForm({ ...params, sign: 'f'.repeat(32) }, 'utf-8')}`);
    assert.match(await res.text(), /ILLEGAL_SIGN/);
  });
});

test('bind page: CSRF token and member password (also for an unknown login id)', async () => {
  const browser = new FormBrowser(gw.url);
  const opened = await browser.follow(signedUrl(gw.gatewayUrl, {
    service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: 'http://127.0.0.1:9/r', notify_url: 'http://127.0.0.1:9/n',
    sns_user_id: 'constant_time', sns_user_name: 'x', type: 'common',
  }, 'MD5', keys, 'utf-8'));
  const flow = opened.location!;
  const csrf = csrfIn((await browser.get(flow)).text);
  await comparesInConstantTime('bind CSRF', async () => {
    assert.equal((await browser.post(`${flow}/login`, { _csrf: csrf.replace(/.$/, (c) => (c === '0' ? '1' : '0')), login_id: 'a', password: 'b' })).status, 403);
  });
  // The CSRF check alone (no login id: no password check), then one more for each password.
  const csrfOnly = await comparisons(() => browser.post(`${flow}/login`, { _csrf: csrf, login_id: '', password: '' }));
  const known = await comparisons(() => browser.post(`${flow}/login`, { _csrf: csrf, login_id: 'buyer@sandbox.gatewaydo', password: 'wrong' }));
  const unknown = await comparisons(() => browser.post(`${flow}/login`, { _csrf: csrf, login_id: 'nobody@sandbox.gatewaydo', password: 'wrong' }));
  assert.ok(csrfOnly >= 1, 'the CSRF token');
  assert.ok(known > csrfOnly, 'a member password');
  assert.equal(unknown, known, 'a login id with no member costs the same comparison');
  assert.equal(pageErrorCode((await browser.get(flow)).text), undefined, 'still on the login page');
});

test('Koubei portal: CSRF token and operator password (also for an unknown login id)', async () => {
  const browser = new FormBrowser(gw.url);
  const csrf = csrfIn((await browser.get('/koubei/portal')).text);
  await comparesInConstantTime('portal CSRF', async () => {
    assert.equal((await browser.post('/koubei/portal', { _csrf: 'x', action: 'login' })).status, 403);
  });
  const csrfOnly = await comparisons(() => browser.post('/koubei/portal', { _csrf: csrf, action: 'choose' }));
  const known = await comparisons(() => browser.post('/koubei/portal', { _csrf: csrf, action: 'login', login_id: 'mer@koubei.sandbox', password: 'wrong' }));
  const unknown = await comparisons(() => browser.post('/koubei/portal', { _csrf: csrf, action: 'login', login_id: 'nobody@koubei.sandbox', password: 'wrong' }));
  assert.ok(csrfOnly >= 1, 'the CSRF token');
  assert.ok(known > csrfOnly, 'an operator password');
  assert.equal(unknown, known, 'a login id with no operator costs the same comparison');
});

test('console: sign-in CSRF, admin token, and the CSRF token of a signed-in form', async () => {
  const browser = new FormBrowser(gw.url);
  const csrf = csrfIn((await browser.get('/console/login')).text);
  const csrfOnly = await comparisons(() => browser.post('/console/login', { _csrf: 'x', token: gw.adminToken }));
  const token = await comparisons(() => browser.post('/console/login', { _csrf: csrf, token: 'wrong' }));
  assert.ok(csrfOnly >= 1, 'the sign-in CSRF token');
  assert.ok(token > csrfOnly, 'the admin token');
  assert.equal((await browser.post('/console/login', { _csrf: csrf, token: gw.adminToken })).status, 303);
  await comparesInConstantTime('console form CSRF', async () => {
    assert.equal((await browser.post('/console/faults', { _csrf: 'x', target: '*' })).status, 403);
  });
});
