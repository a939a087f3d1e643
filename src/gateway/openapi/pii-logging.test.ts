import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlipaySdk } from 'alipay-sdk';
import { collectLines, startTestGateway, type TestGateway } from '../../../test/support/gateway.ts';
import { post, signedParams, type Caller } from '../../../test/support/openapi.ts';
import { forgetCachedRows } from '../../storage/row-cache.ts';

/**
 * Personal data never reaches a log line in clear: every process log line (at trace level)
 * and every request-log row, after calls that carry sandbox members' names, ID numbers and
 * mobiles through success, refusal, bad signatures (whose sub_msg quotes them), GBK and failures.
 */
const ZHIMA = 'alipay.user.auth.zhimaper.inner.apply';

let gw: TestGateway;
const lines: string[] = [];

before(async () => {
  const logStream = collectLines(lines);
  gw = await startTestGateway({ logLevel: 'trace', logStream });
});
after(() => gw.close());

function secrets(): string[] {
  return gw.sandbox.members.flatMap((m) => [m.name, m.cert_no, m.mobile]);
}

test('no log line and no request-log row holds a member name, ID number or mobile in clear', async () => {
  const app = gw.sandbox.app;
  const caller: Caller = { app_id: app.app_id, privateKey: app.app_private_key! };
  const sdk = new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gw.gatewayUrl });

  for (const m of gw.sandbox.members) {
    const biz = { cert_no: m.cert_no, cert_type: 'IDENTITY_CARD', name: m.name, mobile: m.mobile };
    await sdk.exec(ZHIMA, { bizContent: biz }, { validateSign: true });
    await sdk.exec(ZHIMA, { bizContent: { ...biz, mobile: '13000000000' } });
    await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: JSON.stringify(biz) }, 'GBK'), 'gbk');
    const tampered = signedParams(caller, ZHIMA, { biz_content: JSON.stringify(biz) });
    const echoed = await post(gw.gatewayUrl, { ...tampered, timestamp: '2000-01-01 00:00:00' });
    assert.ok(echoed.text.includes(m.cert_no), 'the client is told the string we verified, with its own data');
    await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: `{"name":"${m.name}","cert_no":"${m.cert_no}",` }));
    await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: JSON.stringify(biz), name: m.name, mobile: m.mobile }));
    await post(gw.gatewayUrl, signedParams({ ...caller, app_id: '2021000000000000' }, ZHIMA, { biz_content: JSON.stringify(biz) }));
  }

  // A failure inside the gateway (an unusable platform key) is logged: the capture works.
  await gw.ctx.db.updateTable('apps').set({ platform_private_key: 'not a key' }).where('app_id', '=', app.app_id).execute();
  forgetCachedRows(); // written behind the repositories' back
  const m = gw.sandbox.members[0];
  const broken = await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: JSON.stringify({ cert_no: m.cert_no, cert_type: 'IDENTITY_CARD', name: m.name, mobile: m.mobile }) }));
  assert.equal(broken.json.error_response.sub_code, 'isp.unknow-error');
  assert.ok(lines.some((l) => l.includes('openapi request failed')), 'the failure reached the log');

  const logText = lines.join('\n');
  await gw.ctx.requestLog.flush();
  const rows = JSON.stringify(await gw.ctx.db.selectFrom('request_log').selectAll().execute());
  assert.ok(rows.includes('isv.invalid-signature') && rows.includes('NO_USER_ERROR'), 'the calls were logged');
  for (const secret of secrets()) {
    assert.ok(!logText.includes(secret), `process log holds ${secret.slice(0, 2)}…`);
    assert.ok(!rows.includes(secret), `request log holds ${secret.slice(0, 2)}…`);
  }
});
