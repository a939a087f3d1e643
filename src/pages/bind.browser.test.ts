import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import {
  parseQuery,
  signedUrl,
  startIsvServer,
  verifyParams,
  type IsvHit,
  type IsvServer,
  type MapiCharset,
  type MapiSignType,
  type Params,
  type PartnerKeys,
} from '../../test/support/mapi-client.ts';

/**
 * sns.account.bind in Debian's headless Chromium, as an ISV's own browser test drives it:
 * a URL signed by the independent client, the login and consent forms by their names,
 * the return_url and notify_url of a local ISV site, notify_verify.
 */
let gw: TestGateway;
let isv: IsvServer;
let keys: PartnerKeys;
let browser: Browser;

const BUYER = { login_id: 'buyer@sandbox.gatewaydo', password: 'buyer123' };

before(async () => {
  gw = await startTestGateway({ notifySchedule: '200ms,400ms' });
  // The ISV site: its notify_url answers `success`; /notify-broken always fails.
  isv = await startIsvServer((hit) => (hit.path === '/notify-broken' ? { status: 500, body: 'fail' } : { status: 200, body: 'success' }));
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await isv?.close();
  await gw?.close();
});

function bindUrl(signType: MapiSignType, charset: MapiCharset, overrides: Params): string {
  const params = {
    service: 'sns.account.bind',
    partner: keys.partner,
    _input_charset: charset,
    return_url: `${isv.url}/return`,
    notify_url: `${isv.url}/notify`,
    sns_user_name: '豆瓣小组长',
    type: 'common',
    ...overrides,
  };
  return signedUrl(gw.gatewayUrl, params, signType, keys, charset);
}

async function logIn(page: Page, who = BUYER): Promise<void> {
  await page.fill('input[name="login_id"]', who.login_id);
  await page.fill('input[name="password"]', who.password);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]')]);
}

/** Opens the signed URL, logs in, agrees; returns the return_url hit the ISV site received. */
async function bindInBrowser(url: string, snsUserId: string, charset: MapiCharset, expectName: string): Promise<IsvHit> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    assert.ok(await page.isVisible('input[name="login_id"]'), 'the login page');
    await logIn(page);
    const consent = await page.textContent('body');
    assert.match(consent!, new RegExp(expectName));
    assert.match(consent!, new RegExp(snsUserId));
    assert.match(consent!, /沙箱合作伙伴/);
    const returned = isv.waitFor((h) => h.path === '/return' && parseQuery(h.rawQuery, charset).sns_user_id === snsUserId);
    await page.click('button[name="decision"][value="agree"]');
    const [hit] = await returned;
    await page.waitForURL((u) => u.href.startsWith(`${isv.url}/return?`));
    return hit;
  } finally {
    await context.close();
  }
}

async function notifyVerify(notifyId: string): Promise<string> {
  return (await fetch(`${gw.gatewayUrl}?service=notify_verify&partner=${keys.partner}&notify_id=${notifyId}`)).text();
}

for (const signType of ['MD5', 'RSA', 'DSA'] as MapiSignType[]) {
  test(`${signType}: log in, agree, land on return_url signed; the notification arrives signed; notify_verify says true`, async () => {
    const sns = `browser_${signType}_${process.pid}`;
    const hit = await bindInBrowser(bindUrl(signType, 'utf-8', { sns_user_id: sns }), sns, 'utf-8', '豆瓣小组长');
    const r = parseQuery(hit.rawQuery, 'utf-8');
    assert.ok(verifyParams(r, keys, 'utf-8'), 'the return verifies with the independent verifier');
    assert.equal(r.sign_type, signType);
    assert.equal(r.is_success, 'T');
    assert.equal(r.alipay_login_id, BUYER.login_id);
    assert.match(r.key, /^[0-9A-Za-z]{40}$/);

    const [notice] = await isv.waitFor((h) => h.path === '/notify' && parseQuery(h.body, 'utf-8').sns_user_id === sns);
    assert.equal(notice.method, 'POST');
    assert.match(String(notice.headers['content-type']), /^application\/x-www-form-urlencoded; ?charset=utf-8/);
    const n = parseQuery(notice.body, 'utf-8');
    assert.ok(verifyParams(n, keys, 'utf-8'), 'the notification verifies');
    assert.match(n.notify_id, /^[0-9a-f]{32}$/);
    assert.match(n.notify_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(n.notify_type, 'sns_account_bind');
    assert.deepEqual([n.is_success, n.key, n.alipay_card_no], ['T', r.key, r.alipay_card_no]);
    assert.equal(await notifyVerify(n.notify_id), 'true');
    assert.equal(await notifyVerify('f'.repeat(32)), 'false');
  });
}

test('gbk: a Chinese sns_user_name signed over gbk bytes shows, binds, and returns and notifies in gbk', async () => {
  const sns = `小组_${process.pid}`;
  const hit = await bindInBrowser(bindUrl('DSA', 'gbk', { sns_user_id: sns, sns_user_name: '我是王小二', _input_charset: 'GBK' }), sns, 'gbk', '我是王小二');
  const r = parseQuery(hit.rawQuery, 'gbk');
  assert.ok(verifyParams(r, keys, 'gbk'));
  assert.equal(r.is_success, 'T');
  const [notice] = await isv.waitFor((h) => h.path === '/notify' && parseQuery(h.body, 'gbk').sns_user_id === sns);
  assert.match(String(notice.headers['content-type']), /charset=gbk/);
  assert.ok(verifyParams(parseQuery(notice.body, 'gbk'), keys, 'gbk'));
});

test('a wrong password shows the message on the login page and goes nowhere', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(bindUrl('MD5', 'utf-8', { sns_user_id: `browser_wrong_${process.pid}` }));
    await logIn(page, { login_id: BUYER.login_id, password: 'wrong-password' });
    assert.match((await page.textContent('[role="alert"]'))!, /账户名或登录密码不正确/);
    assert.ok(page.url().startsWith(gw.url), 'still on the gateway');
    assert.ok(await page.isVisible('input[name="password"]'));
  } finally {
    await context.close();
  }
});

test('a failing notify_url is retried on the schedule (200ms, 400ms) and ends failed with its attempts', async () => {
  const sns = `browser_broken_${process.pid}`;
  await bindInBrowser(bindUrl('MD5', 'utf-8', { sns_user_id: sns, notify_url: `${isv.url}/notify-broken` }), sns, 'utf-8', '豆瓣小组长');
  const hits = await isv.waitFor('/notify-broken', 3);
  assert.ok(hits[1].at - hits[0].at >= 190);
  assert.ok(hits[2].at - hits[1].at >= 390);
  let failed: any;
  for (let i = 0; i < 100 && !failed; i++) {
    const list = (await gw.admin('GET', '/notifications?state=failed')).json;
    failed = list.find((x: any) => parseQuery(x.body, 'utf-8').sns_user_id === sns);
    if (!failed) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(failed, 'marked failed');
  assert.equal(failed.attempt_log.length, 3);
  assert.ok(failed.attempt_log.every((a: any) => a.http_status === 500 && a.body_excerpt === 'fail'));
});
