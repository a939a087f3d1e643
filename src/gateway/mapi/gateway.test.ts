import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { startTestGateway, type TestGateway } from '../../../test/support/gateway.ts';
import {
  encodeForm,
  pageErrorCode,
  parseQuery,
  queryOf,
  signParams,
  signedUrl,
  startIsvServer,
  verifyParams,
  type IsvServer,
  type MapiSignType,
  type Params,
  type PartnerKeys,
} from '../../../test/support/mapi-client.ts';

/** The MAPI envelope over HTTP: what is refused before a person is involved, and how. */
let gw: TestGateway;
let isv: IsvServer;
let keys: PartnerKeys;
let seq = 0;

before(async () => {
  gw = await startTestGateway({ notifySchedule: '200ms,400ms' });
  isv = await startIsvServer();
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});
after(async () => {
  await isv.close();
  await gw.close();
});

function bindParams(overrides: Params = {}): Params {
  return {
    service: 'sns.account.bind',
    partner: keys.partner,
    _input_charset: 'utf-8',
    return_url: `${isv.url}/return`,
    notify_url: `${isv.url}/notify`,
    sns_user_id: `douban_${process.pid}_${++seq}`,
    sns_user_name: '我是王小二',
    type: 'common',
    ...overrides,
  };
}

/** GET without following redirects: the code on the error page, or where we were sent. */
async function open(url: string): Promise<{ status: number; code: string | undefined; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, code: pageErrorCode(await res.text()), location: res.headers.get('location') };
}

async function refusedWith(url: string, code: string): Promise<void> {
  const r = await open(url);
  assert.equal(r.location, null, `${code}: never a redirect`);
  assert.equal(r.status, 200);
  assert.equal(r.code, code);
}

test('a verified request (MD5, RSA, DSA) is sent to the login page with an HttpOnly, SameSite=Lax session', async () => {
  for (const signType of ['MD5', 'RSA', 'DSA'] as MapiSignType[]) {
    const res = await fetch(signedUrl(gw.gatewayUrl, bindParams(), signType, keys, 'utf-8'), { redirect: 'manual' });
    assert.equal(res.status, 302, signType);
    const location = res.headers.get('location')!;
    assert.match(location, /^\/mapi\/bind\/[0-9a-f]{32}$/);
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, new RegExp(`Path=${location}`));
    const page = await fetch(gw.url + location, { headers: { cookie: cookie.split(';')[0] } });
    const html = await page.text();
    assert.match(html, /name="login_id"/);
    assert.match(html, /name="password"/);
    assert.match(html, /我是王小二/);
  }
});

test('the old demos\' POST form (charset in the query, everything in the body) is accepted too', async () => {
  const body = encodeForm(signParams(bindParams(), 'MD5', keys, 'utf-8'), 'utf-8');
  const res = await fetch(`${gw.gatewayUrl}?_input_charset=utf-8`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    redirect: 'manual',
  });
  assert.equal(res.status, 302);
  assert.match(res.headers.get('location')!, /^\/mapi\/bind\//);
});

test('ILLEGAL_SERVICE, ILLEGAL_PARTNER and HAS_NO_PRIVILEGE are error pages', async () => {
  await refusedWith(signedUrl(gw.gatewayUrl, bindParams({ service: 'sns.account.bind.v2' }), 'MD5', keys, 'utf-8'), 'ILLEGAL_SERVICE');
  await refusedWith(signedUrl(gw.gatewayUrl, bindParams({ partner: '2088000000000000' }), 'MD5', keys, 'utf-8'), 'ILLEGAL_PARTNER');
  await refusedWith(signedUrl(gw.gatewayUrl, bindParams({ partner: '' }), 'MD5', keys, 'utf-8'), 'ILLEGAL_PARTNER');

  const limited = await gw.admin('POST', '/partners', { services: ['sns.cancel.account.bind'] });
  assert.equal(limited.status, 201);
  const limitedKeys = { ...keys, partner: limited.json.partner, md5_key: limited.json.md5_key };
  await refusedWith(signedUrl(gw.gatewayUrl, bindParams({ partner: limitedKeys.partner }), 'MD5', limitedKeys, 'utf-8'), 'HAS_NO_PRIVILEGE');
});

test('ILLEGAL_SIGN names the string we verified, on the page and in the request log', async () => {
  const wrongKey = { ...keys, md5_key: 'ffffffffffffffffffffffffffffffff' };
  const sns = `tampered_${process.pid}`;
  await refusedWith(signedUrl(gw.gatewayUrl, bindParams({ sns_user_id: sns }), 'MD5', wrongKey, 'utf-8'), 'ILLEGAL_SIGN');
  // Signed for another value than the one sent.
  const signed = signParams(bindParams({ sns_user_id: 'someone' }), 'RSA', keys, 'utf-8');
  await refusedWith(`${gw.gatewayUrl}?${encodeForm({ ...signed, sns_user_id: 'someone_else' }, 'utf-8')}`, 'ILLEGAL_SIGN');
  // Signed with the partner's RSA key but declared DSA.
  const rsaSigned = signParams(bindParams(), 'RSA', keys, 'utf-8');
  const res = await fetch(`${gw.gatewayUrl}?${encodeForm({ ...rsaSigned, sign_type: 'DSA' }, 'utf-8')}`);
  const html = await res.text();
  assert.equal(pageErrorCode(html), 'ILLEGAL_SIGN');
  assert.match(html, /sign_type_mismatch/);

  const log = await gw.admin('GET', `/requests?caller=${keys.partner}&code=ILLEGAL_SIGN`);
  const entry = log.json.find((e: any) => e.params.sns_user_id === sns);
  assert.ok(entry, 'the refused request is in the request log');
  assert.equal(entry.gateway, 'mapi');
  assert.equal(entry.method, 'sns.account.bind');
  assert.match(entry.diagnosis.string_to_sign, new RegExp(`sns_user_id=${sns}`));
  assert.ok(!entry.diagnosis.string_to_sign.includes('sign_type='), 'MAPI does not sign sign_type');
  assert.equal(entry.diagnosis.cause, 'content_mismatch');
});

test('ILLEGAL_ARGUMENT for a parameter outside the seed table: length, values, missing, not a URL', async () => {
  const cases: Params[] = [
    { type: 'admin' },
    { type: 'Seller' },
    { sns_user_id: 'x'.repeat(51) },
    { sns_user_name: '名'.repeat(101) },
    { notify_url: '' },
    { return_url: 'javascript:alert(1)' },
    { return_url: `${isv.url}/${'r'.repeat(200)}` },
  ];
  for (const overrides of cases) {
    await refusedWith(signedUrl(gw.gatewayUrl, bindParams(overrides), 'MD5', keys, 'utf-8'), 'ILLEGAL_ARGUMENT');
  }
  // At the limits exactly: accepted.
  const atLimit = await open(signedUrl(gw.gatewayUrl, bindParams({ sns_user_id: 'y'.repeat(50), sns_user_name: '名'.repeat(100) }), 'MD5', keys, 'utf-8'));
  assert.equal(atLimit.status, 302);
  // _input_charset only in the body, not the query string.
  const body = encodeForm(signParams(bindParams(), 'MD5', keys, 'utf-8'), 'utf-8');
  const res = await fetch(gw.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' });
  assert.equal(pageErrorCode(await res.text()), 'ILLEGAL_ARGUMENT');
});

test('a partner with allowed domains: return_url and notify_url must be on them', async () => {
  const created = await gw.admin('POST', '/partners', { allowed_domains: ['isv.example'] });
  assert.equal(created.status, 201);
  const own = { ...keys, partner: created.json.partner, md5_key: created.json.md5_key };
  const params = (overrides: Params) =>
    bindParams({ partner: own.partner, return_url: 'https://shop.isv.example/return', notify_url: 'https://isv.example/notify', ...overrides });
  assert.equal((await open(signedUrl(gw.gatewayUrl, params({}), 'MD5', own, 'utf-8'))).status, 302);
  await refusedWith(signedUrl(gw.gatewayUrl, params({ return_url: `${isv.url}/return` }), 'MD5', own, 'utf-8'), 'ILLEGAL_ARGUMENT');
  await refusedWith(signedUrl(gw.gatewayUrl, params({ notify_url: 'https://evilisv.example/notify' }), 'MD5', own, 'utf-8'), 'ILLEGAL_ARGUMENT');
});

test('charset errors: unknown name → ILLEGAL_CHARSET, bytes invalid in it → ILLEGAL_ENCODING; sign_type must be upper case', async () => {
  await refusedWith(signedUrl(gw.gatewayUrl, bindParams({ _input_charset: 'latin1' }), 'MD5', keys, 'utf-8'), 'ILLEGAL_CHARSET');
  // Declared utf-8, but the name is GBK bytes.
  const gbkName = [...iconv.encode('王小二', 'gbk')].map((b) => '%' + b.toString(16).toUpperCase()).join('');
  const url = signedUrl(gw.gatewayUrl, bindParams({ sns_user_name: 'PLACEHOLDER' }), 'MD5', keys, 'utf-8').replace('PLACEHOLDER', gbkName);
  await refusedWith(url, 'ILLEGAL_ENCODING');
  // GBK is fine when declared (upper case, as Java sends it).
  const gbk = await open(signedUrl(gw.gatewayUrl, bindParams({ _input_charset: 'GBK' }), 'DSA', keys, 'gbk'));
  assert.equal(gbk.status, 302);
  const lower = signParams(bindParams(), 'MD5', keys, 'utf-8');
  await refusedWith(`${gw.gatewayUrl}?${encodeForm({ ...lower, sign_type: 'md5' }, 'utf-8')}`, 'ILLEGAL_SIGN_TYPE');
});

test('notify_verify: invalid for bad parameters, false for a notify_id we never issued', async () => {
  const verify = async (query: string) => {
    const res = await fetch(`${gw.gatewayUrl}?service=notify_verify&${query}`);
    assert.equal(res.status, 200);
    return res.text();
  };
  assert.equal(await verify(`partner=${keys.partner}`), 'invalid');
  assert.equal(await verify(`partner=2088000000000000&notify_id=abc`), 'invalid');
  assert.equal(await verify(`partner=${keys.partner}&notify_id=${'0'.repeat(32)}`), 'false');
});

async function headlessBind(snsUserId: string, signType: MapiSignType = 'MD5'): Promise<Params> {
  const url = signedUrl(gw.gatewayUrl, bindParams({ sns_user_id: snsUserId }), signType, keys, 'utf-8');
  const done = await gw.admin('POST', '/mapi/complete', { url, login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
  assert.equal(done.status, 200);
  return parseQuery(queryOf(done.json.return_url), 'utf-8');
}

function cancelParams(overrides: Params): Params {
  return { service: 'sns.cancel.account.bind', partner: keys.partner, _input_charset: 'utf-8', ...overrides };
}

test('sns.cancel.account.bind as a server call: XML T, then ALREADY_NOT_EXIT_ACCOUNT; the notification verifies', async () => {
  const sns = `cancel_xml_${process.pid}`;
  const bound = await headlessBind(sns);
  assert.equal(bound.is_success, 'T');
  const call = () => signedUrl(gw.gatewayUrl, cancelParams({ sns_user_id: sns, key: bound.key, notify_url: `${isv.url}/notify-cancel` }), 'RSA', keys, 'utf-8');
  const first = await fetch(call());
  assert.match(first.headers.get('content-type')!, /xml/);
  assert.match(await first.text(), /<alipay><is_success>T<\/is_success><\/alipay>/);
  const bindings = (await gw.admin('GET', `/mapi/bindings?partner=${keys.partner}`)).json;
  assert.ok(!bindings.some((b: any) => b.sns_user_id === sns), 'the binding is gone');

  const [hit] = await isv.waitFor('/notify-cancel');
  const notice = parseQuery(hit.body, 'utf-8');
  assert.ok(verifyParams(notice, keys, 'utf-8'));
  assert.equal(notice.notify_type, 'sns_cancel_account_bind');
  assert.equal(notice.is_success, 'T');
  assert.equal(notice.sns_user_id, sns);
  assert.equal(notice.key, undefined, 'no key: that is how ISVs tell a cancel from a bind');

  const again = await fetch(call());
  assert.match(await again.text(), /<is_success>F<\/is_success><error>ALREADY_NOT_EXIT_ACCOUNT<\/error>/);
  // A wrong key names no binding either; envelope errors are XML for a server call too.
  const other = await headlessBind(`${sns}_2`);
  const wrongKey = await fetch(signedUrl(gw.gatewayUrl, cancelParams({ sns_user_id: `${sns}_2`, key: other.key.replace(/.$/, 'x') }), 'MD5', keys, 'utf-8'));
  assert.match(await wrongKey.text(), /ALREADY_NOT_EXIT_ACCOUNT/);
  const badSign = await fetch(signedUrl(gw.gatewayUrl, cancelParams({ sns_user_id: sns, key: other.key }), 'MD5', { ...keys, md5_key: 'x' }, 'utf-8'));
  assert.match(await badSign.text(), /<error>ILLEGAL_SIGN<\/error>/);
});

test('sns.cancel.account.bind from a browser: redirected to return_url, signed, F with ALREADY_NOT_EXIT_ACCOUNT when unbound', async () => {
  const sns = `cancel_page_${process.pid}`;
  const bound = await headlessBind(sns, 'DSA');
  const url = (key: string) => signedUrl(gw.gatewayUrl, cancelParams({ sns_user_id: sns, key, return_url: `${isv.url}/cancelled` }), 'DSA', keys, 'utf-8');
  const ok = await open(url(bound.key));
  assert.equal(ok.status, 302);
  const okParams = parseQuery(queryOf(ok.location!), 'utf-8');
  assert.ok(verifyParams(okParams, keys, 'utf-8'));
  assert.deepEqual([okParams.is_success, okParams.sns_user_id, okParams.alipay_card_no], ['T', sns, bound.alipay_card_no]);

  const gone = await open(url(bound.key));
  assert.equal(gone.status, 302);
  assert.ok(gone.location!.startsWith(`${isv.url}/cancelled?`));
  const goneParams = parseQuery(queryOf(gone.location!), 'utf-8');
  assert.ok(verifyParams(goneParams, keys, 'utf-8'));
  assert.deepEqual([goneParams.is_success, goneParams.error], ['F', 'ALREADY_NOT_EXIT_ACCOUNT']);
});

test('every MAPI request is counted in the metrics by service and code', async () => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(text, /gatewaydo_gateway_requests_total\{gateway="mapi",method="sns.account.bind",code="T"\} \d+/);
  assert.match(text, /gatewaydo_gateway_requests_total\{gateway="mapi",method="unknown",code="ILLEGAL_SERVICE"\} \d+/);
  assert.match(text, /gatewaydo_gateway_requests_total\{gateway="mapi",method="notify_verify",code="invalid"\} \d+/);
});
