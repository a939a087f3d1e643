import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, createVerify } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from './index.ts';
import { writeStateFile } from './storage/export.ts';
import { runCli as gatewaydo } from '../test/support/cli.ts';

test('exec: the command gets the URL and the sandbox credentials, and its exit code is ours', async () => {
  // The command proves the gateway is up and the token works, reports what it was given, exits 3.
  const script = `
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GATEWAYDO_') || k === 'DATABASE_URL'));
    const res = await fetch(env.GATEWAYDO_URL + '/admin/api/sandbox', { headers: { authorization: 'Bearer ' + env.GATEWAYDO_ADMIN_TOKEN } });
    console.log(JSON.stringify({ env, status: res.status, sandbox: await res.json() }));
    process.exit(3);
  `;
  // A DATABASE_URL meant for the user's own app must not become the gateway's storage.
  const run = await gatewaydo(['exec', '--', process.execPath, '--input-type=module', '-e', script], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
  assert.equal(run.code, 3, run.stderr);
  const { env, status, sandbox } = JSON.parse(run.stdout);
  assert.equal(status, 200);
  assert.equal(env.DATABASE_URL, 'postgres://nobody@127.0.0.1:1/none', 'the command sees its own environment unchanged');
  assert.match(env.GATEWAYDO_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(env.GATEWAYDO_GATEWAY_URL, `${env.GATEWAYDO_URL}/gateway.do`);
  assert.equal(env.GATEWAYDO_APP_ID, sandbox.app.app_id);
  assert.equal(env.GATEWAYDO_ALIPAY_PUBLIC_KEY, sandbox.app.alipay_public_key);
  assert.equal(env.GATEWAYDO_PARTNER, sandbox.partner.partner);
  assert.equal(env.GATEWAYDO_PARTNER_MD5_KEY, sandbox.partner.md5_key);
  assert.equal(env.GATEWAYDO_ALIPAY_RSA_PUBLIC_KEY, sandbox.partner.alipay_rsa_public_key);
  assert.equal(env.GATEWAYDO_ALIPAY_DSA_PUBLIC_KEY, sandbox.partner.alipay_dsa_public_key);
  assert.deepEqual(JSON.parse(env.GATEWAYDO_SANDBOX).members, sandbox.members);
  // The private keys are the halves of the public keys the gateway verifies with.
  const pairs: Array<[string, string]> = [
    [env.GATEWAYDO_APP_PRIVATE_KEY, sandbox.app.app_public_key],
    [env.GATEWAYDO_PARTNER_RSA_PRIVATE_KEY, sandbox.partner.rsa_public_key],
    [env.GATEWAYDO_PARTNER_DSA_PRIVATE_KEY, sandbox.partner.dsa_public_key],
  ];
  for (const [privateKey, publicKey] of pairs) {
    const signature = createSign('SHA256').update('x').sign(privateKey);
    assert.ok(createVerify('SHA256').update('x').verify(publicKey, signature));
  }
  await assert.rejects(fetch(`${env.GATEWAYDO_URL}/healthz`), 'the gateway is stopped once the command is done');
});

test('exec: one argument runs through the shell; --seed fixes the ids the command sees', async () => {
  const ok = await gatewaydo(['exec', '--seed', 'examples/sandbox.yaml', 'test "$GATEWAYDO_APP_ID" = 2021000100000001 && test "$GATEWAYDO_PARTNER" = 2088100000000002']);
  assert.equal(ok.code, 0, ok.stderr);
  const failed = await gatewaydo(['exec', '--seed', 'examples/sandbox.yaml', 'test "$GATEWAYDO_APP_ID" = 2021000100000999']);
  assert.equal(failed.code, 1);
  const missing = await gatewaydo(['exec', '--', 'gatewaydo-no-such-command', '--version']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /cannot run gatewaydo-no-such-command/);
});

test('exec --import starts from a state file; --export-on-exit writes what the command left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatewaydo-exec-state-'));
  const gw = await startGateway({ seed: 'examples/sandbox.yaml' });
  await writeStateFile(join(dir, 'in.json'), await gw.exportState());
  await gw.close();
  const script = `
    const res = await fetch(process.env.GATEWAYDO_URL + '/admin/api/members', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + process.env.GATEWAYDO_ADMIN_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ login_id: 'new@example.test', password: 'secret12', name: '钱七', cert_no: '330701199001011310', mobile: '13511112222' }),
    });
    process.exit(res.status === 201 && process.env.GATEWAYDO_APP_ID === '2021000100000001' ? 0 : 1);
  `;
  const run = await gatewaydo(['exec', '--import', join(dir, 'in.json'), '--export-on-exit', join(dir, 'out.json'), '--', process.execPath, '--input-type=module', '-e', script]);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  const logins = out.tables.members.map((m: { login_id: string }) => m.login_id);
  assert.ok(logins.includes('buyer@example.test') && logins.includes('new@example.test'), 'imported members and the one the command added');
});
