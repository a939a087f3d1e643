import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import {
  pageErrorCode,
  parseQuery,
  queryOf,
  signedUrl,
  startIsvServer,
  verifyParams,
  type IsvServer,
  type MapiCharset,
  type MapiSignType,
  type Params,
  type PartnerKeys,
} from '../../test/support/mapi-client.ts';

/**
 * sns.account.bind's decision and every code of seed §5.2 that a person's flow produces,
 * through real requests: the pages driven over HTTP (cookies, CSRF) and the headless
 * admin path that shares their decision code.
 */
let gw: TestGateway;
let isv: IsvServer;
let keys: PartnerKeys;
let seq = 0;

const BUYER = { login_id: 'buyer@sandbox.gatewaydo', password: 'buyer123' };

before(async () => {
  gw = await startTestGateway({ notifySchedule: '200ms' });
  isv = await startIsvServer();
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});
after(async () => {
  await isv.close();
  await gw.close();
});

function snsId(): string {
  return `sns_${process.pid}_${++seq}`;
}

function bindUrl(target: TestGateway, overrides: Params = {}, signType: MapiSignType = 'MD5', charset: MapiCharset = 'utf-8'): string {
  const params = {
    service: 'sns.account.bind',
    partner: keys.partner,
    _input_charset: charset,
    return_url: `${isv.url}/return`,
    notify_url: `${isv.url}/notify`,
    sns_user_id: snsId(),
    sns_user_name: '豆瓣用户',
    type: 'common',
    ...overrides,
  };
  return signedUrl(target.gatewayUrl, params, signType, keys, charset);
}

/** The headless path: the return the browser would get, decoded and checked. */
async function complete(url: string, loginId: string, decision: 'agree' | 'refuse' = 'agree', charset: MapiCharset = 'utf-8'): Promise<Params> {
  const res = await gw.admin('POST', '/mapi/complete', { url, login_id: loginId, decision });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.ok(res.json.return_url.startsWith(`${isv.url}/return?`));
  const params = parseQuery(queryOf(res.json.return_url), charset);
  assert.ok(verifyParams(params, keys, charset), 'the return verifies');
  return params;
}

async function failsWith(url: string, loginId: string, code: string, decision: 'agree' | 'refuse' = 'agree'): Promise<void> {
  const r = await complete(url, loginId, decision);
  assert.deepEqual([r.is_success, r.error], ['F', code]);
}

/** A browser without a browser: follows the flow's cookie and CSRF token over plain HTTP. */
class PageClient {
  cookie = '';
  path = '';
  constructor(readonly target: TestGateway) {}

  async open(url: string): Promise<string> {
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 302);
    this.path = res.headers.get('location')!;
    this.cookie = res.headers.get('set-cookie')!.split(';')[0];
    return this.page();
  }

  async page(): Promise<string> {
    return (await fetch(this.target.url + this.path, { headers: { cookie: this.cookie } })).text();
  }

  async post(action: 'login' | 'decision', fields: Params, csrf?: string): Promise<Response> {
    const token = csrf ?? /name="_csrf" value="([^"]+)"/.exec(await this.page())?.[1] ?? '';
    const res = await fetch(`${this.target.url}${this.path}/${action}`, {
      method: 'POST',
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, ...fields }).toString(),
      redirect: 'manual',
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    return res;
  }

  async login(who = BUYER): Promise<void> {
    const res = await this.post('login', who);
    assert.equal(res.status, 303);
  }
}

test('pages: log in, consent, agree → return_url signed with the binding and its 40-character key', async () => {
  const client = new PageClient(gw);
  const sns = snsId();
  const login = await client.open(bindUrl(gw, { sns_user_id: sns, type: 'buyer' }, 'RSA'));
  assert.match(login, /name="login_id"/);
  await client.login();
  const consent = await client.page();
  assert.match(consent, /沙箱合作伙伴/);
  assert.match(consent, /豆瓣用户/);
  assert.match(consent, new RegExp(sns));
  assert.match(consent, /买家/);
  assert.match(consent, /name="decision" value="agree"/);
  assert.match(consent, /name="decision" value="refuse"/);
  const res = await client.post('decision', { decision: 'agree' });
  assert.equal(res.status, 302);
  const r = parseQuery(queryOf(res.headers.get('location')!), 'utf-8');
  assert.ok(verifyParams(r, keys, 'utf-8'));
  const buyer = (await gw.admin('GET', '/members')).json.find((m: any) => m.login_id === BUYER.login_id);
  assert.equal(r.is_success, 'T');
  assert.equal(r.sns_user_id, sns);
  assert.equal(r.alipay_login_id, BUYER.login_id);
  assert.equal(r.is_certified, 'T');
  assert.match(r.key, /^[0-9A-Za-z]{40}$/);
  assert.equal(r.alipay_card_no, buyer.user_id);
  assert.ok(Math.abs(Number(r.timestamp) - Date.now()) < 60_000, 'timestamp in ms');
  const bindings = (await gw.admin('GET', `/mapi/bindings?partner=${keys.partner}`)).json;
  assert.ok(bindings.some((b: any) => b.sns_user_id === sns && b.bind_key === r.key && b.type === 'buyer'));
});

test('pages: a wrong password shows a message and stays; no session or no CSRF token is refused', async () => {
  const client = new PageClient(gw);
  await client.open(bindUrl(gw));
  const wrong = await client.post('login', { login_id: BUYER.login_id, password: 'nope' });
  assert.equal(wrong.status, 200);
  assert.equal(wrong.headers.get('location'), null);
  assert.match(await wrong.text(), /账户名或登录密码不正确/);
  const noCsrf = await client.post('login', BUYER, 'forged');
  assert.equal(noCsrf.status, 403);
  const stranger = await fetch(gw.url + client.path);
  assert.equal(pageErrorCode(await stranger.text()), 'SESSION_TIMEOUT');
  await client.login();
  assert.match(await client.page(), /name="decision"/);
});

test('BIND_ERROR_REPEAT: the decision submitted twice, the decided URL opened again, the headless path twice', async () => {
  const client = new PageClient(gw);
  const url = bindUrl(gw);
  await client.open(url);
  await client.login();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await client.page())![1];
  const first = await client.post('decision', { decision: 'agree' }, csrf);
  assert.equal(parseQuery(queryOf(first.headers.get('location')!), 'utf-8').is_success, 'T');
  const second = await client.post('decision', { decision: 'agree' }, csrf);
  assert.equal(second.status, 302);
  const repeat = parseQuery(queryOf(second.headers.get('location')!), 'utf-8');
  assert.ok(verifyParams(repeat, keys, 'utf-8'));
  assert.deepEqual([repeat.is_success, repeat.error], ['F', 'BIND_ERROR_REPEAT']);
  assert.equal(pageErrorCode(await client.page()), 'BIND_ERROR_REPEAT');
  const reopened = await fetch(url, { redirect: 'manual' });
  assert.equal(parseQuery(queryOf(reopened.headers.get('location')!), 'utf-8').error, 'BIND_ERROR_REPEAT');

  const headless = bindUrl(gw);
  assert.equal((await complete(headless, BUYER.login_id)).is_success, 'T');
  await failsWith(headless, BUYER.login_id, 'BIND_ERROR_REPEAT');
});

test('concurrent submits of one consent: exactly one decides, the others get BIND_ERROR_REPEAT', async () => {
  const client = new PageClient(gw);
  await client.open(bindUrl(gw));
  await client.login();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await client.page())![1];
  const results = await Promise.all([1, 2, 3].map(() => client.post('decision', { decision: 'agree' }, csrf)));
  const codes = results.map((r) => parseQuery(queryOf(r.headers.get('location')!), 'utf-8').error ?? 'T').sort();
  assert.deepEqual(codes, ['BIND_ERROR_REPEAT', 'BIND_ERROR_REPEAT', 'T']);
});

test('the account rules: protected, seller without certification, bound to another member; refusal', async () => {
  await failsWith(bindUrl(gw), 'protected@sandbox.gatewaydo', 'BIND_ERROR_ACCOUNT_PROTECTED');
  await failsWith(bindUrl(gw, { type: 'seller' }), 'uncertified@sandbox.gatewaydo', 'BIND_ERROR_NO_CERTIFIED');
  const common = await complete(bindUrl(gw, { type: 'common' }), 'uncertified@sandbox.gatewaydo');
  assert.deepEqual([common.is_success, common.is_certified], ['T', 'F']);

  const sns = snsId();
  const mine = await complete(bindUrl(gw, { sns_user_id: sns }), BUYER.login_id);
  // The same parameters signed with MD5 are the same signed URL (BIND_ERROR_REPEAT): vary one.
  await failsWith(bindUrl(gw, { sns_user_id: sns, sns_user_name: '另一个人' }), 'seller@sandbox.gatewaydo', 'BIND_ERROR_HAS_CERTIFIED');
  const again = await complete(bindUrl(gw, { sns_user_id: sns, type: 'buyer' }), BUYER.login_id);
  assert.equal(again.key, mine.key, 'binding the same member again answers with the same key');

  const refused = snsId();
  await failsWith(bindUrl(gw, { sns_user_id: refused }), BUYER.login_id, 'USER_REFUSED', 'refuse');
  const bindings = (await gw.admin('GET', `/mapi/bindings?partner=${keys.partner}`)).json;
  assert.ok(!bindings.some((b: any) => b.sns_user_id === refused));
});

test('fault injection: SYSTEM_ERROR, BIND_ERROR_GATEWAY, DATA_ERROR, Q_USER_ERROR, for the next call only', async () => {
  for (const code of ['SYSTEM_ERROR', 'BIND_ERROR_GATEWAY', 'DATA_ERROR', 'Q_USER_ERROR']) {
    const rule = await gw.admin('POST', '/faults', { target: 'sns.account.bind', sub_code: code, count: 1 });
    assert.equal(rule.status, 201);
    const sns = snsId();
    await failsWith(bindUrl(gw, { sns_user_id: sns }), BUYER.login_id, code);
    const bindings = (await gw.admin('GET', `/mapi/bindings?partner=${keys.partner}`)).json;
    assert.ok(!bindings.some((b: any) => b.sns_user_id === sns), `${code}: nothing bound`);
    assert.equal((await complete(bindUrl(gw), BUYER.login_id)).is_success, 'T', 'the rule is used up');
  }
  // An OpenAPI-style code alone is a system error here; latency delays the answer.
  await gw.admin('POST', '/faults', { target: 'sns.account.bind', code: '20000', count: 1 });
  await failsWith(bindUrl(gw), BUYER.login_id, 'SYSTEM_ERROR');
  await gw.admin('POST', '/faults', { target: 'sns.account.bind', latency_ms: 300, count: 1 });
  const started = Date.now();
  assert.equal((await complete(bindUrl(gw), BUYER.login_id)).is_success, 'T');
  assert.ok(Date.now() - started >= 300);
});

test('the gbk flow: a Chinese sns_user_name signed over gbk bytes and percent-encoded in gbk', async () => {
  // A Chinese sns_user_id too, so the return and the notification carry gbk bytes.
  const sns = `豆瓣${snsId()}`;
  const url = bindUrl(gw, { sns_user_id: sns, sns_user_name: '我是王小二' }, 'DSA', 'gbk');
  assert.match(url, /sns_user_name=%CE%D2%CA%C7%CD%F5%D0%A1%B6%FE/, 'gbk bytes, not utf-8');
  const client = new PageClient(gw);
  assert.match(await client.open(url), /我是王小二/);
  const r = await complete(url, BUYER.login_id, 'agree', 'gbk');
  assert.deepEqual([r.is_success, r.sns_user_id], ['T', sns]);
  const log = (await gw.admin('GET', `/requests?caller=${keys.partner}&method=sns.account.bind`)).json;
  assert.ok(log.some((e: any) => e.params.sns_user_id === sns && e.params.sns_user_name === '我是王小二'));
  const [notice] = await isv.waitFor((h) => h.path === '/notify' && parseQuery(h.body, 'gbk').sns_user_id === sns);
  assert.match(String(notice.headers['content-type']), /charset=gbk/);
  assert.ok(verifyParams(parseQuery(notice.body, 'gbk'), keys, 'gbk'));
});

test('SESSION_TIMEOUT: a flow older than GATEWAYDO_LOGIN_TTL returns is_success=F to the ISV', async () => {
  const short = await startTestGateway({ loginTtl: '300ms' });
  try {
    const shortKeys: PartnerKeys = (await short.admin('GET', '/sandbox')).json.partner;
    const url = signedUrl(
      short.gatewayUrl,
      { service: 'sns.account.bind', partner: shortKeys.partner, _input_charset: 'utf-8', return_url: `${isv.url}/return`, notify_url: `${isv.url}/notify`, sns_user_id: snsId(), sns_user_name: '超时', type: 'common' },
      'MD5',
      shortKeys,
      'utf-8',
    );
    const client = new PageClient(short);
    await client.open(url);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await client.page())![1];
    await sleep(400);
    assert.equal(pageErrorCode(await client.page()), 'SESSION_TIMEOUT');
    const res = await client.post('login', BUYER, csrf);
    assert.equal(res.status, 302);
    const r = parseQuery(queryOf(res.headers.get('location')!), 'utf-8');
    assert.ok(verifyParams(r, shortKeys, 'utf-8'));
    assert.deepEqual([r.is_success, r.error], ['F', 'SESSION_TIMEOUT']);
  } finally {
    await short.close();
  }
});
