import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlipaySdk } from 'alipay-sdk';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { methodNode, post, signatureValid, signedParams, type RawAnswer } from '../../test/support/openapi.ts';

/** alipay.system.oauth.token, grant_type=refresh_token, on tokens from a Zhima authorization. */
const METHOD = 'alipay.system.oauth.token';

let gw: TestGateway;
let sdk: AlipaySdk;

interface AppKeys {
  app_id: string;
  app_private_key: string | null;
  alipay_public_key: string;
}

before(async () => {
  gw = await startTestGateway();
  sdk = sdkFor(gw.sandbox.app);
});
after(() => gw.close());

function sdkFor(app: AppKeys): AlipaySdk {
  return new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gw.gatewayUrl });
}

async function authorize(client = sdk): Promise<{ accessToken: string; refreshToken: string }> {
  const m = gw.sandbox.members[0];
  const r = await client.exec('alipay.user.auth.zhimaper.inner.apply', { bizContent: { cert_no: m.cert_no, cert_type: 'IDENTITY_CARD', name: m.name, mobile: m.mobile } }, { validateSign: true });
  assert.equal(r.code, '10000');
  return { accessToken: String(r.accessToken), refreshToken: String(r.refreshToken) };
}

function refresh(refreshToken: string, client = sdk) {
  return client.exec(METHOD, { grantType: 'refresh_token', refreshToken }, { validateSign: true });
}

/** Errors come in a signed error_response (which the Node SDK cannot validate), so they are checked raw. */
async function tokenCall(params: Record<string, string | undefined>, app: AppKeys = gw.sandbox.app): Promise<RawAnswer> {
  return post(gw.gatewayUrl, signedParams({ app_id: app.app_id, privateKey: app.app_private_key! }, METHOD, params));
}

function assertTokenError(answer: RawAnswer, subCode: string, subMsg: string, app: AppKeys = gw.sandbox.app): void {
  assert.equal(answer.status, 200);
  assert.deepEqual(Object.keys(answer.json), ['error_response', 'sign'], answer.text);
  assert.deepEqual(answer.json.error_response, { code: '40002', msg: 'Invalid Arguments', sub_code: subCode, sub_msg: subMsg });
  assert.ok(signatureValid(answer, 'error_response', app.alipay_public_key), 'error_response is signed');
}

async function authTokenAccepted(accessToken: string): Promise<boolean> {
  const r = await sdk.exec('koubei.member.data.oauth.query', { authToken: accessToken, bizContent: { auth_type: 'pay_member', code: 'x' } }, { validateSign: true });
  if (r.subCode === 'aop.invalid-auth-token') return false;
  assert.equal(r.subCode, 'AUTH_CODE_NOT_EXIST', 'a live token passes the gateway to the method');
  return true;
}

test('refresh: a new pair, the old access token revoked, the used refresh token refused', async () => {
  const first = await authorize();
  const result = await refresh(first.refreshToken);
  assert.equal(result.code, undefined, 'success carries no code/msg, as Alipay sends it');
  assert.equal(result.msg, undefined);
  assert.equal(result.userId, gw.sandbox.members[0].user_id);
  assert.match(String(result.accessToken), /^\d{8}[0-9a-f]{32}$/);
  assert.notEqual(result.accessToken, first.accessToken);
  assert.notEqual(result.refreshToken, first.refreshToken);
  assert.equal(result.expiresIn, 1_296_000);
  assert.equal(result.reExpiresIn, 2_592_000);
  assert.match(String(result.authStart), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

  assert.equal(await authTokenAccepted(first.accessToken), false, 'old access token revoked');
  assert.equal(await authTokenAccepted(String(result.accessToken)), true);
  assertTokenError(await tokenCall({ grant_type: 'refresh_token', refresh_token: first.refreshToken }), 'isv.refresh-token-invalid', '刷新令牌refresh_token无效');
  assert.ok(await refresh(String(result.refreshToken)).then((r) => r.accessToken), 'the new refresh token works once');
});

test('errors: unknown refresh token, another app, expired, authorization_code, bad grant_type', async () => {
  assertTokenError(await tokenCall({ grant_type: 'refresh_token', refresh_token: '20240101' + '0'.repeat(32) }), 'isv.refresh-token-invalid', '刷新令牌refresh_token无效');
  assertTokenError(await tokenCall({ grant_type: 'refresh_token' }), 'isv.refresh-token-invalid', '刷新令牌refresh_token无效');

  const { json: other } = await gw.admin('POST', '/apps', { name: '别的应用' });
  const mine = await authorize();
  assertTokenError(await tokenCall({ grant_type: 'refresh_token', refresh_token: mine.refreshToken }, other), 'isv.unmatched-app-id', '调用接口的应用标识(app_id)与令牌授权的应用不相符', other);

  const { json: shortLived } = await gw.admin('POST', '/apps', { refresh_token_ttl_seconds: 1 });
  const expiring = await authorize(sdkFor(shortLived));
  await sleep(1100);
  assertTokenError(await tokenCall({ grant_type: 'refresh_token', refresh_token: expiring.refreshToken }, shortLived), 'isv.refresh-token-time-out', '刷新令牌refresh_token过期', shortLived);

  assertTokenError(await tokenCall({ grant_type: 'authorization_code', code: '4b203fe6c11548bcabd8da5bb087a83b' }), 'isv.code-invalid', '授权码code无效');
  assertTokenError(await tokenCall({ grant_type: 'password' }), 'isv.grant-type-invalid', 'grant_type参数不正确');
  assertTokenError(await tokenCall({}), 'isv.grant-type-invalid', 'grant_type参数不正确');
});

test('gateway errors for this method also answer in a signed error_response', async () => {
  const params = signedParams({ app_id: gw.sandbox.app.app_id, privateKey: gw.sandbox.app.app_private_key! }, METHOD, { grant_type: 'refresh_token', refresh_token: 'x' });
  const answer = await post(gw.gatewayUrl, { ...params, refresh_token: 'y' });
  assert.equal(answer.json.error_response.sub_code, 'isv.invalid-signature');
  assert.ok(!(methodNode(METHOD) in answer.json));
  assert.ok(signatureValid(answer, 'error_response', gw.sandbox.app.alipay_public_key));
});

test('a permanent token refreshes into a permanent token', async () => {
  const { json: app } = await gw.admin('POST', '/apps', { token_policy: 'permanent' });
  const client = sdkFor(app);
  const result = await refresh((await authorize(client)).refreshToken, client);
  assert.equal(result.authTokenType, 'permanent');
  assert.ok(!('expiresIn' in result) && !('reExpiresIn' in result));
});
