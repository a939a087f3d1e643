import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabaseSchema, freshDatabaseUrl } from '../support/gateway.ts';
import { spawnServe, type ServeProcess } from '../support/serve-process.ts';
import { parseQuery, signedUrl, startIsvServer, type PartnerKeys } from '../support/mapi-client.ts';
import { methodNode, post, signedParams, type Caller } from '../support/openapi.ts';
import { hex } from '../../src/domain/ids.ts';
import { csrfIn, FormBrowser } from '../support/form-browser.ts';

/**
 * Issue 8, scale-out: two `gatewaydo serve` processes started together on one fresh
 * PostgreSQL schema behave as one under a mixed concurrent load — single-use Koubei codes,
 * the same signed bind URL submitted to both (one binding, one BIND_ERROR_REPEAT), one SNS
 * account bound from both at once (one binding), a counted fault rule taken exactly N times,
 * each notification delivered exactly once, and login sessions (bind pages, Koubei
 * portal, console) begun on one process and continued on the other.
 */
const skip = process.env.DATABASE_URL ? false : 'DATABASE_URL not set: several processes share state only through PostgreSQL';

const KOUBEI = 'koubei.member.data.oauth.query';
const OAUTH = 'alipay.system.oauth.token';

type Tally = Record<string, number>;

function count(tally: Tally, key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

test('two serve processes on one PostgreSQL act as one under concurrent load', { skip, timeout: 120_000 }, async () => {
  const databaseUrl = await freshDatabaseUrl(process.env.DATABASE_URL!);
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'gatewaydo-scale-')));
  const adminToken = hex(24);
  const isv = await startIsvServer();
  const dataKey = randomBytes(32).toString('base64');
  const env = (dir: string) => ({
    DATABASE_URL: databaseUrl,
    GATEWAYDO_DATA_DIR: dir,
    GATEWAYDO_DATA_KEY: dataKey,
    GATEWAYDO_NOTIFY_SCHEDULE: '200ms,200ms,200ms',
  });
  let procs: ServeProcess[] = [];
  try {
    // Started together on an empty schema: migrations and the sandbox seed race too.
    procs = await Promise.all(dirs.map((dir) => spawnServe(env(dir), adminToken)));
    const [a, b] = procs;
    const sandbox = (await a.admin('GET', '/sandbox')).json;
    assert.deepEqual((await b.admin('GET', '/sandbox')).json.app.app_id, sandbox.app.app_id, 'one sandbox for both');
    const caller: Caller = { app_id: sandbox.app.app_id, privateKey: sandbox.app.app_private_key };
    const keys: PartnerKeys = sandbox.partner;
    const on = (i: number) => procs[i % 2];

    // Koubei codes: each queried three times through each process at once.
    const CODES = 20;
    const provider = sandbox.koubei_operators.find((o: { operator_type: string }) => o.operator_type === 'PROVIDER');
    const codes: string[] = [];
    for (let i = 0; i < CODES; i++) {
      const issued = await on(i).admin('POST', '/koubei/auth-codes', { app_id: caller.app_id, operator_id: provider.operator_id });
      assert.equal(issued.status, 201);
      codes.push(issued.json.code);
    }
    const koubeiByCode = new Map<string, Tally>(codes.map((c) => [c, {}]));
    const koubeiLoad = codes.flatMap((code) =>
      [0, 1, 2, 3, 4, 5].map(async (i) => {
        const res = await post(on(i).gatewayUrl, signedParams(caller, KOUBEI, { biz_content: JSON.stringify({ auth_type: 'pay_member', code }) }));
        const node = res.json[methodNode(KOUBEI)];
        count(koubeiByCode.get(code)!, node.sub_code ?? node.code);
      }),
    );

    // The same signed URL completed through both processes at once.
    const REPEATS = 15;
    const bindParams = (sns: string, name = 'scale') => ({
      service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: `${isv.url}/return`,
      notify_url: `${isv.url}/notify`, sns_user_id: sns, sns_user_name: name, type: 'common',
    });
    const repeatByUrl = new Map<string, Tally>();
    const repeatLoad = Array.from({ length: REPEATS }, (_, i) => {
      const url = signedUrl(a.gatewayUrl, bindParams(`repeat_${i}`), 'MD5', keys, 'utf-8');
      const tally: Tally = {};
      repeatByUrl.set(url, tally);
      return Promise.all(procs.map(async (p) => {
        const done = await p.admin('POST', '/mapi/complete', { url, login_id: 'buyer@sandbox.gatewaydo', decision: 'agree' });
        assert.equal(done.status, 200, JSON.stringify(done.json));
        count(tally, done.json.code);
      }));
    });

    // One SNS account, two members, two processes, at once: one binding.
    const CONTESTED = 10;
    const contestBySns = new Map<string, Tally>();
    const contestLoad = Array.from({ length: CONTESTED }, (_, i) => {
      const sns = `contested_${i}`;
      const tally: Tally = {};
      contestBySns.set(sns, tally);
      return Promise.all(['buyer@sandbox.gatewaydo', 'seller@sandbox.gatewaydo'].map(async (login, j) => {
        const url = signedUrl(a.gatewayUrl, bindParams(sns, login), 'MD5', keys, 'utf-8');
        const done = await procs[j].admin('POST', '/mapi/complete', { url, login_id: login, decision: 'agree' });
        assert.equal(done.status, 200, JSON.stringify(done.json));
        count(tally, done.json.code);
      }));
    });

    // A fault rule for the next 7 calls, taken by calls split over both processes.
    const FAULTS = 7;
    const CALLS = 40;
    const rule = await a.admin('POST', '/faults', { target: OAUTH, code: '40004', sub_code: 'SCALE_OUT_FAULT', count: FAULTS });
    assert.equal(rule.status, 201);
    const faultTally: Tally = {};
    const faultLoad = Array.from({ length: CALLS }, async (_, i) => {
      const res = await post(on(i).gatewayUrl, signedParams(caller, OAUTH, { grant_type: 'authorization_code', code: 'nope' }));
      count(faultTally, res.json.error_response?.sub_code ?? 'success');
    });

    await Promise.all([...koubeiLoad, ...repeatLoad, ...contestLoad, ...faultLoad]);

    for (const [code, tally] of koubeiByCode) assert.deepEqual(tally, { '10000': 1, AUTH_CODE_NOT_EXIST: 5 }, `code ${code}`);
    for (const tally of repeatByUrl.values()) assert.deepEqual(tally, { T: 1, BIND_ERROR_REPEAT: 1 });
    for (const [sns, tally] of contestBySns) assert.deepEqual(tally, { T: 1, BIND_ERROR_HAS_CERTIFIED: 1 }, sns);
    assert.deepEqual(faultTally, { SCALE_OUT_FAULT: FAULTS, 'isv.code-invalid': CALLS - FAULTS });
    assert.deepEqual((await b.admin('GET', '/faults')).json, [], 'the used-up rule is gone');

    const bindings = (await b.admin('GET', '/mapi/bindings')).json as Array<{ sns_user_id: string }>;
    assert.equal(bindings.length, REPEATS + CONTESTED);
    assert.equal(new Set(bindings.map((x) => x.sns_user_id)).size, REPEATS + CONTESTED, 'one binding per SNS account');

    // Every binding's notification, delivered exactly once between the two dispatchers.
    const expected = REPEATS + CONTESTED;
    await isv.waitFor('/notify', expected, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const delivered = isv.hits.filter((h) => h.path === '/notify').map((h) => parseQuery(h.body, 'utf-8'));
    assert.equal(delivered.length, expected, 'no notification delivered twice');
    assert.equal(new Set(delivered.map((n) => n.notify_id)).size, expected);
    assert.deepEqual(new Set(delivered.map((n) => n.sns_user_id)), new Set(bindings.map((x) => x.sns_user_id)));
    // Login sessions are in the database: a flow begun on one process finishes on the other.
    const buyer = sandbox.members.find((m: { login_id: string }) => m.login_id === 'buyer@sandbox.gatewaydo');
    const browser = new FormBrowser(a.url);
    const flow = (await browser.follow(signedUrl(a.gatewayUrl, bindParams('session_hop'), 'MD5', keys, 'utf-8'))).location!;
    const login = await browser.get(flow);
    assert.equal((await browser.post(`${b.url}${flow}/login`, { _csrf: csrfIn(login.text), login_id: buyer.login_id, password: buyer.password })).status, 303, 'logged in on B');
    const consent = await browser.get(flow);
    assert.match(consent.text, /同意绑定/, 'A shows the consent page of the session B logged in');
    const decided = await browser.post(`${b.url}${flow}/decision`, { _csrf: csrfIn(consent.text), decision: 'agree' });
    assert.match(decided.location ?? '', /is_success=T/);
    const portal = new FormBrowser(a.url);
    const portalCsrf = csrfIn((await portal.get('/koubei/portal')).text);
    assert.equal((await portal.post(`${b.url}/koubei/portal`, { _csrf: portalCsrf, action: 'login', login_id: provider.login_id, password: provider.password })).status, 303);
    const chooser = await portal.get('/koubei/portal');
    assert.equal((await portal.post(`${b.url}/koubei/portal`, { _csrf: csrfIn(chooser.text), action: 'choose', app_id: caller.app_id })).status, 302, 'an operator signed in on A chooses an app on B');
    const consoleBrowser = new FormBrowser(a.url);
    const consoleCsrf = csrfIn((await consoleBrowser.get('/console/login')).text);
    assert.equal((await consoleBrowser.post('/console/login', { _csrf: consoleCsrf, token: adminToken })).status, 303);
    assert.equal((await consoleBrowser.get(`${b.url}/console/members`)).status, 200, 'the console session holds on B');

    console.log(`scale-out: 2 processes; ${CODES} codes × 6 queries (${CODES} successes), ${REPEATS} URLs × 2 processes (${REPEATS} bindings, ${REPEATS} BIND_ERROR_REPEAT), ${CONTESTED} contested accounts (${CONTESTED} bindings), fault rule taken ${FAULTS}/${CALLS}, ${delivered.length} notifications each delivered once; bind, portal and console sessions carried across`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await isv.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await dropDatabaseSchema(databaseUrl);
  }
});
