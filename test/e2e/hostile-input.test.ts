import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { collectLines, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { rawRequest, type RawRequest, type RawResponse } from '../support/raw-http.ts';
import { signedParams, type Caller } from '../support/openapi.ts';
import { encodeForm, signedUrl, signParams, type PartnerKeys } from '../support/mapi-client.ts';
import { GATEWAY_CODES } from '../../src/gateway/openapi/codes.ts';
import { MAPI_ERRORS } from '../../src/gateway/mapi/errors.ts';
import { OPENAPI_METHODS } from '../../src/services/names.ts';
import { BODY_LIMIT } from '../../src/config.ts';
import { PAGE_HEADERS } from '../../src/pages/html.ts';

/**
 * Issue 8, hostile input: property-based requests against the running server — random and
 * malformed parameters, duplicate keys, huge values and bodies, broken percent-encoding and
 * byte sequences in each charset, non-JSON and deeply nested biz_content, wrong content
 * types — over raw sockets, to OpenAPI (method=), MAPI (service=) and the pages' forms.
 * Every answer must be a documented one: never a 5xx, never a stack trace, never a hang,
 * never the gateway's own "system busy" (which would mean an unexpected exception), and
 * the process log records no failure. The server is healthy afterwards.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

let gw: TestGateway;
let caller: Caller;
let keys: PartnerKeys;
let cases = 0;
const logLines: string[] = [];

before(async () => {
  const logStream = collectLines(logLines);
  gw = await startTestGateway({ logLevel: 'warn', logStream });
  caller = { app_id: gw.sandbox.app.app_id, privateKey: gw.sandbox.app.app_private_key! };
  keys = (await gw.admin('GET', '/sandbox')).json.partner;
});

after(async () => {
  console.log(`hostile input: ${cases} requests fuzzed; server healthy afterwards`);
  await gw.close();
});

// ---- what a documented answer looks like ----------------------------------------------

const STACK = /\bat [\w.<>]+ \(|node_modules|\.ts:\d+:\d+|Error: |"stack"|internal_error/;
const OPENAPI_CODES = new Set(Object.keys(GATEWAY_CODES));
const MAPI_CODES = new Set(Object.keys(MAPI_ERRORS));
/** 415: a Content-Type header that cannot be parsed at all, answered by the HTTP layer. */
const PAGE_STATUSES = new Set([200, 302, 303, 400, 401, 403, 404, 415, 429]);

function charsetOf(res: RawResponse): string {
  return /charset=([\w-]+)/i.exec(res.headers['content-type'] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
}

function text(res: RawResponse): string {
  return iconv.decode(res.body, charsetOf(res));
}

function noLeak(res: RawResponse, what: string): void {
  assert.ok(res.status < 500, `${what}: HTTP ${res.status}: ${text(res).slice(0, 300)}`);
  assert.doesNotMatch(text(res), STACK, `${what}: answer looks like an internal error`);
}

/** `{"<x>_response":{code,msg,…},"sign"?}` with a catalogued gateway code, and never 20000. */
function assertOpenApiAnswer(res: RawResponse, what: string): void {
  noLeak(res, what);
  assert.equal(res.status, 200, what);
  assert.match(res.headers['content-type'] ?? '', /^application\/json;charset=/, what);
  const json = JSON.parse(text(res));
  const nodes = Object.keys(json).filter((k) => k !== 'sign');
  assert.equal(nodes.length, 1, `${what}: one response node`);
  assert.match(nodes[0], /_response$/, what);
  const node = json[nodes[0]];
  if (node.code === undefined) {
    // alipay.system.oauth.token answers success bare (tokens, no code).
    assert.equal(nodes[0], 'alipay_system_oauth_token_response', what);
    return;
  }
  assert.ok(OPENAPI_CODES.has(node.code), `${what}: code ${node.code}`);
  assert.equal(node.msg, GATEWAY_CODES[node.code as keyof typeof GATEWAY_CODES], what);
  assert.notEqual(node.code, '20000', `${what}: the gateway failed unexpectedly: ${JSON.stringify(node)}`);
  if (node.code !== '10000') assert.ok(typeof node.sub_code === 'string' && node.sub_code.length > 0, `${what}: sub_code`);
}

/** A redirect, the error page naming a MAPI code, MAPI XML, or notify_verify's word. */
function assertMapiAnswer(res: RawResponse, what: string): void {
  noLeak(res, what);
  if (res.status === 302) {
    assert.ok(res.headers.location, `${what}: redirect without a location`);
    return;
  }
  assert.equal(res.status, 200, what);
  const type = res.headers['content-type'] ?? '';
  const body = text(res);
  let code: string | undefined;
  if (type.startsWith('text/html')) {
    assertPageHeaders(res, what);
    code = /id="error-code">([A-Z_]+)</.exec(body)?.[1];
  } else if (type.startsWith('text/xml')) {
    if (/<is_success>T<\/is_success>/.test(body)) return;
    code = /<error>([A-Z_]+)<\/error>/.exec(body)?.[1];
  } else if (type.startsWith('text/plain')) {
    assert.ok(['true', 'false', 'invalid'].includes(body), `${what}: notify_verify said ${body}`);
    return;
  }
  assert.ok(code && MAPI_CODES.has(code), `${what}: no MAPI code in ${type}: ${body.slice(0, 200)}`);
  assert.notEqual(code, 'SYSTEM_ERROR', `${what}: the gateway failed unexpectedly`);
}

function assertPageHeaders(res: RawResponse, what: string): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) assert.equal(res.headers[name], value, `${what}: ${name}`);
}

function assertPageAnswer(res: RawResponse, what: string): void {
  noLeak(res, what);
  assert.ok(PAGE_STATUSES.has(res.status), `${what}: HTTP ${res.status}`);
  if ((res.headers['content-type'] ?? '').startsWith('text/html')) assertPageHeaders(res, what);
}

/** fast-check reports the shrunk input; this keeps the first failure's own message too. */
function explain<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let told = false;
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!told) console.error(`first failure: ${(err as Error).message.slice(0, 2000)}`);
      told = true;
      throw err;
    }
  };
}

async function send(r: RawRequest): Promise<RawResponse> {
  cases++;
  return rawRequest(gw.url, r);
}

// ---- generators ----------------------------------------------------------------------

const CHARSETS = ['utf-8', 'UTF-8', 'gbk', 'GBK', 'gb2312', 'gb18030', 'latin1', 'utf8', '', 'x'.repeat(20)];
const CONTENT_TYPES = [
  undefined,
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=gbk',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  '',
  ';;;',
];

/** Percent-escapes of arbitrary bytes: invalid UTF-8, lone GBK lead bytes, NULs. */
const escapedBytes = fc.uint8Array({ maxLength: 24 }).map((b) => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join(''));
/** Raw (unescaped) bytes, as a broken client might send them in a body. */
const rawBytes = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => Buffer.from(b).toString('latin1'));
const brokenEscapes = fc.constantFrom('%', '%%', '%G1', '%e4%b8', '%E4%B8%AD%', '%FF%FE', '%C0%AF', '%ED%A0%80', '%81', '%A1%', '%u4e2d', '%00', '+%2', '&&&', '==', '=%3D=');
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('张三', '中文测试', '\u0000', '\ud800', '😀', '__proto__', 'constructor', '<script>alert(1)</script>', "' or 1=1 --", '../../etc/passwd', 'javascript:alert(1)'),
);
/** A value in a body: anything. */
const bodyValue = fc.oneof(escapedBytes, rawBytes, brokenEscapes, hostileText.map((v) => Buffer.from(v, 'utf8').toString('latin1')));
/**
 * A value in a request line: what HTTP allows there (printable ASCII but `#`); raw
 * controls or high bytes are refused by the HTTP parser itself (400), checked separately.
 */
const queryValue = bodyValue.map((v) => v.replace(/[^\x21-\x7e]|#/g, (c) => '%' + (c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')));
const KNOWN_KEYS = ['app_id', 'method', 'charset', 'format', 'sign_type', 'sign', 'timestamp', 'version', 'biz_content', 'app_auth_token', 'auth_token', 'service', 'partner', '_input_charset', 'notify_id', 'sns_user_id', 'return_url', 'notify_url', 'grant_type', 'code'];
/** `k=v&…` as raw text, duplicate keys likely. */
function rawForm(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const key = fc.oneof({ arbitrary: fc.constantFrom(...KNOWN_KEYS), weight: 3 }, { arbitrary: value, weight: 1 });
  return fc.array(fc.tuple(key, value, fc.boolean()), { maxLength: 12 }).map((pairs) => pairs.map(([k, v, withEq]) => (withEq ? `${k}=${v}` : k)).join('&'));
}
const queryForm = rawForm(queryValue);
const bodyForm = rawForm(bodyValue);

function hugeBizContent(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.string({ maxLength: 50 }),
    fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.integer({ min: 1, max: 5_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
    fc.integer({ min: 1, max: 300_000 }).map((n) => JSON.stringify({ auth_type: 'pay_member', code: 'x'.repeat(n) })),
    fc.record({ cert_no: hostileText, cert_type: fc.constantFrom('IDENTITY_CARD', 'PASSPORT', ''), name: hostileText, mobile: hostileText, linked_merchant_id: hostileText }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    fc.constantFrom('null', '[]', '"str"', '1e999', '{"code":{"$gt":""}}', '{"__proto__":{"x":1}}', '{', '\u0000', ''),
  );
}

// ---- properties ----------------------------------------------------------------------

test('OpenAPI: random and malformed parameters, raw bytes, duplicates, any content type', async () => {
  await fc.assert(
    fc.asyncProperty(queryForm, bodyForm, fc.constantFrom('GET', 'POST'), fc.constantFrom(...CONTENT_TYPES), fc.constantFrom(...CHARSETS), explain(async (query, body, method, type, charset) => {
      // Without a `service` key: that makes it a MAPI request (fuzzed below).
      const noService = (form: string) => form.split('&').map((p) => (p === 'service' || p.startsWith('service=') ? `x_${p}` : p)).join('&');
      const q = noService(`method=${OPENAPI_METHODS[0]}&charset=${charset}&app_id=${caller.app_id}&${query}`);
      const b = noService(body);
      const res = await send({ method, target: `/gateway.do?${q}`, headers: type === undefined ? [] : [['content-type', type]], body: method === 'POST' ? Buffer.from(b, 'latin1') : undefined });
      assertOpenApiAnswer(res, `${method} ${q.slice(0, 80)}`);
    })),
    { numRuns: RUNS * 2 },
  );
});

test('OpenAPI: signed requests with hostile biz_content and values in each charset', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...OPENAPI_METHODS, 'no.such.method'),
      hugeBizContent(),
      fc.constantFrom('utf-8', 'gbk', 'gb2312'),
      fc.dictionary(fc.constantFrom('grant_type', 'code', 'refresh_token', 'name', 'mobile', 'extra', 'format', 'version'), hostileText, { maxKeys: 3 }),
      fc.boolean(),
      explain(async (method, biz, charset, extra, asForm) => {
        const params = signedParams(caller, method, { biz_content: biz, ...extra }, charset);
        const enc = (v: string) => [...iconv.encode(v, charset)].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');
        const form = Object.entries(params).map(([k, v]) => `${k}=${enc(v)}`).join('&');
        // Long values go in the body: a request line over 16 KiB is refused by HTTP itself (431).
        if (form.length > 8000) asForm = true;
        const target = asForm ? `/gateway.do?charset=${charset}` : `/gateway.do?${form}`;
        const res = await send({ method: 'POST', target, headers: [['content-type', `application/x-www-form-urlencoded;charset=${charset}`]], body: asForm ? Buffer.from(form, 'latin1') : Buffer.alloc(0) });
        assertOpenApiAnswer(res, `${method} biz_content ${biz.slice(0, 60)} (${biz.length} chars, ${charset})`);
      }),
    ),
    { numRuns: RUNS },
  );
});

function mapiParams(service: string, extra: Record<string, string>, charset: string) {
  return { service, partner: keys.partner, _input_charset: charset, return_url: 'http://127.0.0.1:9/return', notify_url: 'http://127.0.0.1:9/notify', sns_user_id: 'fuzz', sns_user_name: '模糊', type: 'common', ...extra };
}

test('MAPI: random and malformed parameters, raw bytes, duplicates, any content type', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('sns.account.bind', 'sns.cancel.account.bind', 'notify_verify', 'no_such_service', ''),
      queryForm,
      bodyForm,
      fc.constantFrom('GET', 'POST'),
      fc.constantFrom(...CONTENT_TYPES),
      fc.constantFrom(...CHARSETS),
      explain(async (service, query, body, method, type, charset) => {
        const q = `service=${service}&_input_charset=${charset}&partner=${keys.partner}&${query}`;
        const res = await send({ method, target: `/gateway.do?${q}`, headers: type === undefined ? [] : [['content-type', type]], body: method === 'POST' ? Buffer.from(body, 'latin1') : undefined });
        assertMapiAnswer(res, `${method} ${q.slice(0, 80)}`);
      }),
    ),
    { numRuns: RUNS * 2 },
  );
});

test('MAPI: signed requests with hostile values (URLs, lengths, types) in utf-8 and gbk', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('sns.account.bind', 'sns.cancel.account.bind'),
      fc.dictionary(
        fc.constantFrom('return_url', 'notify_url', 'sns_user_id', 'sns_user_name', 'type', 'key', 'extra'),
        fc.oneof(hostileText, fc.constantFrom('javascript:alert(1)', 'http://[::1', 'https://evil.example@127.0.0.1/', 'ftp://x/', 'http://中文.example/'), fc.integer({ min: 0, max: 5000 }).map((n) => 'x'.repeat(n))),
        { maxKeys: 4 },
      ),
      fc.constantFrom<'utf-8' | 'gbk'>('utf-8', 'gbk'),
      fc.constantFrom<'MD5' | 'RSA' | 'DSA'>('MD5', 'MD5', 'RSA', 'DSA'),
      fc.boolean(),
      explain(async (service, extra, charset, signType, asForm) => {
        const form = encodeForm(signParams(mapiParams(service, extra, charset), signType, keys, charset), charset);
        const res = asForm || form.length > 8000
          ? await send({ method: 'POST', target: `/gateway.do?_input_charset=${charset}`, headers: [['content-type', 'application/x-www-form-urlencoded']], body: Buffer.from(form, 'latin1') })
          : await send({ method: 'GET', target: `/gateway.do?${form}` });
        assertMapiAnswer(res, `${service} ${JSON.stringify(extra).slice(0, 80)}`);
      }),
    ),
    { numRuns: RUNS },
  );
});

test("pages' POST forms: random bodies, content types and cookies", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/mapi/bind/00000000000000000000000000000000/login', '/mapi/bind/zz/decision', '/koubei/portal', '/console/login', '/console/faults', '/console/logout'),
      bodyForm,
      fc.constantFrom(...CONTENT_TYPES),
      fc.option(fc.constantFrom('gwd_koubei=abc', 'gatewaydo_console_login=x', 'gatewaydo_console=%ZZ', 'gwd_bind=' + 'a'.repeat(48)), { nil: undefined }),
      explain(async (path, body, type, cookie) => {
        const headers: Array<[string, string]> = [];
        if (type !== undefined) headers.push(['content-type', type]);
        if (cookie) headers.push(['cookie', cookie]);
        const res = await send({ method: 'POST', target: path, headers, body: Buffer.from(body, 'latin1') });
        assertPageAnswer(res, `POST ${path} ${body.slice(0, 60)}`);
      }),
    ),
    { numRuns: RUNS },
  );
});

interface SignedInForm {
  path: string;
  cookie: string;
  csrf: string;
}

function cookieOf(res: Response): string {
  return (res.headers.get('set-cookie') ?? '').split(';')[0];
}

function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)![1];
}

/** Live sessions with their CSRF tokens: the Koubei portal, a bind flow, the console (signed in and not). */
async function signedInForms(): Promise<SignedInForm[]> {
  const portal = await fetch(`${gw.url}/koubei/portal`);
  const opened = await fetch(signedUrl(gw.gatewayUrl, mapiParams('sns.account.bind', { sns_user_id: 'fuzz_pages' }, 'utf-8'), 'MD5', keys, 'utf-8'), { redirect: 'manual' });
  const flow = opened.headers.get('location')!;
  const bindCookie = cookieOf(opened);
  const bindPage = await fetch(`${gw.url}${flow}`, { headers: { cookie: bindCookie } });
  const login = await fetch(`${gw.url}/console/login`);
  const loginCookie = cookieOf(login);
  const loginCsrf = csrfOf(await login.text());
  const signedIn = await fetch(`${gw.url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
    body: new URLSearchParams({ _csrf: loginCsrf, token: gw.adminToken, next: '/console/faults' }),
    redirect: 'manual',
  });
  const consoleCookie = cookieOf(signedIn);
  const faults = await fetch(`${gw.url}/console/faults`, { headers: { cookie: consoleCookie } });
  const bindCsrf = csrfOf(await bindPage.text());
  return [
    { path: '/koubei/portal', cookie: cookieOf(portal), csrf: csrfOf(await portal.text()) },
    { path: `${flow}/login`, cookie: bindCookie, csrf: bindCsrf },
    { path: `${flow}/decision`, cookie: bindCookie, csrf: bindCsrf },
    { path: '/console/login', cookie: loginCookie, csrf: loginCsrf },
    { path: '/console/faults', cookie: consoleCookie, csrf: csrfOf(await faults.text()) },
  ];
}

test("pages' POST forms past the CSRF check: random fields, login ids, actions", async () => {
  const forms = await signedInForms();
  const statuses = new Set<number>();
  const fields = fc.array(
    fc.tuple(fc.constantFrom('action', 'login_id', 'password', 'app_id', 'decision', 'token', 'next', 'target', 'code', 'sub_code', 'count', 'probability', 'latency_ms'), bodyValue),
    { maxLength: 6 },
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...forms), fields, fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=gbk', 'text/plain'), explain(async (form, pairs, type) => {
      const body = [`_csrf=${form.csrf}`, ...pairs.map(([k, v]) => `${k}=${v}`)].join('&');
      const res = await send({ method: 'POST', target: form.path, headers: [['content-type', type], ['cookie', form.cookie]], body: Buffer.from(body, 'latin1') });
      assertPageAnswer(res, `POST ${form.path} ${body.slice(0, 80)}`);
      statuses.add(res.status);
    })),
    { numRuns: RUNS },
  );
  assert.ok([...statuses].some((st) => st !== 403), `the forms got past the CSRF check (statuses ${[...statuses]})`);
  // Rules the console form may have created must not change what the rest of the run sees.
  await gw.admin('DELETE', '/faults');
});

test('bodies over the 1 MiB limit get the protocol answer (sized and chunked), not a 413', async () => {
  const big = Buffer.alloc(BODY_LIMIT + 1, 'a');
  for (const chunked of [false, true]) {
    const openapi = await send({ method: 'POST', target: `/gateway.do?app_id=${caller.app_id}&method=${OPENAPI_METHODS[0]}&charset=utf-8`, headers: [['content-type', 'application/x-www-form-urlencoded']], body: big, chunked });
    assertOpenApiAnswer(openapi, `oversize body (chunked: ${chunked})`);
    const node = JSON.parse(text(openapi))[`${OPENAPI_METHODS[0].replaceAll('.', '_')}_response`];
    assert.deepEqual([node.code, node.sub_code], ['40002', 'isv.invalid-parameter'], 'answered under the method node, signed');

    const mapi = await send({ method: 'POST', target: `/gateway.do?service=sns.cancel.account.bind&_input_charset=utf-8&partner=${keys.partner}`, headers: [['content-type', 'application/x-www-form-urlencoded']], body: big, chunked });
    assertMapiAnswer(mapi, `oversize MAPI body (chunked: ${chunked})`);
    assert.match(text(mapi), /ILLEGAL_ARGUMENT/);
  }
  // Huge values just under the limit are read and refused by their length.
  const longValue = `biz_content=${'x'.repeat(BODY_LIMIT - 100)}`;
  assertOpenApiAnswer(await send({ method: 'POST', target: `/gateway.do?app_id=${caller.app_id}&method=${OPENAPI_METHODS[0]}`, headers: [['content-type', 'application/x-www-form-urlencoded']], body: Buffer.from(longValue) }), 'a value just under the limit');
});

test('afterwards: the server is up and logged no failure', async () => {
  const health = await fetch(`${gw.url}/healthz`);
  assert.equal(health.status, 200);
  const failures = logLines.filter((l) => /"level":(50|60)/.test(l) || /request failed|unhandled/.test(l));
  assert.deepEqual(failures, [], 'no error-level log line');
});
