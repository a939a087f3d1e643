import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.ts';
import { methodNode, post, signatureValid, signedParams, type Caller } from '../../test/support/openapi.ts';
import { pageErrorCode, signedUrl, type PartnerKeys } from '../../test/support/mapi-client.ts';
import { resolveConfig, DEFAULT_RATE_LIMIT } from '../config.ts';

/**
 * Issue 8, abuse: GATEWAYDO_RATE_LIMIT calls per second per app (OpenAPI: 40005
 * isv.app-call-limited, "Call Limited") and per partner (MAPI: CALL_LIMITED, as XML or the
 * error page), counted only for calls that passed the signature check, per process.
 */
const RATE = 5;
const OAUTH = 'alipay.system.oauth.token';

let gw: TestGateway;
let caller: Caller;
let keys: PartnerKeys;

before(async () => {
  gw = await startTestGateway({ rateLimit: RATE });
  caller = { app_id: gw.sandbox.app.app_id, privateKey: gw.sandbox.app.app_private_key! };
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});
after(() => gw.close());

function call(who: Caller) {
  return post(gw.gatewayUrl, signedParams(who, OAUTH, { grant_type: 'authorization_code', code: 'x' }));
}

async function burst(who: Caller, n: number): Promise<{ limited: number; served: number; answers: Awaited<ReturnType<typeof call>>[] }> {
  const answers = await Promise.all(Array.from({ length: n }, () => call(who)));
  const limited = answers.filter((a) => a.json.error_response?.sub_code === 'isv.app-call-limited').length;
  return { limited, served: n - limited, answers };
}

test('the default is generous and a limit can be switched off', () => {
  const env = { GATEWAYDO_DATA_KEY: undefined, DATABASE_URL: undefined };
  assert.equal(resolveConfig({ memory: true }, env).rateLimit, DEFAULT_RATE_LIMIT);
  assert.ok(DEFAULT_RATE_LIMIT >= 10_000);
  assert.equal(resolveConfig({ memory: true, rateLimit: '0' }, env).rateLimit, 0);
  assert.throws(() => resolveConfig({ memory: true, rateLimit: 'lots' }, env), /invalid rate limit/);
});

test('OpenAPI: over the rate an app gets 40005 isv.app-call-limited, signed; another app and a second later are served', async () => {
  // Calls that fail the signature check are not counted: they cannot use up the app's quota.
  const forged = await Promise.all(Array.from({ length: 3 * RATE }, () => post(gw.gatewayUrl, { ...signedParams(caller, OAUTH, { grant_type: 'authorization_code' }), sign: 'AAAA' })));
  assert.ok(forged.every((a) => a.json.error_response.sub_code === 'isv.invalid-signature'));

  const first = await burst(caller, 3 * RATE);
  // One second's worth, plus what refills while the burst is served on a slow machine.
  assert.ok(first.served >= RATE && first.served <= RATE + 4, `a burst of one second's worth is served (${first.served})`);
  const refused = first.answers.find((a) => a.json.error_response?.sub_code === 'isv.app-call-limited')!;
  assert.deepEqual(refused.json.error_response, { code: '40005', msg: 'Call Limited', sub_code: 'isv.app-call-limited', sub_msg: '应用调用次数超限' });
  assert.ok(signatureValid(refused, 'error_response', gw.sandbox.app.alipay_public_key), 'the refusal is signed like any answer');
  const served = first.answers.find((a) => a.json.error_response?.sub_code !== 'isv.app-call-limited')!;
  assert.equal(served.json.error_response.sub_code, 'isv.code-invalid', 'calls within the rate get their real answer');

  const { json: other } = await gw.admin('POST', '/apps', { name: '另一个应用' });
  const otherBurst = await burst({ app_id: other.app_id, privateKey: other.app_private_key }, RATE);
  assert.equal(otherBurst.limited, 0, 'per app: another app has its own quota');

  await sleep(1100);
  assert.equal((await burst(caller, RATE)).limited, 0, 'a second later the quota is back');

  const logged = (await gw.admin('GET', `/requests?code=isv.app-call-limited&limit=100`)).json;
  assert.ok(logged.length >= first.limited, 'refusals are in the request log');
});

test('MAPI: over the rate a partner gets CALL_LIMITED — XML to server calls, the error page to browsers', async () => {
  const cancel = (i: number) =>
    fetch(signedUrl(gw.gatewayUrl, { service: 'sns.cancel.account.bind', partner: keys.partner, _input_charset: 'utf-8', sns_user_id: `limited_${i}`, key: 'k' }, 'MD5', keys, 'utf-8')).then((r) => r.text());
  const answers = await Promise.all(Array.from({ length: 3 * RATE }, (_, i) => cancel(i)));
  const limited = answers.filter((a) => a.includes('<error>CALL_LIMITED</error>')).length;
  assert.ok(limited >= 2 * RATE - 4 && limited <= 2 * RATE, `${limited} of ${3 * RATE} limited`);
  assert.ok(answers.some((a) => a.includes('<error>ALREADY_NOT_EXIT_ACCOUNT</error>')), 'calls within the rate get their real answer');

  const page = await fetch(signedUrl(gw.gatewayUrl, {
    service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: 'http://127.0.0.1:9/r', notify_url: 'http://127.0.0.1:9/n',
    sns_user_id: 'limited_page', sns_user_name: 'x', type: 'common',
  }, 'MD5', keys, 'utf-8'), { redirect: 'manual' });
  assert.equal(page.status, 200, 'refused, not sent on to the bind pages');
  assert.equal(pageErrorCode(await page.text()), 'CALL_LIMITED');
});
