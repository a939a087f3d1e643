import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// Only what a user of the package can import: its public entry points, by name.
import { startGateway } from 'gatewaydo';
import {
  koubeiMemberDataOauthQuery,
  mapiForm,
  mapiUrl,
  notifyVerify,
  ResponseSignatureError,
  snsAccountBind,
  verifyNotification,
  verifyReturn,
  zhimaperInnerApply,
  type MapiCharset,
  type MapiSignType,
} from 'gatewaydo/client';
import { ROOT } from './support/cli.ts';

/** The ISV's notify_url: records each raw body (bytes) and answers `success`. */
async function startNotifyServer(): Promise<{ url: string; bodies: Buffer[]; next(n: number): Promise<Buffer[]>; close(): Promise<void> }> {
  const bodies: Buffer[] = [];
  let wake = () => {};
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.end('success');
      wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`,
    bodies,
    async next(n) {
      const deadline = Date.now() + 10_000;
      while (bodies.length < n) {
        if (Date.now() > deadline) throw new Error(`waited for ${n} notifications, got ${bodies.length}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
      return bodies.slice(0, n);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

test('public API: bind headlessly, verify the return and the notification, reset, close', async () => {
  const notify = await startNotifyServer();
  const gw = await startGateway({ notifySchedule: [100, 100] });
  try {
    const partner = gw.sandbox.partner!;
    const variants: Array<[MapiSignType, MapiCharset]> = [['MD5', 'utf-8'], ['RSA', 'gbk'], ['DSA', 'gbk']];
    for (const [i, [signType, charset]] of variants.entries()) {
      const signed = snsAccountBind(partner, {
        return_url: 'http://127.0.0.1:9/return',
        notify_url: notify.url,
        sns_user_id: `sns-${i}`,
        sns_user_name: '社区用户',
        type: 'buyer',
      }, { signType, charset });
      const done = await gw.admin.request('POST', '/mapi/complete', { url: mapiUrl(gw.gatewayUrl, signed), login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
      assert.equal(done.status, 200, JSON.stringify(done.json));
      assert.equal(done.json.code, 'T');

      const back = verifyReturn(partner, done.json.return_url, charset);
      assert.equal(back.valid, true, `${signType}/${charset} return_url signature`);
      assert.equal(back.params.is_success, 'T');
      assert.equal(back.params.sns_user_id, `sns-${i}`);
      assert.equal(back.params.sign_type, signType);

      const [body] = (await notify.next(i + 1)).slice(i);
      const notice = verifyNotification(partner, body, charset);
      assert.equal(notice.valid, true, `${signType}/${charset} notification signature`);
      assert.equal(notice.params.alipay_login_id, 'buyer@sandbox.gatewaydo');
      assert.equal(await notifyVerify(gw.gatewayUrl, partner, notice.params.notify_id), 'true');

      const tampered = Buffer.from(body.toString('latin1').replace('is_success=T', 'is_success=F'), 'latin1');
      assert.equal(verifyNotification(partner, tampered, charset).valid, false, 'a changed notification does not verify');
    }
    assert.equal(await notifyVerify(gw.gatewayUrl, partner, '0'.repeat(32)), 'false');
    assert.match(mapiForm(gw.gatewayUrl, snsAccountBind(partner, { return_url: 'http://a.test/r', notify_url: 'http://a.test/n', sns_user_id: 'x', sns_user_name: '<x>', type: 'common' })), /name="sns_user_name" value="&lt;x&gt;"/);

    // The OpenAPI side, through the typed wrappers (each answer's signature checked).
    const app = gw.sandbox.app!;
    const issued = await gw.admin.request('POST', '/koubei/auth-codes', { app_id: app.app_id, operator_id: gw.sandbox.koubei_operators[0].operator_id });
    const operator = await koubeiMemberDataOauthQuery(gw.gatewayUrl, app, { code: issued.json.code });
    assert.ok(operator.ok);
    assert.equal(operator.operator_id, gw.sandbox.koubei_operators[0].operator_id);
    const again = await koubeiMemberDataOauthQuery(gw.gatewayUrl, app, { code: issued.json.code });
    assert.ok(!again.ok);
    assert.equal(again.sub_code, 'AUTH_CODE_NOT_EXIST');
    const wrongKey = { ...app, alipay_public_key: partner.alipay_rsa_public_key! };
    await assert.rejects(koubeiMemberDataOauthQuery(gw.gatewayUrl, wrongKey, { code: 'x' }), ResponseSignatureError, 'an answer not signed with the app\'s alipay_public_key is refused');
    const buyer = gw.sandbox.members.find((m) => m.login_id === 'buyer@sandbox.gatewaydo')!;
    const tokens = await zhimaperInnerApply(gw.gatewayUrl, app, { name: buyer.name, cert_no: buyer.cert_no, mobile: buyer.mobile }, { charset: 'gbk' });
    assert.ok(tokens.ok);
    assert.equal(tokens.access_token.length, 40);

    assert.equal((await gw.admin.request('GET', '/mapi/bindings')).json.length, 3);
    const view = await gw.reset();
    assert.equal(view.partner?.partner, partner.partner, 'reset keeps the seeded credentials');
    assert.deepEqual((await gw.admin.request('GET', '/mapi/bindings')).json, []);
  } finally {
    await gw.close();
    await notify.close();
  }
});

test('a process that starts a gateway, uses it and closes it exits by itself', async () => {
  // No process.exit: the child ends only if close() left nothing running (server,
  // notification dispatcher, request-log retention, database pool).
  const script = `
    import { createServer } from 'node:http';
    import { startGateway } from 'gatewaydo';
    import { mapiUrl, snsAccountBind } from 'gatewaydo/client';
    const isv = createServer((req, res) => req.resume().on('end', () => res.end('success')));
    await new Promise((r) => isv.listen(0, '127.0.0.1', r));
    let delivered;
    const got = new Promise((r) => (delivered = r));
    isv.on('request', () => delivered());
    const gw = await startGateway({ notifySchedule: [100] });
    const signed = snsAccountBind(gw.sandbox.partner, { return_url: 'http://127.0.0.1:9/r', notify_url: 'http://127.0.0.1:' + isv.address().port + '/n', sns_user_id: 'u1', sns_user_name: 'u', type: 'buyer' });
    const done = await gw.admin.request('POST', '/mapi/complete', { url: mapiUrl(gw.gatewayUrl, signed), login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
    if (done.json.code !== 'T') throw new Error(JSON.stringify(done.json));
    await got;
    await gw.reset();
    await gw.close();
    isv.closeAllConnections();
    isv.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  let closedAt = 0;
  child.stdout.on('data', (c: Buffer) => {
    if (c.toString().includes('closed')) closedAt = Date.now();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  assert.equal(signal, null, 'not killed: it exited by itself');
  assert.equal(code, 0, stderr);
  assert.ok(closedAt > 0, 'the script ran to its end');
  assert.ok(Date.now() - closedAt < 3000, `exited ${Date.now() - closedAt} ms after close()`);
});
