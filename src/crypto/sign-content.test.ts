import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlipaySdk } from 'alipay-sdk';
import { encode } from './charset.ts';
import { mapiContent, openApiNotifyContent, openApiRequestContent, openApiResponseBody } from './sign-content.ts';
import { signSync, verifySync } from './signature.ts';
import { rsaFixture, type RsaFixture } from './test-support.ts';

describe('strings to sign', () => {
  test('keys sorted in code-unit (= byte, for ASCII) order; raw values; no trailing &', () => {
    const p = { b: '2', a_b: '3', ab: '4', A: '5', _x: '6', a: '1' };
    assert.equal(openApiRequestContent(p, false), 'A=5&_x=6&a=1&a_b=3&ab=4&b=2');
  });

  test('values are not URL-encoded or decoded', () => {
    assert.equal(openApiRequestContent({ v: '%E5%BC%A0 +&=', w: '张三' }, false), 'v=%E5%BC%A0 +&=&w=张三');
  });

  test('OpenAPI request: sign excluded, sign_type signed; empties kept or dropped', () => {
    const p = { sign: 'S', sign_type: 'RSA2', app_id: '1', notify_url: '' };
    assert.equal(openApiRequestContent(p, false), 'app_id=1&notify_url=&sign_type=RSA2');
    assert.equal(openApiRequestContent(p, true), 'app_id=1&sign_type=RSA2');
  });

  test('OpenAPI notification: sign and sign_type excluded, empties kept (Java rsaCheckV1, Node checkNotifySign)', () => {
    const p = { sign: 'S', sign_type: 'RSA2', notify_id: 'n', trade_status: 'TRADE_SUCCESS', buyer_memo: '' };
    assert.equal(openApiNotifyContent(p), 'buyer_memo=&notify_id=n&trade_status=TRADE_SUCCESS');
  });

  test('MAPI: sign, sign_type and empties excluded (the MAPI demos\' paraFilter)', () => {
    const p = { sign: 'S', sign_type: 'MD5', notify_id: 'n', trade_status: 'TRADE_SUCCESS', buyer_memo: '' };
    assert.equal(mapiContent(p), 'notify_id=n&trade_status=TRADE_SUCCESS');
  });

  test('does not mutate its input', () => {
    const p = { sign: 'S', b: '', a: '1' };
    openApiRequestContent(p, true);
    mapiContent(p);
    assert.deepEqual(p, { sign: 'S', b: '', a: '1' });
  });
});

describe('what the official SDK checks on our output', () => {
  let platform: RsaFixture;
  let sdk: AlipaySdk;

  before(async () => {
    platform = await rsaFixture(2048);
    sdk = new AlipaySdk({
      appId: '2021000122671080',
      privateKey: platform.pkcs1Bare, // unused here; the SDK requires one
      alipayPublicKey: platform.spkiBare,
      signType: 'RSA2',
    });
  });

  test('response body: node text signed as sent, node first, sign last; the SDK verifies it', () => {
    const node = '{"code":"10000","msg":"Success","user_id":"2088102104794936","nick":"张三 \\"&=+%\\n","url":"https:\\/\\/x.cn"}';
    const sig = signSync('RSA2', encode(node, 'utf-8'), platform.pkcs1Bare);
    const body = openApiResponseBody('alipay_user_auth_zhimaper_inner_apply_response', node, sig);
    assert.equal(body, `{"alipay_user_auth_zhimaper_inner_apply_response":${node},"sign":"${sig}"}`);
    assert.deepEqual(Object.keys(JSON.parse(body)), ['alipay_user_auth_zhimaper_inner_apply_response', 'sign']);
    assert.doesNotThrow(() => sdk.checkResponseSign(body, 'alipay_user_auth_zhimaper_inner_apply_response', sig, 'trace'));
    // The SDK check itself can fail: a body whose node differs from the signed text.
    const altered = openApiResponseBody('alipay_user_auth_zhimaper_inner_apply_response', node.replace('10000', '10001'), sig);
    assert.throws(() => sdk.checkResponseSign(altered, 'alipay_user_auth_zhimaper_inner_apply_response', sig, 'trace'));
  });

  test('unsigned error_response has no sign key', () => {
    const body = openApiResponseBody('error_response', '{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}', undefined);
    assert.equal(Object.hasOwn(JSON.parse(body), 'sign'), false);
    assert.ok(!body.includes('"sign"'));
  });

  test('notification: the SDK (checkNotifySignV2) accepts our signature; ours verifies it', () => {
    const post: Record<string, string> = {
      notify_time: '2024-05-13 17:49:20',
      notify_type: 'trade_status_sync',
      notify_id: 'ac05099524730693a8b330c5ecf72da9',
      app_id: '2021000122671080',
      charset: 'utf-8',
      version: '1.0',
      sign_type: 'RSA2',
      subject: '张三的订单 & =+%',
      buyer_memo: '',
    };
    const content = openApiNotifyContent(post);
    post['sign'] = signSync('RSA2', encode(content, 'utf-8'), platform.pkcs1Bare);
    assert.equal(sdk.checkNotifySignV2({ ...post }), true);
    assert.equal(verifySync('RSA2', encode(openApiNotifyContent(post), 'utf-8'), post['sign'], platform.spkiBare), true);
    assert.equal(sdk.checkNotifySignV2({ ...post, subject: '张三的订单' }), false);
  });
});
