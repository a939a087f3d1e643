import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDsaKeyPair, generateRsaKeyPair } from '../crypto/keys.ts';
import { startGateway } from '../index.ts';
import { mapiUrl, snsAccountBind, zhimaperInnerApply } from '../client/index.ts';
import { runCli } from '../../test/support/cli.ts';
import { loadSeedFile, parseSeed, seedSpec, SeedError } from './seed-file.ts';

const EXAMPLE = 'examples/sandbox.yaml';

function seedFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gatewaydo-seed-')), name);
  writeFileSync(file, text);
  return file;
}

/** The problems a seed is refused with, one `file:line: …` per entry. */
function problems(source: string, file = 'sandbox.yaml'): string[] {
  try {
    parseSeed(source, file);
  } catch (err) {
    assert.ok(err instanceof SeedError);
    return err.problems;
  }
  assert.fail('the seed was accepted');
}

/** Signs in to the Koubei portal as an operator; the answer's status (303: signed in). */
async function operatorLogin(base: string, loginId: string, password: string): Promise<number> {
  const form = await fetch(`${base}/koubei/portal`);
  const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
  const res = await fetch(`${base}/koubei/portal`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, action: 'login', login_id: loginId, password }).toString(),
  });
  return res.status;
}

const MEMBER = `  - login_id: a@example.test
    password: secret12
    name: 张三
    cert_no: "330701199001011310"
    mobile: "13588111111"
`;

test('the example seed starts a gateway with its fixed ids, working logins and identities', async () => {
  const gw = await startGateway({ seed: EXAMPLE });
  try {
    assert.equal(gw.sandbox.app?.app_id, '2021000100000001');
    assert.equal(gw.sandbox.partner?.partner, '2088100000000002');
    assert.equal(gw.sandbox.partner?.md5_key, 'example0md5key0123456789abcdef');
    assert.equal(gw.admin.token, 'example-admin-token-0123456789');
    assert.equal((await gw.admin.request('GET', '/members')).status, 200, 'the seeded admin token is the one that works');
    assert.deepEqual(gw.sandbox.koubei_operators.map((o) => o.operator_id), ['2088100000000001', '2088100000000031', '2088100000000021', '2088100000000032', '2088100000000033']);
    // Keys left out were generated; passwords were hashed and still log in.
    assert.match(gw.sandbox.app!.app_private_key!, /PRIVATE KEY/);
    const signed = snsAccountBind(gw.sandbox.partner!, { return_url: 'http://127.0.0.1:9/r', notify_url: 'http://127.0.0.1:9/n', sns_user_id: 's1', sns_user_name: 'n', type: 'seller' });
    const done = await gw.admin.request('POST', '/mapi/complete', { url: mapiUrl(gw.gatewayUrl, signed), login_id: 'uncertified@example.test', decision: 'agree' });
    assert.equal(done.json.code, 'BIND_ERROR_NO_CERTIFIED', 'certified: false was seeded');
    for (const [password, status] of [['wrong-password', 401], ['koubei123', 303]] as const) {
      assert.equal(await operatorLogin(gw.url, 'mer-staff@koubei.example', password), status, 'the operator password was seeded');
    }
    const tokens = await zhimaperInnerApply(gw.gatewayUrl, gw.sandbox.app!, { name: '李四', cert_no: '110101198506152428', mobile: '13900002222' });
    assert.ok(tokens.ok, JSON.stringify(tokens));
    // A reset brings back the seeded world, same ids and keys.
    const view = await gw.reset();
    assert.equal(view.app?.app_private_key, gw.sandbox.app!.app_private_key);
  } finally {
    await gw.close();
  }
});

test('pinned keys are used as given; public halves are derived', async () => {
  const [app, alipay] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  const indent = (pem: string) => pem.trim().split('\n').map((l) => `      ${l}`).join('\n');
  const spec = await loadSeedFile(seedFile('keys.yaml', `apps:
  - app_id: "2021000100000009"
    app_private_key: |
${indent(app.privateKey)}
    alipay_private_key: |
${indent(alipay.privateKey)}
`));
  assert.equal(spec.apps[0].app_private_key!.trim(), app.privateKey.trim());
  assert.ok(createPublicKey(spec.apps[0].app_public_key).equals(createPublicKey(app.publicKey)));
  assert.ok(createPublicKey(spec.apps[0].platform_public_key).equals(createPublicKey(alipay.publicKey)));
  assert.deepEqual(spec.partners, [], 'a section left out is empty');

  const publicOnly = await seedSpec({ apps: [{ app_public_key: app.publicKey }] });
  assert.equal(publicOnly.apps[0].app_private_key, null, 'given only a public key, the ISV keeps the private half');
  assert.equal(publicOnly.apps[0].app_public_key, app.publicKey);

  const dsa = await generateDsaKeyPair();
  const [partner] = (await seedSpec({ partners: [{ rsa_public_key: app.publicKey, alipay_dsa_private_key: dsa.privateKey }] })).partners;
  assert.equal(partner.rsa_private_key, null);
  assert.equal(partner.rsa_public_key, app.publicKey);
  assert.ok(createPublicKey(partner.platform_dsa_public_key).equals(createPublicKey(dsa.publicKey)));
  assert.match(partner.dsa_private_key!, /PRIVATE KEY/, 'a pair not given is generated');

  const other = await generateRsaKeyPair();
  assert.deepEqual(problems(`apps:\n  - app_private_key: ${JSON.stringify(app.privateKey)}\n    app_public_key: ${JSON.stringify(other.publicKey)}\n`), [
    'sandbox.yaml:3: apps[0].app_public_key: is not the public half of app_private_key',
  ]);
});

test('an invalid seed is refused with every problem at its line', () => {
  const source = `admin_token: short
apps:
  - app_id: 123
    sign_type: RSA3
members:
${MEMBER}  - login_id: a@example.test
    password: secret12
    name: 李四
    cert_no: 330701199001011311
    mobile: 13588111112
    colour: blue
operators:
  - operator_type: MER
`;
  assert.deepEqual(problems(source), [
    'sandbox.yaml:1: admin_token: must be 16-128 printable ASCII characters',
    'sandbox.yaml:3: apps[0].app_id: must be 16 digits',
    'sandbox.yaml:4: apps[0].sign_type: must be one of RSA2, RSA',
    'sandbox.yaml:14: members[1].cert_no: must be an 18-character ID number with a valid check digit',
    'sandbox.yaml:16: members[1]: unknown field colour',
    'sandbox.yaml:18: operators[0].login_id: is required',
    'sandbox.yaml:18: operators[0].password: is required',
  ]);
  assert.deepEqual(problems(`members:\n${MEMBER}${MEMBER}`), ['sandbox.yaml:7: members[1].login_id: a@example.test is already used by members[0]']);
  assert.deepEqual(problems('apps:\n  - app_id: 1\n   name: x\n'), ['sandbox.yaml:3: Sequence item without - indicator']);
  assert.deepEqual(problems('{\n  "members": [\n    { "login_id": "a@example.test" }\n  ]\n}\n', 'seed.json'), [
    'seed.json:3: members[0].password: is required',
    'seed.json:3: members[0].name: is required',
    'seed.json:3: members[0].cert_no: is required',
    'seed.json:3: members[0].mobile: is required',
  ]);
  assert.deepEqual(problems('- just a list\n'), ['sandbox.yaml:1: (top level): must be a mapping of fields']);
});

test('serve --seed with an invalid file exits 2 naming the line; nothing starts', async () => {
  const file = seedFile('sandbox.yaml', `members:\n${MEMBER.replace('"330701199001011310"', '"330701199001011311"')}`);
  const run = await runCli(['serve', '--port', '0', '--seed', file, '--data-dir', join(file, '..', 'data')]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, `${file}:5: members[0].cert_no: must be an 18-character ID number with a valid check digit\n`);
  const missing = await runCli(['exec', '--seed', join(file, '..', 'absent.yaml'), 'true']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /absent\.yaml: cannot read the seed file \(ENOENT\)/);
});
