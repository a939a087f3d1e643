import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlipaySdk } from 'alipay-sdk';
import iconv from 'iconv-lite';
import { startTestGateway, type TestGateway } from '../../../test/support/gateway.ts';
import { methodNode, post, send, signatureValid, signedParams, type Caller, type RawAnswer } from '../../../test/support/openapi.ts';
import { buildForm } from '../../crypto/form.ts';
import { generateRsaKeyPair, pemBody, toPkcs8Pem } from '../../crypto/keys.ts';
import { openApiRequestContent } from '../../crypto/sign-content.ts';
import { signSync } from '../../crypto/signature.ts';
import { beijingTime } from '../../domain/ids.ts';

/** The OpenAPI envelope end to end: official SDK, hand-signed GBK/Java-style calls, every gateway error. */
const KOUBEI = 'koubei.member.data.oauth.query';
const ZHIMA = 'alipay.user.auth.zhimaper.inner.apply';

let gw: TestGateway;
let caller: Caller;
let platformKey: string;
let sdk: AlipaySdk;

before(async () => {
  gw = await startTestGateway();
  caller = { app_id: gw.sandbox.app.app_id, privateKey: gw.sandbox.app.app_private_key! };
  platformKey = gw.sandbox.app.alipay_public_key;
  sdk = new AlipaySdk({ appId: caller.app_id, privateKey: caller.privateKey, alipayPublicKey: platformKey, gateway: gw.gatewayUrl, signType: 'RSA2' });
});
after(() => gw.close());

async function loggedRequest(traceId: string | null) {
  assert.ok(traceId, 'a trace_id header');
  await gw.ctx.requestLog.flush();
  return gw.ctx.db.selectFrom('request_log').selectAll().where('trace_id', '=', traceId).executeTakeFirstOrThrow();
}

async function operatorCode(extra: Record<string, unknown> = {}): Promise<string> {
  const operator = gw.sandbox.koubei_operators.find((o) => o.operator_type === 'PROVIDER')!;
  const { status, json } = await gw.admin('POST', '/koubei/auth-codes', { app_id: caller.app_id, operator_id: operator.operator_id, ...extra });
  assert.equal(status, 201);
  return json.code;
}

function koubeiBiz(code = '0'.repeat(32)): string {
  return JSON.stringify({ auth_type: 'pay_member', code });
}

interface Verifier {
  signed?: boolean;
  key?: string;
  signType?: 'RSA2' | 'RSA';
}

/** Asserts the node, code and sub_code of an answer, and that it is signed (or deliberately not). */
function assertAnswer(answer: RawAnswer, node: string, code: string, subCode: string | undefined, v: Verifier = {}): Record<string, string> {
  const signed = v.signed ?? true;
  assert.equal(answer.status, 200);
  assert.deepEqual(Object.keys(answer.json ?? {}), signed ? [node, 'sign'] : [node], answer.text);
  const body = answer.json[node];
  assert.equal(body.code, code, answer.text);
  assert.equal(body.sub_code, subCode, answer.text);
  if (signed) assert.ok(signatureValid(answer, node, v.key ?? platformKey, v.signType), 'answer signature verifies');
  return body;
}

test('official SDK: a call succeeds and the SDK really checks our response signature', async () => {
  const result = await sdk.exec(KOUBEI, { bizContent: { auth_type: 'pay_member', code: await operatorCode() } }, { validateSign: true });
  assert.equal(result.code, '10000');
  assert.equal(result.operatorType, 'PROVIDER');
  assert.match(String(result.traceId), /^[0-9a-f]{32}$/, 'the SDK read our trace_id header');

  const otherKey = (await generateRsaKeyPair()).publicKey;
  const distrustful = new AlipaySdk({ appId: caller.app_id, privateKey: caller.privateKey, alipayPublicKey: otherKey, gateway: gw.gatewayUrl });
  await assert.rejects(
    distrustful.exec(KOUBEI, { bizContent: { auth_type: 'pay_member', code: 'x' } }, { validateSign: true }),
    /验签失败/,
    'with the wrong platform key the SDK refuses our answer: validation runs',
  );
});

test('answers: HTTP 200, JSON in the request charset, node first and sign last, trace_id logged', async () => {
  const answer = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { biz_content: koubeiBiz() }));
  assertAnswer(answer, methodNode(KOUBEI), '40004', 'AUTH_CODE_NOT_EXIST');
  assert.equal(answer.headers.get('content-type'), 'application/json;charset=utf-8');
  assert.match(answer.text, /^\{"koubei_member_data_oauth_query_response":\{"code":"40004","msg":"Business Failed","sub_code":"AUTH_CODE_NOT_EXIST","sub_msg":"授权码不存在"\},"sign":"[A-Za-z0-9+/=]{344}"\}$/);
  const row = await loggedRequest(answer.headers.get('trace_id'));
  assert.equal(row.caller, caller.app_id);
  assert.equal(row.method, KOUBEI);
  assert.equal(row.code, '40004');
  assert.equal(row.sub_code, 'AUTH_CODE_NOT_EXIST');
  assert.equal(row.response, answer.text);
  assert.ok(row.latency_ms >= 0);
});

test('tampered signature: isv.invalid-signature naming the string we verified, diagnosed in the log', async () => {
  const params = signedParams(caller, KOUBEI, { biz_content: koubeiBiz() });
  params.biz_content = koubeiBiz('1'.repeat(32));
  const answer = await post(gw.gatewayUrl, params);
  const body = assertAnswer(answer, methodNode(KOUBEI), '40002', 'isv.invalid-signature');
  assert.equal(body.sub_msg, `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${openApiRequestContent(params, false)}`);
  const row = await loggedRequest(answer.headers.get('trace_id'));
  const diagnosis = JSON.parse(row.diagnosis!);
  assert.equal(diagnosis.cause, 'content_mismatch');
  assert.equal(diagnosis.string_to_sign, openApiRequestContent(params, false));
});

test('wrong app key: isv.invalid-signature, diagnosed as a key mismatch', async () => {
  const stranger = { ...caller, privateKey: (await generateRsaKeyPair()).privateKey };
  const answer = await post(gw.gatewayUrl, signedParams(stranger, KOUBEI, { biz_content: koubeiBiz() }));
  assertAnswer(answer, methodNode(KOUBEI), '40002', 'isv.invalid-signature');
  assert.equal(JSON.parse((await loggedRequest(answer.headers.get('trace_id'))).diagnosis!).cause, 'wrong_key');
});

test('signature over the string with or without empty values both verify (Node keeps k=, Java drops)', async () => {
  for (const dropEmpty of [false, true]) {
    const params = signedParams(caller, KOUBEI, { biz_content: koubeiBiz(), notify_url: '' }, 'utf-8', { dropEmpty });
    assertAnswer(await post(gw.gatewayUrl, params), methodNode(KOUBEI), '40004', 'AUTH_CODE_NOT_EXIST');
  }
});

test('GET with every param in the query string is served too', async () => {
  const params = signedParams(caller, KOUBEI, { biz_content: koubeiBiz() });
  const res = await fetch(`${gw.gatewayUrl}?${buildForm(params, 'utf-8')}`);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(text)[methodNode(KOUBEI)].sub_code, 'AUTH_CODE_NOT_EXIST');
});

test('unknown or missing app_id: error_response, unsigned (no key to sign with)', async () => {
  const unknown = await post(gw.gatewayUrl, signedParams({ ...caller, app_id: '2021000000000000' }, KOUBEI, { biz_content: koubeiBiz() }));
  assert.deepEqual(assertAnswer(unknown, 'error_response', '40002', 'isv.invalid-app-id', { signed: false }), {
    code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-app-id', sub_msg: '无效的AppID参数',
  });
  const missing = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { app_id: undefined, biz_content: koubeiBiz() }));
  assertAnswer(missing, 'error_response', '40001', 'isv.missing-app-id', { signed: false });
  const row = await loggedRequest(unknown.headers.get('trace_id'));
  assert.equal(row.caller, '2021000000000000');
  assert.equal(row.sub_code, 'isv.invalid-app-id');
});

test('unknown or missing method: error_response, signed with the app key', async () => {
  const unknown = assertAnswer(await post(gw.gatewayUrl, signedParams(caller, 'alipay.trade.pay', {})), 'error_response', '40002', 'isv.invalid-method');
  assert.equal(unknown.sub_msg, '不存在的方法名');
  assertAnswer(await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { method: undefined })), 'error_response', '40001', 'isv.missing-method');
});

test('common parameters: each missing or invalid one gets its documented code', async () => {
  const stale = beijingTime(Date.now() - 24 * 3600_000);
  const cases: Array<[string, Record<string, string | undefined>, string, string]> = [
    ['stale timestamp', { timestamp: stale }, '40002', 'isv.invalid-timestamp'],
    ['malformed timestamp', { timestamp: '2024/05/13 17:49:20' }, '40002', 'isv.invalid-timestamp'],
    ['missing timestamp', { timestamp: undefined }, '40001', 'isv.missing-timestamp'],
    ['missing version', { version: undefined }, '40001', 'isv.missing-version'],
    ['wrong version', { version: '2.0' }, '40002', 'isv.invalid-parameter'],
    ['missing sign_type', { sign_type: undefined }, '40001', 'isv.missing-signature-type'],
    ['unknown sign_type', { sign_type: 'MD5' }, '40002', 'isv.invalid-signature-type'],
    ['format other than JSON', { format: 'XML' }, '40002', 'isv.invalid-format'],
    ['app_auth_token (none are issued)', { app_auth_token: '202405bb' + 'a'.repeat(32) }, '20001', 'aop.invalid-app-auth-token'],
    ['unknown auth_token', { auth_token: 'x'.repeat(40) }, '20001', 'aop.invalid-auth-token'],
    ['bad biz_content JSON', { biz_content: '{"auth_type":"pay_member",' }, '40002', 'isv.invalid-parameter'],
    ['biz_content not an object', { biz_content: '["pay_member"]' }, '40002', 'isv.invalid-parameter'],
    ['overlong field with the seed own code', { biz_content: koubeiBiz('a'.repeat(33)) }, '40004', 'INVALID_PARAMETER'],
    ['mistyped field', { biz_content: JSON.stringify({ auth_type: 'pay_member', code: { a: 1 } }) }, '40004', 'INVALID_PARAMETER'],
  ];
  for (const [what, params, code, subCode] of cases) {
    const answer = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { biz_content: koubeiBiz(), ...params }));
    assert.equal(answer.json?.[methodNode(KOUBEI)]?.sub_code, subCode, `${what}: ${answer.text}`);
    assertAnswer(answer, methodNode(KOUBEI), code, subCode);
  }
  const format = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { biz_content: koubeiBiz(), format: 'json' }));
  assertAnswer(format, methodNode(KOUBEI), '40004', 'AUTH_CODE_NOT_EXIST');

  const unsigned = signedParams(caller, KOUBEI, { biz_content: koubeiBiz() });
  delete unsigned.sign;
  assertAnswer(await post(gw.gatewayUrl, unsigned), methodNode(KOUBEI), '40001', 'isv.missing-signature');
  const longSign = { ...signedParams(caller, KOUBEI, { biz_content: koubeiBiz() }), sign: 'A'.repeat(345) };
  assertAnswer(await post(gw.gatewayUrl, longSign), methodNode(KOUBEI), '40002', 'isv.invalid-signature');

  const rsaForRsa2 = await post(gw.gatewayUrl, signedParams({ ...caller, signType: 'RSA' }, KOUBEI, { biz_content: koubeiBiz() }));
  assertAnswer(rsaForRsa2, methodNode(KOUBEI), '40002', 'isv.missing-signature-config');

  const overlongName = JSON.stringify({ cert_no: '330701199001011311', cert_type: 'IDENTITY_CARD', name: '张'.repeat(17), mobile: '13588111111' });
  const zhima = assertAnswer(await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: overlongName })), methodNode(ZHIMA), '40002', 'isv.invalid-parameter');
  assert.match(zhima.sub_msg, /name/);
});

test('a method not granted to the app: 40006 isv.insufficient-isv-permissions', async () => {
  const { json: app } = await gw.admin('POST', '/apps', { methods: ['alipay.system.oauth.token'] });
  const answer = await post(gw.gatewayUrl, signedParams({ app_id: app.app_id, privateKey: app.app_private_key }, KOUBEI, { biz_content: koubeiBiz() }));
  assert.equal(answer.json[methodNode(KOUBEI)].sub_code, 'isv.insufficient-isv-permissions');
  assert.equal(answer.json[methodNode(KOUBEI)].code, '40006');
  assert.ok(signatureValid(answer, methodNode(KOUBEI), app.alipay_public_key), 'signed with that app platform key');
});

test('undecodable requests: unknown charset, bytes not in the charset, broken escapes, conflicting duplicates', async () => {
  const base = signedParams(caller, KOUBEI, { biz_content: koubeiBiz() });
  const query = buildForm(base, 'utf-8');
  const latin9 = await send(`${gw.gatewayUrl}?${query.replace('charset=utf-8', 'charset=latin9')}`, '');
  assertAnswer(latin9, methodNode(KOUBEI), '40002', 'isv.invalid-charset');
  assert.equal(latin9.headers.get('content-type'), 'application/json;charset=utf-8');
  const badBytes = await send(`${gw.gatewayUrl}?${query}`, 'ext_info=%FF%FE');
  assertAnswer(badBytes, methodNode(KOUBEI), '40002', 'isv.invalid-charset');
  const badEscape = await send(`${gw.gatewayUrl}?${query}`, 'ext_info=%zz');
  assertAnswer(badEscape, methodNode(KOUBEI), '40002', 'isv.invalid-parameter');
  const conflict = await send(`${gw.gatewayUrl}?${query}`, `app_id=${caller.app_id}&method=alipay.trade.pay`);
  assertAnswer(conflict, methodNode(KOUBEI), '40002', 'isv.invalid-parameter');
  const agreeing = await send(`${gw.gatewayUrl}?${query}`, `charset=utf-8&app_id=${caller.app_id}`);
  assertAnswer(agreeing, methodNode(KOUBEI), '40004', 'AUTH_CODE_NOT_EXIST');
  const garbage = await send(`${gw.gatewayUrl}?%%%`, Buffer.from([0xff, 0x00, 0x25]));
  assertAnswer(garbage, 'error_response', '40002', 'isv.invalid-parameter', { signed: false });
});

test('charset=GBK (Java SDK style): GBK form in, GBK answer out, both signatures over GBK bytes', async () => {
  const member = gw.sandbox.members[0];
  const biz = JSON.stringify({ cert_no: member.cert_no, cert_type: 'IDENTITY_CARD', name: member.name, mobile: member.mobile });
  const params = signedParams(caller, ZHIMA, { biz_content: biz }, 'GBK');
  const answer = await post(gw.gatewayUrl, params, 'gbk');
  assert.equal(answer.headers.get('content-type'), 'application/json;charset=gbk');
  const body = assertAnswer(answer, methodNode(ZHIMA), '10000', undefined);
  assert.match(body.access_token, /^\d{8}[0-9a-f]{32}$/);

  // A Chinese value travels back in GBK bytes, and the signature covers those bytes.
  const extInfo = '{"门店":"西湖店"}';
  const code = await operatorCode();
  const koubei = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { biz_content: JSON.stringify({ auth_type: 'pay_member', code, ext_info: extInfo }) }, 'GBK'), 'gbk');
  assert.equal(assertAnswer(koubei, methodNode(KOUBEI), '10000', undefined).ext_info, extInfo);
  assert.ok(koubei.bytes.includes(iconv.encode('西湖店', 'gbk')), 'GBK bytes on the wire');
  assert.ok(!koubei.bytes.includes(Buffer.from('西湖店', 'utf8')));

  // A character GBK cannot encode comes back \u-escaped, never as "?", and still verifies.
  const emojiCode = await operatorCode({ ext_info: 'ok 😀' });
  const emoji = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { biz_content: koubeiBiz(emojiCode) }, 'GBK'), 'gbk');
  assert.equal(assertAnswer(emoji, methodNode(KOUBEI), '10000', undefined).ext_info, 'ok 😀');

  // The string signed as GBK bytes while charset says utf-8: refused with Alipay's charset hint.
  const declaredUtf8 = signedParams(caller, ZHIMA, { biz_content: biz });
  const { sign: _utf8Sign, ...unsigned } = declaredUtf8;
  const gbkSign = signSync('RSA2', iconv.encode(openApiRequestContent(unsigned, true), 'gbk'), caller.privateKey);
  const mismatch = await post(gw.gatewayUrl, { ...unsigned, sign: gbkSign });
  const refused = assertAnswer(mismatch, methodNode(ZHIMA), '40002', 'isv.invalid-signature');
  assert.equal(refused.sub_msg, '验签出错，请确认charset参数放在了URL查询字符串中且各参数值使用charset参数指示的字符集编码');
  assert.equal(JSON.parse((await loggedRequest(mismatch.headers.get('trace_id'))).diagnosis!).cause, 'charset_mismatch');
});

test('an RSA (SHA1) app and a PKCS#8 app key work with the official SDK', async () => {
  const { json: rsaApp } = await gw.admin('POST', '/apps', { sign_type: 'RSA' });
  assert.equal(rsaApp.sign_type, 'RSA');
  const rsaSdk = new AlipaySdk({ appId: rsaApp.app_id, privateKey: rsaApp.app_private_key, alipayPublicKey: rsaApp.alipay_public_key, gateway: gw.gatewayUrl, signType: 'RSA' });
  const operator = gw.sandbox.koubei_operators.find((o) => o.operator_type === 'MER')!;
  const { json: issued } = await gw.admin('POST', '/koubei/auth-codes', { app_id: rsaApp.app_id, operator_id: operator.operator_id });
  const result = await rsaSdk.exec(KOUBEI, { bizContent: { auth_type: 'pay_member', code: issued.code } }, { validateSign: true });
  assert.equal(result.code, '10000');
  assert.equal(result.operatorId, operator.operator_id);
  // An RSA2 signature is refused by an RSA app.
  const rsa2 = await post(gw.gatewayUrl, signedParams({ app_id: rsaApp.app_id, privateKey: rsaApp.app_private_key }, KOUBEI, { biz_content: koubeiBiz() }));
  assertAnswer(rsa2, methodNode(KOUBEI), '40002', 'isv.missing-signature-config', { key: rsaApp.alipay_public_key, signType: 'RSA' });

  const pkcs8 = pemBody(toPkcs8Pem(caller.privateKey));
  const pkcs8Sdk = new AlipaySdk({ appId: caller.app_id, privateKey: pkcs8, keyType: 'PKCS8', alipayPublicKey: platformKey, gateway: gw.gatewayUrl });
  const viaPkcs8 = await pkcs8Sdk.exec(KOUBEI, { bizContent: { auth_type: 'pay_member', code: await operatorCode() } }, { validateSign: true });
  assert.equal(viaPkcs8.code, '10000');
});

test('fault rules: an injected code is signed like a real answer; latency delays a real one', async () => {
  await gw.admin('POST', '/faults', { target: KOUBEI, code: '20000', count: 1 });
  const busy = await post(gw.gatewayUrl, signedParams(caller, KOUBEI, { biz_content: koubeiBiz() }));
  assert.deepEqual(assertAnswer(busy, methodNode(KOUBEI), '20000', 'isp.unknow-error'), {
    code: '20000', msg: 'Service Currently Unavailable', sub_code: 'isp.unknow-error', sub_msg: '系统繁忙',
  });
  await gw.admin('POST', '/faults', { target: KOUBEI, latency_ms: 300, count: 1 });
  const started = performance.now();
  const slow = await sdk.exec(KOUBEI, { bizContent: { auth_type: 'pay_member', code: await operatorCode() } }, { validateSign: true });
  assert.equal(slow.code, '10000');
  assert.ok(performance.now() - started >= 300);
});
