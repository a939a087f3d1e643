import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSandboxSpec } from './sandbox/spec.ts';
import { startGateway } from './index.ts';

test('startGateway: in-memory gateway on a free port, reset to the seeded state, close', async () => {
  const gw = await startGateway();
  try {
    assert.match(gw.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(gw.gatewayUrl, `${gw.url}/gateway.do`);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const created = await gw.admin.request('POST', '/apps', {});
    assert.equal(created.status, 201);
    assert.equal((await gw.admin.request('GET', '/apps')).json.length, 2);

    const started = performance.now();
    const view = await gw.reset();
    const resetMs = performance.now() - started;
    assert.ok(resetMs < 1000, `reset took ${resetMs.toFixed(0)} ms`);
    assert.equal(view.app?.app_id, gw.sandbox.app?.app_id);
    assert.equal((await gw.admin.request('GET', '/apps')).json.length, 1);
  } finally {
    await gw.close();
  }
  await assert.rejects(fetch(`${gw.url}/healthz`), 'the port is released');
});

test('startGateway: a given seed spec is used as is, twice the same world', async () => {
  const spec = await generateSandboxSpec();
  for (let i = 0; i < 2; i++) {
    const gw = await startGateway({ seed: spec });
    try {
      assert.equal(gw.sandbox.app!.app_id, spec.apps[0].app_id);
      assert.equal(gw.sandbox.partner!.md5_key, spec.partners[0].md5_key);
      assert.equal(gw.admin.token, spec.admin_token);
      const members = (await gw.admin.request('GET', '/members')).json;
      assert.deepEqual(members.map((m: any) => m.user_id).sort(), spec.members.map((m) => m.user_id).sort());
    } finally {
      await gw.close();
    }
  }
});
