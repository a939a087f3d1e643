import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlipaySdk } from 'alipay-sdk';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { idCheckDigit } from '../domain/ids.ts';

/** alipay.user.auth.zhimaper.inner.apply through the official SDK: success, every seed error, tokens, SMS. */
const METHOD = 'alipay.user.auth.zhimaper.inner.apply';

let gw: TestGateway;
let sdk: AlipaySdk;

before(async () => {
  gw = await startTestGateway();
  sdk = sdkFor(gw.sandbox.app);
});
after(() => gw.close());

function sdkFor(app: { app_id: string; app_private_key: string | null; alipay_public_key: string }): AlipaySdk {
  return new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gw.gatewayUrl });
}

function member(role: string) {
  return gw.sandbox.members.find((m) => m.role === role)!;
}

function identity(role = 'certified buyer') {
  const m = member(role);
  return { cert_no: m.cert_no, cert_type: 'IDENTITY_CARD', name: m.name, mobile: m.mobile };
}

function apply(bizContent: Record<string, unknown>, client = sdk) {
  return client.exec(METHOD, { bizContent }, { validateSign: true });
}

function assertError(result: Record<string, unknown>, code: string, subCode: string, subMsg?: string | RegExp): void {
  assert.equal(result.code, code, JSON.stringify(result));
  assert.equal(result.subCode, subCode);
  if (typeof subMsg === 'string') assert.equal(result.subMsg, subMsg);
  else if (subMsg) assert.match(String(result.subMsg), subMsg);
}

async function liveTokens(appId: string, userId: string) {
  return gw.ctx.db.selectFrom('tokens').selectAll().where('app_id', '=', appId).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

test('success: tokens issued, authorization recorded, SMS notice queued (masked in the inbox)', async () => {
  const buyer = member('certified buyer');
  const before = (await gw.admin('GET', '/sms')).json.length;
  const result = await apply(identity());
  assert.equal(result.code, '10000');
  assert.equal(result.msg, 'Success');
  assert.match(String(result.accessToken), /^\d{8}[0-9a-f]{32}$/);
  assert.match(String(result.refreshToken), /^\d{8}[0-9a-f]{32}$/);
  assert.notEqual(result.accessToken, result.refreshToken);
  assert.equal(result.expiresIn, 1_296_000);
  assert.equal(result.reExpiresIn, 2_592_000);
  assert.ok(!('authTokenType' in result), 'expiring tokens: auth_token_type empty');

  const auth = await gw.ctx.db.selectFrom('zhima_auths').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
  assert.equal(auth.app_id, gw.sandbox.app.app_id);
  assert.equal(auth.user_id, buyer.user_id);
  assert.equal(auth.linked_merchant_id, null);

  const sms = (await gw.admin('GET', '/sms')).json;
  assert.equal(sms.length, before + 1);
  assert.equal(sms[0].user_id, buyer.user_id);
  assert.equal(sms[0].mobile_masked, '135****1111');
  assert.match(sms[0].content, /沙箱应用/);
  for (const secret of [buyer.cert_no, buyer.mobile]) assert.ok(!JSON.stringify(sms).includes(secret));

  const inbox = await fetch(`${gw.url}/sandbox/sms`);
  assert.equal(inbox.status, 200);
  const page = await inbox.text();
  assert.ok(page.includes('135****1111') && page.includes('沙箱应用'));
  assert.ok(!page.includes(buyer.mobile) && !page.includes(buyer.cert_no));
});

test('calling again does not pile up live tokens; the older access token stops working', async () => {
  const seller = member('certified seller');
  const first = await apply(identity('certified seller'));
  const second = await apply(identity('certified seller'));
  const third = await apply(identity('certified seller'));
  const live = await liveTokens(gw.sandbox.app.app_id, seller.user_id);
  assert.deepEqual(live.map((t) => t.access_token), [third.accessToken]);
  const stale = await sdk.exec('koubei.member.data.oauth.query', { authToken: String(first.accessToken), bizContent: { auth_type: 'pay_member', code: 'x' } }, { validateSign: true });
  assertError(stale, '20001', 'aop.invalid-auth-token', '无效的访问令牌');
  const current = await sdk.exec('koubei.member.data.oauth.query', { authToken: String(third.accessToken), bizContent: { auth_type: 'pay_member', code: 'x' } }, { validateSign: true });
  assertError(current, '40004', 'AUTH_CODE_NOT_EXIST');
  assert.notEqual(second.accessToken, third.accessToken);
});

test('empty fields: CERT_NO_IS_NULL, CERT_TYPE_IS_NULL, NAME_IS_NULL, MOBILE_IS_NULL', async () => {
  assertError(await apply({ ...identity(), cert_no: '' }), '40004', 'CERT_NO_IS_NULL', '证件号码参数为空');
  const { cert_type: _type, ...noType } = identity();
  assertError(await apply(noType), '40004', 'CERT_TYPE_IS_NULL', '证件类型参数为空');
  assertError(await apply({ ...identity(), name: '  ' }), '40004', 'NAME_IS_NULL', '姓名参数为空');
  assertError(await apply({ ...identity(), mobile: null }), '40004', 'MOBILE_IS_NULL', '手机号码参数为空');
});

test('malformed values: cert_type, ID number check digit, mobile, overlong name → 40002 isv.invalid-parameter', async () => {
  const good = identity();
  const wrongDigit = good.cert_no.slice(0, 17) + (good.cert_no[17] === '0' ? '1' : '0');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ cert_type: 'PASSPORT' }, /cert_type/],
    [{ cert_no: wrongDigit }, /cert_no/],
    [{ cert_no: good.cert_no.slice(0, 15) }, /cert_no/],
    [{ mobile: '0571-8888' }, /mobile/],
    [{ name: '张'.repeat(17) }, /name/],
  ];
  for (const [patch, field] of cases) assertError(await apply({ ...good, ...patch }), '40002', 'isv.invalid-parameter', field);
});

test('NO_USER_ERROR: no certified member with that name + ID number + mobile', async () => {
  const message = '身份三要素不存在支付宝认证的个人会员';
  assertError(await apply({ ...identity(), mobile: '13500000000' }), '40004', 'NO_USER_ERROR', message);
  const stranger = '11010519491231002';
  assertError(await apply({ ...identity(), cert_no: stranger + idCheckDigit(stranger) }), '40004', 'NO_USER_ERROR', message);
  assertError(await apply(identity('uncertified')), '40004', 'NO_USER_ERROR', message);
});

test('SYSTEM_ERROR: injected by a fault rule; nothing is issued', async () => {
  await gw.admin('POST', '/faults', { target: METHOD, sub_code: 'SYSTEM_ERROR', count: 1 });
  const before = (await gw.admin('GET', '/sms')).json.length;
  assertError(await apply(identity()), '40004', 'SYSTEM_ERROR', '系统繁忙');
  assert.equal((await gw.admin('GET', '/sms')).json.length, before);
});

test("linked_merchant_id: a merchant of the app's provider is recorded; any other is refused", async () => {
  const merchant = gw.sandbox.koubei_merchants[0];
  const linked = await apply({ ...identity(), linked_merchant_id: merchant.merchant_id });
  assert.equal(linked.code, '10000');
  const auth = await gw.ctx.db.selectFrom('zhima_auths').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
  assert.equal(auth.linked_merchant_id, merchant.merchant_id);

  assertError(await apply({ ...identity(), linked_merchant_id: '2088000000000000' }), '40002', 'isv.invalid-parameter', /linked_merchant_id/);
  const { json: independent } = await gw.admin('POST', '/apps', { name: '直连商户应用' });
  assertError(await apply({ ...identity(), linked_merchant_id: merchant.merchant_id }, sdkFor(independent)), '40002', 'isv.invalid-parameter', /linked_merchant_id/);
});

test('an app with the permanent token policy gets auth_token_type permanent', async () => {
  const { json: app } = await gw.admin('POST', '/apps', { token_policy: 'permanent' });
  const result = await apply(identity('protected account'), sdkFor(app));
  assert.equal(result.code, '10000');
  assert.equal(result.authTokenType, 'permanent');
  assert.ok(!('expiresIn' in result));
  const [token] = await liveTokens(app.app_id, member('protected account').user_id);
  assert.equal(token.expires_at, null);
  assert.equal(token.token_type, 'permanent');
});
