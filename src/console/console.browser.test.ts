import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlipaySdk } from 'alipay-sdk';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { post, signedParams } from '../../test/support/openapi.ts';
import { idCheckDigit } from '../domain/ids.ts';
import { maskName } from '../domain/pii.ts';
import { startIsvServer } from '../../test/support/mapi-client.ts';
import { completeBind, waitForNotification } from './test-support.ts';

/**
 * The console in headless Chromium, as a developer uses it: sign in, read why a request
 * was rejected, create a member, inject a fault and watch the next call fail, resend a
 * notification; every page at desktop and phone size, screenshot to test-artifacts/.
 */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts/console');

let gw: TestGateway;
let browser: Browser;
let page: Page;
/** Everything the browser reported as an error, on any page of any test. */
const browserErrors: string[] = [];

async function openPage(viewport: (typeof VIEWPORTS)[keyof typeof VIEWPORTS]): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const p = await context.newPage();
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') browserErrors.push(`${m.type()}: ${m.text()} @ ${m.location().url}`);
  });
  p.on('pageerror', (e) => browserErrors.push(`pageerror: ${e.message}`));
  p.on('dialog', (d) => void d.accept());
  return p;
}

async function signIn(p: Page): Promise<void> {
  await p.goto(`${gw.url}/console`);
  await p.fill('#token', gw.adminToken);
  await p.click('button:has-text("Sign in")');
  await p.waitForURL(`${gw.url}/console`);
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await openPage(VIEWPORTS.desktop);
});
after(async () => {
  await browser?.close();
  await gw?.close();
});

test('sign in with the admin token; a wrong token is refused', async () => {
  await page.goto(`${gw.url}/console/requests`);
  assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Frequests$/);
  const logged = browserErrors.length;
  await page.fill('#token', 'wrong');
  await page.click('button:has-text("Sign in")');
  assert.match(await page.textContent('[role=alert]') ?? '', /not the admin token/);
  // The refusal is a 401 page, which Chromium reports; expected here, and only that.
  assert.deepEqual(browserErrors.splice(logged).map((e) => /status of (\d+)/.exec(e)?.[1]), ['401']);
  await page.fill('#token', gw.adminToken);
  await page.click('button:has-text("Sign in")');
  await page.waitForURL(`${gw.url}/console/requests`);
  await page.click('nav >> text=Overview');
  assert.ok((await page.textContent('main'))!.includes(gw.sandbox.app.app_id));
});

test('a rejected request is in the log with its signature diagnosis', async () => {
  const app = gw.sandbox.app;
  const signed = signedParams({ app_id: app.app_id, privateKey: app.app_private_key! }, 'koubei.member.data.oauth.query', {
    biz_content: JSON.stringify({ auth_type: 'pay_member', code: 'signed-code' }),
  });
  // Changed after signing: the signature no longer covers what is sent.
  const tampered = { ...signed, biz_content: JSON.stringify({ auth_type: 'pay_member', code: 'tampered-code' }) };
  const answer = await post(gw.gatewayUrl, tampered);
  assert.equal(answer.json.koubei_member_data_oauth_query_response.sub_code, 'isv.invalid-signature');

  await page.goto(`${gw.url}/console/requests`);
  await page.fill('#code', 'isv.invalid-signature');
  await page.click('button:has-text("Filter")');
  await page.waitForURL(/code=isv.invalid-signature/);
  await page.click('a:has-text("why")');
  await page.waitForSelector('#diagnosis');
  const diagnosis = (await page.textContent('#diagnosis'))!;
  assert.match(diagnosis, /content_mismatch/);
  assert.match(diagnosis, /RSA2/);
  assert.match(diagnosis, /utf-8/);
  const stringToSign = (await page.textContent('pre.string-to-sign'))!;
  assert.ok(stringToSign.startsWith(`app_id=${app.app_id}&biz_content={"auth_type":"pay_member","code":"tampered-code"}&charset=utf-8`), stringToSign);
  assert.ok(!stringToSign.includes('sign='), 'sign is not part of the string');
});

test('create a member from the console', async () => {
  const first17 = '44030519950505' + '678';
  await page.goto(`${gw.url}/console/members`);
  await page.fill('#login_id', 'browser@sandbox.test');
  await page.fill('#password', 'browser123');
  await page.fill('#name', '周九');
  await page.fill('#cert_no', first17 + idCheckDigit(first17));
  await page.fill('#mobile', '13566667777');
  await page.click('button:has-text("Create member")');
  await page.waitForURL(/done=created/);
  assert.match((await page.textContent('[role=status]'))!, /Member created/);
  const row = page.locator('tr', { hasText: 'browser@sandbox.test' });
  assert.match((await row.textContent())!, new RegExp(maskName('周九').replace('*', '\\*')));
  const member = (await gw.admin('GET', '/members')).json.find((m: any) => m.login_id === 'browser@sandbox.test');
  assert.deepEqual([member.name, member.mobile, member.certified], ['周九', '13566667777', true]);
});

test('a fault rule makes the next gateway call fail with the injected code, signed like a real answer', async () => {
  await page.goto(`${gw.url}/console/faults`);
  await page.fill('#target', 'koubei.member.data.oauth.query');
  await page.fill('#sub_code', 'SYSTEM_ERROR');
  await page.fill('#count', '1');
  await page.click('button:has-text("Add rule")');
  await page.waitForURL(/done=added/);
  assert.match((await page.textContent('table'))!, /SYSTEM_ERROR/);

  const app = gw.sandbox.app;
  const sdk = new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gw.gatewayUrl });
  const call = () => sdk.exec('koubei.member.data.oauth.query', { bizContent: { auth_type: 'pay_member', code: 'no-such-code' } }, { validateSign: true });
  const injected = await call();
  assert.deepEqual([injected.code, injected.subCode, injected.subMsg], ['40004', 'SYSTEM_ERROR', '系统繁忙']);
  const next = await call();
  assert.deepEqual([next.code, next.subCode], ['40004', 'AUTH_CODE_NOT_EXIST'], 'the rule was for one call only');

  await page.reload();
  assert.match((await page.textContent('main'))!, /No fault rules/);
  await page.goto(`${gw.url}/console/requests?code=SYSTEM_ERROR`);
  assert.equal(await page.locator('tbody tr').count(), 1);
});

test('resend a notification from the console', async () => {
  let answer = 'fail';
  const isv = await startIsvServer(() => ({ status: 200, body: answer }));
  try {
    const completed = await completeBind(gw, isv.url, 'sns-browser');
    assert.equal(completed.status, 200, JSON.stringify(completed.json));
    assert.equal(completed.json.code, 'T');
    await isv.waitFor('/notify', 1);
    const n = await waitForNotification(gw, (x) => x.owner === gw.sandbox.partner.partner && x.attempts === 1);
    assert.equal(n.state, 'pending', 'answered "fail": retried later on the schedule');

    answer = 'success';
    await page.goto(`${gw.url}/console/notifications`);
    const card = page.locator(`#notification-${n.id}`);
    assert.match((await card.textContent())!, /pending[\s\S]*Next attempt[\s\S]*fail/);
    await card.locator('button:has-text("Resend now")').click();
    await page.waitForURL(/done=resent/);
    await isv.waitFor('/notify', 2);
    await waitForNotification(gw, (x) => x.id === n.id && x.state === 'delivered');
    await page.reload();
    const text = (await page.locator(`#notification-${n.id}`).textContent())!;
    assert.match(text, /delivered/);
    assert.equal(await page.locator(`#notification-${n.id} tbody tr`).count(), 2, 'both attempts listed');
  } finally {
    await isv.close();
  }
});

const PAGES: Array<[string, () => string]> = [
  ['overview', () => '/console'],
  ['apps', () => '/console/apps'],
  ['app', () => `/console/apps/${gw.sandbox.app.app_id}`],
  ['partners', () => '/console/partners'],
  ['partner', () => `/console/partners/${gw.sandbox.partner.partner}`],
  ['members', () => '/console/members'],
  ['requests', () => '/console/requests'],
  ['request', () => '/console/requests?code=isv.invalid-signature'],
  ['notifications', () => '/console/notifications'],
  ['faults', () => '/console/faults'],
];

test('every page at 1280×800 and 390×844: no sideways scrolling of the page, screenshots saved', async () => {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const p = await openPage(viewport);
    await p.goto(`${gw.url}/console/login`);
    await p.screenshot({ path: join(ARTIFACTS, `login-${size}.png`), fullPage: true });
    await signIn(p);
    for (const [name, path] of PAGES) {
      await p.goto(gw.url + path());
      if (name === 'request') {
        // The detail of the rejected request, reached as a user does.
        await p.click('a:has-text("why")');
        await p.waitForSelector('#diagnosis');
      }
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name} at ${size} scrolls sideways by ${overflow}px`);
      await p.screenshot({ path: join(ARTIFACTS, `${name}-${size}.png`), fullPage: true });
    }
    await p.context().close();
  }
});

test('the browser logged no errors or warnings on any page', () => {
  assert.deepEqual(browserErrors, []);
});
