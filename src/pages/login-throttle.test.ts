import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { csrfIn, FormBrowser } from '../../test/support/form-browser.ts';
import { signedUrl, type PartnerKeys } from '../../test/support/mapi-client.ts';
import { MAX_ATTEMPTS, THROTTLED_MESSAGE_EN, THROTTLED_MESSAGE_ZH } from './login-throttle.ts';

/**
 * Issue 8, brute force: the MAPI bind login, the Koubei portal and the console sign-in
 * allow MAX_ATTEMPTS attempts per login id (console: per client address) per 15 minutes
 * unless one succeeds; then even the right password is refused with a throttle message.
 * The count is in the database, so a second server on the same storage refuses too.
 */
let gw: TestGateway;
let second: TestGateway;
let keys: PartnerKeys;
let seq = 0;

before(async () => {
  gw = await startTestGateway();
  // Another server on the same storage (same data dir and key; same schema on PostgreSQL).
  second = await startTestGateway({ dataDir: gw.ctx.config.dataDir!, databaseUrl: gw.storageEnv.DATABASE_URL });
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});
after(async () => {
  await second.close();
  await gw.close();
});

/** A fresh bind flow on `server`: the browser is on its login page. */
async function bindLogin(server: TestGateway): Promise<{ browser: FormBrowser; login: (loginId: string, password: string) => Promise<{ status: number; text: string }> }> {
  const browser = new FormBrowser(server.url);
  const opened = await browser.follow(signedUrl(server.gatewayUrl, {
    service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: 'http://127.0.0.1:9/r', notify_url: 'http://127.0.0.1:9/n',
    sns_user_id: `throttle_${process.pid}_${++seq}`, sns_user_name: 'x', type: 'common',
  }, 'MD5', keys, 'utf-8'));
  assert.equal(opened.status, 302);
  const flow = opened.location!;
  const csrf = csrfIn((await browser.get(flow)).text);
  return { browser, login: (login_id, password) => browser.post(`${flow}/login`, { _csrf: csrf, login_id, password }) };
}

function member(login: string) {
  return gw.sandbox.members.find((m) => m.login_id === login)!;
}

test('MAPI bind login: after 5 wrong passwords the right one is refused too — on every server', async () => {
  const buyer = member('buyer@sandbox.gatewaydo');
  const flow = await bindLogin(gw);
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const wrong = await flow.login(buyer.login_id, `wrong-${i}`);
    assert.equal(wrong.status, 200);
    assert.match(wrong.text, /登录密码不正确/);
  }
  const refused = await flow.login(buyer.login_id, buyer.password);
  assert.equal(refused.status, 429);
  assert.ok(refused.text.includes(THROTTLED_MESSAGE_ZH));

  const elsewhere = await bindLogin(second);
  assert.equal((await elsewhere.login(buyer.login_id, buyer.password)).status, 429, 'the count is shared through the database');
  assert.equal((await elsewhere.login(` ${buyer.login_id.toUpperCase()} `, buyer.password)).status, 429, 'the same login id in another spelling');
  const seller = member('seller@sandbox.gatewaydo');
  assert.equal((await elsewhere.login(seller.login_id, seller.password)).status, 303, 'other login ids are not affected');
});

test('a success clears the count; a parallel burst is counted exactly', async () => {
  const seller = member('protected@sandbox.gatewaydo');
  const flow = await bindLogin(gw);
  for (let i = 0; i < MAX_ATTEMPTS - 1; i++) assert.equal((await flow.login(seller.login_id, 'nope')).status, 200);
  assert.equal((await flow.login(seller.login_id, seller.password)).status, 303);
  const again = await bindLogin(gw);
  for (let i = 0; i < MAX_ATTEMPTS; i++) assert.equal((await again.login(seller.login_id, 'nope')).status, 200, `attempt ${i + 1} after a success`);

  // Twenty guesses at once for one login id: five are checked, the rest refused unchecked.
  const burst = await bindLogin(second);
  const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => burst.login('nobody@sandbox.gatewaydo', `guess-${i}`).then((r) => r.status)));
  assert.equal(statuses.filter((s) => s === 200).length, MAX_ATTEMPTS);
  assert.equal(statuses.filter((s) => s === 429).length, 20 - MAX_ATTEMPTS);
});

test('Koubei portal: throttled per operator login id, across servers', async () => {
  const operator = gw.sandbox.koubei_operators.find((o) => o.operator_type === 'MER')!;
  const browser = new FormBrowser(gw.url);
  const csrf = csrfIn((await browser.get('/koubei/portal')).text);
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    assert.equal((await browser.post('/koubei/portal', { _csrf: csrf, action: 'login', login_id: operator.login_id, password: 'wrong' })).status, 401);
  }
  const refused = await browser.post('/koubei/portal', { _csrf: csrf, action: 'login', login_id: operator.login_id, password: operator.password });
  assert.equal(refused.status, 429);
  assert.ok(refused.text.includes(THROTTLED_MESSAGE_ZH));
  const other = new FormBrowser(second.url);
  const otherCsrf = csrfIn((await other.get('/koubei/portal')).text);
  assert.equal((await other.post('/koubei/portal', { _csrf: otherCsrf, action: 'login', login_id: operator.login_id, password: operator.password })).status, 429);
});

test('console sign-in: throttled per client address', async () => {
  const browser = new FormBrowser(second.url);
  const csrf = csrfIn((await browser.get('/console/login')).text);
  for (let i = 0; i < MAX_ATTEMPTS; i++) assert.equal((await browser.post('/console/login', { _csrf: csrf, token: `guess-${i}` })).status, 401);
  const refused = await browser.post('/console/login', { _csrf: csrf, token: gw.adminToken });
  assert.equal(refused.status, 429);
  assert.ok(refused.text.includes(THROTTLED_MESSAGE_EN));
});

test('the attempts table holds keyed hashes, never a login id', async () => {
  const rows = await sql<{ key: string }>`select key from login_attempts`.execute(gw.ctx.db);
  assert.ok(rows.rows.length >= 3);
  for (const { key } of rows.rows) assert.match(key, /^[0-9a-f]{64}$/);
});
