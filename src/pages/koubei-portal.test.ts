import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AlipaySdk } from 'alipay-sdk';
import { chromium } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';

/** The Koubei operator portal: sign in, pick an app, land on the ISV page with a code that works once. */
const CHROMIUM = '/usr/bin/chromium';
const METHOD = 'koubei.member.data.oauth.query';

let gw: TestGateway;
let sdk: AlipaySdk;

before(async () => {
  gw = await startTestGateway();
  const app = gw.sandbox.app;
  sdk = new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gw.gatewayUrl });
});
after(() => gw.close());

function operator(type: string) {
  return gw.sandbox.koubei_operators.find((o) => o.operator_type === type)!;
}

/** A browser without JavaScript: one cookie, forms posted by hand, redirects not followed. */
class Browser {
  cookie = '';

  async request(path: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    const res = await fetch(`${gw.url}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(this.cookie && { cookie: this.cookie }),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: form && new URLSearchParams(form).toString(),
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }

  async csrf(): Promise<string> {
    const page = await this.request('/koubei/portal');
    return /name="_csrf" value="([0-9a-f]+)"/.exec(page.text)![1];
  }
}

test('portal over plain HTTP: CSRF and password checked, a 302 to the ISV URL with a fresh code', async () => {
  const browser = new Browser();
  const first = await fetch(`${gw.url}/koubei/portal`);
  assert.equal(first.status, 200);
  assert.match(first.headers.get('set-cookie') ?? '', /HttpOnly/i);
  assert.match(first.headers.get('set-cookie') ?? '', /SameSite=Lax/i);
  assert.equal(first.headers.get('x-frame-options'), 'DENY');

  const csrf = await browser.csrf();
  const staff = operator('PROVIDER_STAFF');
  assert.equal((await browser.request('/koubei/portal', { action: 'login', login_id: staff.login_id, password: staff.password })).status, 403, 'no CSRF token');
  assert.equal((await browser.request('/koubei/portal', { _csrf: csrf, action: 'login', login_id: staff.login_id, password: 'wrong' })).status, 401);
  const before = browser.cookie;
  const login = await browser.request('/koubei/portal', { _csrf: csrf, action: 'login', login_id: staff.login_id, password: staff.password });
  assert.equal(login.status, 303);
  assert.notEqual(browser.cookie, before, 'a new session at sign-in');

  const chooser = await browser.request('/koubei/portal');
  assert.ok(chooser.text.includes(gw.sandbox.app.app_id));
  const newCsrf = /name="_csrf" value="([0-9a-f]+)"/.exec(chooser.text)![1];
  assert.equal((await browser.request('/koubei/portal', { _csrf: csrf, action: 'choose', app_id: gw.sandbox.app.app_id })).status, 403, 'the pre-login token is dead');
  const chosen = await browser.request('/koubei/portal', { _csrf: newCsrf, action: 'choose', app_id: gw.sandbox.app.app_id });
  assert.equal(chosen.status, 302);
  const target = new URL(chosen.location!);
  assert.equal(target.origin + target.pathname, `${gw.url}/sandbox/isv`);
  assert.equal(target.searchParams.get('app_id'), gw.sandbox.app.app_id);
  const code = target.searchParams.get('code')!;
  assert.match(code, /^[0-9a-f]{32}$/);

  const row = await gw.ctx.db.selectFrom('auth_codes').selectAll().where('code', '=', code).executeTakeFirstOrThrow();
  assert.equal(row.expires_at - row.created_at, 600_000, "the app's auth_code_ttl_seconds");
  assert.equal(row.operator_id, staff.operator_id);

  const result = await sdk.exec(METHOD, { bizContent: { auth_type: 'pay_member', code } }, { validateSign: true });
  assert.equal(result.operatorId, staff.operator_id);
  assert.equal(result.operatorType, 'PROVIDER_STAFF');
});

test('portal in headless Chromium: log in, pick the app, exchange the code from the ISV page', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const mer = operator('MER');
    await page.goto(`${gw.url}/koubei/portal`);
    await page.fill('#login_id', mer.login_id);
    await page.fill('#password', mer.password);
    await Promise.all([page.waitForURL(`${gw.url}/koubei/portal`), page.click('button[type=submit]')]);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/sandbox/isv'),
      page.click(`button[name=app_id][value="${gw.sandbox.app.app_id}"]`),
    ]);
    const landed = new URL(page.url());
    const code = landed.searchParams.get('code')!;
    assert.equal(landed.searchParams.get('app_id'), gw.sandbox.app.app_id);
    assert.equal(await page.textContent('#param-code'), code, 'the ISV page shows the code it received');

    const result = await sdk.exec(METHOD, { bizContent: { auth_type: 'pay_member', code } }, { validateSign: true });
    assert.equal(result.code, '10000');
    assert.equal(result.operatorId, mer.operator_id);
    assert.equal(result.operatorType, 'MER');
    const again = await sdk.exec(METHOD, { bizContent: { auth_type: 'pay_member', code } }, { validateSign: true });
    assert.equal(again.subCode, 'AUTH_CODE_NOT_EXIST');
  } finally {
    await browser.close();
  }
});
