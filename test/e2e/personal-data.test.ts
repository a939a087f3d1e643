import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { AlipaySdk } from 'alipay-sdk';
import { sql } from 'kysely';
import { collectLines, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { post, signedParams, type Caller } from '../support/openapi.ts';
import { csrfIn, FormBrowser } from '../support/form-browser.ts';
import { encodeForm, signedUrl, signParams, startIsvServer, type IsvServer, type PartnerKeys } from '../support/mapi-client.ts';
import { maskCertNo } from '../../src/domain/pii.ts';

/**
 * Issue 8, personal data: the sandbox members' names, ID numbers and mobiles go through
 * every flow — zhimaper apply (success, refusal, bad signature quoting them, GBK, broken
 * JSON), MAPI calls that carry them needlessly (and a forged one, whose diagnosis quotes
 * them), the bind pages and the headless bind, the Koubei portal, the SMS inbox and every
 * console page — with the process log at trace level. Then no log line, no row of any
 * table (every column), no byte of the SQLite files (-wal and -shm included), and no
 * console or inbox page holds one of them in clear. sandbox.json, the user's own
 * credential file, is not searched; the sealed sandbox spec in `meta` is ciphertext.
 */
const ZHIMA = 'alipay.user.auth.zhimaper.inner.apply';

let gw: TestGateway;
let isv: IsvServer;
const lines: string[] = [];
const pages = new Map<string, string>();

before(async () => {
  const logStream = collectLines(lines);
  gw = await startTestGateway({ logLevel: 'trace', logStream });
  isv = await startIsvServer();
});
after(async () => {
  await isv.close();
  await gw.close();
});

function secrets(): Array<[string, string]> {
  return gw.sandbox.members.flatMap((m) => [[`${m.login_id} name`, m.name], [`${m.login_id} cert_no`, m.cert_no], [`${m.login_id} mobile`, m.mobile]] as Array<[string, string]>);
}

async function zhimaFlows(): Promise<void> {
  const app = gw.sandbox.app;
  const caller: Caller = { app_id: app.app_id, privateKey: app.app_private_key! };
  const sdk = new AlipaySdk({ appId: app.app_id, privateKey: app.app_private_key!, alipayPublicKey: app.alipay_public_key, gateway: gw.gatewayUrl });
  for (const m of gw.sandbox.members) {
    const biz = { cert_no: m.cert_no, cert_type: 'IDENTITY_CARD', name: m.name, mobile: m.mobile };
    await sdk.exec(ZHIMA, { bizContent: biz }, { validateSign: true });
    await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: JSON.stringify(biz) }, 'GBK'), 'gbk');
    const tampered = await post(gw.gatewayUrl, { ...signedParams(caller, ZHIMA, { biz_content: JSON.stringify(biz) }), timestamp: '2000-01-01 00:00:00' });
    assert.ok(tampered.text.includes(m.cert_no), 'the caller is told the string we verified, with its own data');
    await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: `{"name":"${m.name}","cert_no":"${m.cert_no}","mobile":"${m.mobile}"` }));
    await post(gw.gatewayUrl, signedParams(caller, ZHIMA, { biz_content: JSON.stringify(biz), name: m.name, cert_no: m.cert_no, mobile: m.mobile }));
  }
}

/** MAPI takes no personal data, but a caller may send it anyway; a failed signature's diagnosis quotes it. */
async function mapiFlows(): Promise<void> {
  const keys: PartnerKeys = (await gw.admin('GET', '/sandbox')).json.partner;
  for (const m of gw.sandbox.members) {
    const params = signParams({ service: 'sns.cancel.account.bind', partner: keys.partner, _input_charset: 'utf-8', sns_user_id: 'pii', key: 'k', name: m.name, cert_no: m.cert_no, mobile: m.mobile }, 'MD5', keys, 'utf-8');
    assert.match(await (await fetch(`${gw.gatewayUrl}?${encodeForm(params, 'utf-8')}`)).text(), /ALREADY_NOT_EXIT_ACCOUNT/);
    const forged = await (await fetch(`${gw.gatewayUrl}?${encodeForm({ ...params, sign: 'f'.repeat(32) }, 'utf-8')}`)).text();
    assert.match(forged, /ILLEGAL_SIGN/);
  }
}

async function bindFlows(): Promise<void> {
  const keys: PartnerKeys = (await gw.admin('GET', '/sandbox')).json.partner;
  const params = (sns: string) => ({
    service: 'sns.account.bind', partner: keys.partner, _input_charset: 'utf-8', return_url: `${isv.url}/return`, notify_url: `${isv.url}/notify`,
    sns_user_id: sns, sns_user_name: 'PII 测试', type: 'common',
  });
  const buyer = gw.sandbox.members.find((m) => m.login_id === 'buyer@sandbox.gatewaydo')!;
  const browser = new FormBrowser(gw.url);
  const flow = (await browser.follow(signedUrl(gw.gatewayUrl, params('pii_page'), 'MD5', keys, 'utf-8'))).location!;
  const login = (await browser.get(flow)).text;
  assert.equal((await browser.post(`${flow}/login`, { _csrf: csrfIn(login), login_id: buyer.login_id, password: buyer.password })).status, 303);
  const consent = (await browser.get(flow)).text;
  pages.set('consent page', consent);
  assert.equal((await browser.post(`${flow}/decision`, { _csrf: csrfIn(consent), decision: 'agree' })).status, 302);
  // Mobiles are login ids too: guessing passwords for one until throttled logs and stores no mobile.
  const guesser = new FormBrowser(gw.url);
  const guessFlow = (await guesser.follow(signedUrl(gw.gatewayUrl, params('pii_guess'), 'MD5', keys, 'utf-8'))).location!;
  const guessCsrf = csrfIn((await guesser.get(guessFlow)).text);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await guesser.post(`${guessFlow}/login`, { _csrf: guessCsrf, login_id: buyer.mobile, password: `guess${i}` })).status);
  assert.equal(statuses.at(-1), 429);
  const seller = await gw.admin('POST', '/mapi/complete', { url: signedUrl(gw.gatewayUrl, params('pii_headless'), 'RSA', keys, 'utf-8'), login_id: 'seller@sandbox.gatewaydo', decision: 'agree' });
  assert.equal(seller.json.code, 'T');
  await isv.waitFor('/notify', 2);
}

async function portalFlow(): Promise<void> {
  const operator = gw.sandbox.koubei_operators.find((o) => o.operator_type === 'MER')!;
  const browser = new FormBrowser(gw.url);
  const csrf = csrfIn((await browser.get('/koubei/portal')).text);
  assert.equal((await browser.post('/koubei/portal', { _csrf: csrf, action: 'login', login_id: operator.login_id, password: operator.password })).status, 303);
  pages.set('portal', (await browser.get('/koubei/portal')).text);
}

async function consolePages(): Promise<void> {
  const browser = new FormBrowser(gw.url);
  const csrf = csrfIn((await browser.get('/console/login')).text);
  assert.equal((await browser.post('/console/login', { _csrf: csrf, token: gw.adminToken })).status, 303);
  for (const path of ['/console', '/console/apps', '/console/partners', '/console/members', '/console/requests', '/console/notifications', '/console/faults', '/sandbox/sms']) {
    const page = await browser.get(path);
    assert.equal(page.status, 200, path);
    pages.set(path, page.text);
  }
  await gw.ctx.requestLog.flush();
  const logged = await gw.ctx.db.selectFrom('request_log').select('id').where('method', 'in', [ZHIMA, 'sns.cancel.account.bind']).execute();
  for (const { id } of logged) pages.set(`/console/requests/${id}`, (await browser.get(`/console/requests/${id}`)).text);
  const member = gw.sandbox.members[0];
  assert.ok([...pages.values()].some((p) => p.includes(maskCertNo(member.cert_no))), 'the console shows the masked ID number');
}

/** Every table, every row, every column, as text. */
async function databaseDump(): Promise<string> {
  await gw.ctx.requestLog.flush();
  // PostgreSQL lists every schema's tables; the names resolve to this gateway's schema.
  const tables = new Set((await gw.ctx.db.introspection.getTables()).map((t) => t.name));
  assert.ok(tables.size >= 17, 'all tables found');
  const dump: string[] = [];
  for (const name of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(gw.ctx.db);
    dump.push(`${name}: ${JSON.stringify(rows.rows)}`);
  }
  return dump.join('\n');
}

/** The SQLite database as bytes on disk: the main file, the WAL and the shared-memory index. */
function sqliteFiles(): Array<[string, Buffer]> {
  const storage = gw.ctx.config.storage;
  if (storage.kind !== 'sqlite') return [];
  return [storage.file, `${storage.file}-wal`, `${storage.file}-shm`].filter(existsSync).map((f) => [f, readFileSync(f)]);
}

test("no log line, table row, database byte or page holds a sandbox member's name, ID number or mobile", async () => {
  await zhimaFlows();
  await mapiFlows();
  await bindFlows();
  await portalFlow();
  await consolePages();

  const dump = await databaseDump();
  const unreached = ['NO_USER_ERROR', 'isv.invalid-signature', 'ILLEGAL_SIGN', 'string_to_sign', 'pii_headless'].filter((s) => !dump.includes(s));
  assert.deepEqual(unreached, [], 'the flows reached the database');
  assert.ok(dump.includes(maskCertNo(gw.sandbox.members[0].cert_no)), 'the request log holds the masked value');
  const sms = (await gw.ctx.db.selectFrom('sms').selectAll().execute()).length;
  assert.ok(sms >= 3, 'the certified members got their SMS notices');
  const logText = lines.join('\n');
  assert.ok(lines.some((l) => l.includes('login throttled')), 'the process log was captured');
  const files = sqliteFiles();
  if (gw.ctx.storage.engine === 'sqlite') assert.ok(files.some(([f]) => f.endsWith('-wal')), 'the WAL file is searched too');

  const found: string[] = [];
  for (const [what, secret] of secrets()) {
    if (logText.includes(secret)) found.push(`${what} in the process log`);
    if (dump.includes(secret)) found.push(`${what} in the database`);
    for (const [file, bytes] of files) if (bytes.includes(Buffer.from(secret, 'utf8'))) found.push(`${what} in ${file}`);
    for (const [path, html] of pages) if (html.includes(secret)) found.push(`${what} on ${path}`);
  }
  assert.deepEqual(found, []);
  console.log(`personal data: ${secrets().length} values of ${gw.sandbox.members.length} members searched in ${lines.length} log lines, ${dump.length} characters of table dump, ${files.length} database files, ${pages.size} pages: none found`);
});
