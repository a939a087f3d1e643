/**
 * diagnoseSignature names the cause of a failed verification (issue 3): wrong key, RSA vs
 * RSA2, utf-8 vs gbk, URL-encoded values, an unsigned parameter — for RSA/RSA2, and as far
 * as the signature allows for MD5 and DSA.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, type Charset } from './charset.ts';
import { diagnoseSignature, type DiagnoseInput, type SignatureCause } from './diagnose.ts';
import { encodeComponent } from './form.ts';
import { mapiContent, openApiRequestContent, type Params } from './sign-content.ts';
import { signSync, verifySync, type SignType } from './signature.ts';
import { dsaFixture, rsaFixture, type DsaFixture, type RsaFixture } from './test-support.ts';

const MD5_KEY = 'kfxyq5ys9wytbmw0hhktgyq6y2ieb9zx';
const openApiBuild = (p: Params) => openApiRequestContent(p, false);

function openApiParams(charset: string, signType: SignType): Params {
  return {
    app_id: '2021000122671080',
    method: 'alipay.user.auth.zhimaper.inner.apply',
    charset,
    sign_type: signType,
    timestamp: '2024-05-13 17:49:20',
    version: '1.0',
    app_auth_token: '202405BB0123456789abcdef0123456789abcd',
    biz_content: '{"cert_name":"张三","memo":"a&b=c+d 100%"}',
  };
}

function mapiParams(charset: string, signType: SignType): Params {
  return {
    service: 'sns.account.bind',
    partner: '2088101122136241',
    _input_charset: charset,
    sign_type: signType,
    return_url: 'https://example.cn/return?x=1&y=二',
    nick: '张三 & =+%',
    scope: 'auth_base',
  };
}

/** The values as they arrive on the wire, percent-encoded in the request charset. */
function wire(params: Params, charset: Charset): Params {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, encodeComponent(v, charset)]));
}

let app: RsaFixture;
let other: RsaFixture;
let dsa: DsaFixture;
let dsa2: DsaFixture;

before(async () => {
  [app, other, dsa, dsa2] = await Promise.all([rsaFixture(2048), rsaFixture(2048), dsaFixture(), dsaFixture()]);
});

interface Scenario {
  signType: SignType;
  charset: Charset;
  params: Params;
  build: (p: Params) => string;
  /** Public key (or MD5 key) configured on our side. */
  key: string;
}

/** Signs `signedBytes` the way a broken client would and asks for a diagnosis of the request. */
function diagnose(s: Scenario, signature: string) {
  const input: DiagnoseInput = {
    params: s.params,
    rawParams: wire(s.params, s.charset),
    charset: s.charset,
    signType: s.signType,
    signature,
    key: s.key,
    build: s.build,
  };
  // A diagnosis is only asked for when verification failed; make sure the scenario is one.
  assert.equal(verifySync(s.signType, encode(s.build(s.params), s.charset), signature, s.key), false, 'scenario must not verify');
  return diagnoseSignature(input);
}

function expectCause(s: Scenario, signature: string, cause: SignatureCause, detail?: RegExp) {
  const d = diagnose(s, signature);
  assert.equal(d.cause, cause, d.detail);
  assert.equal(d.string_to_sign, s.build(s.params));
  assert.equal(d.charset, s.charset);
  assert.equal(d.sign_type, s.signType);
  if (detail) assert.match(d.detail, detail);
}

describe('RSA2 / RSA (OpenAPI request)', () => {
  for (const signType of ['RSA2', 'RSA'] as const) {
    const otherType = signType === 'RSA2' ? 'RSA' : 'RSA2';
    const utf8 = (): Scenario => ({ signType, charset: 'utf-8', params: openApiParams('utf-8', signType), build: openApiBuild, key: app.spkiBare });
    const gbk = (): Scenario => ({ signType, charset: 'gbk', params: openApiParams('GBK', signType), build: openApiBuild, key: app.spkiPem });
    const content = (s: Scenario, charset = s.charset) => encode(s.build(s.params), charset);

    test(`${signType}: signed with another private key -> wrong_key`, () => {
      const s = utf8();
      expectCause(s, signSync(signType, content(s), other.pkcs1Pem), 'wrong_key');
    });

    test(`${signType}: signed as ${otherType} -> sign_type_mismatch`, () => {
      const s = utf8();
      expectCause(s, signSync(otherType, content(s), app.pkcs1Pem), 'sign_type_mismatch', new RegExp(`signed with ${otherType}, sign_type is ${signType}`));
    });

    test(`${signType}: declared utf-8, signed gbk bytes -> charset_mismatch`, () => {
      const s = utf8();
      expectCause(s, signSync(signType, content(s, 'gbk'), app.pkcs8Pem), 'charset_mismatch', /signed as gbk bytes, declared utf-8/);
    });

    test(`${signType}: declared GBK, signed utf-8 bytes -> charset_mismatch`, () => {
      const s = gbk();
      expectCause(s, signSync(signType, content(s, 'utf-8'), app.pkcs8Pem), 'charset_mismatch', /signed as utf-8 bytes, declared gbk/);
    });

    test(`${signType}: URL-encoded values signed -> url_encoded_values (utf-8 and gbk)`, () => {
      for (const s of [utf8(), gbk()]) {
        const encodedString = s.build(wire(s.params, s.charset));
        assert.match(encodedString, /%E5%BC%A0|%D5%C5/, 'the wire form really is percent-encoded');
        expectCause(s, signSync(signType, encode(encodedString, s.charset), app.pkcs1Bare), 'url_encoded_values');
      }
    });

    test(`${signType}: a parameter sent but not signed -> unsigned_parameter naming it`, () => {
      const s = utf8();
      const { app_auth_token: _omitted, ...signedPart } = s.params;
      expectCause(s, signSync(signType, encode(s.build(signedPart), 'utf-8'), app.pkcs1Bare), 'unsigned_parameter', /"app_auth_token"/);
    });

    test(`${signType}: sign_type left out of the string (notify-style) -> unsigned_parameter naming sign_type`, () => {
      const s = utf8();
      const { sign_type: _omitted, ...signedPart } = s.params;
      expectCause(s, signSync(signType, encode(s.build(signedPart), 'utf-8'), app.pkcs1Bare), 'unsigned_parameter', /"sign_type"/);
    });

    test(`${signType}: right key, some other string -> content_mismatch`, () => {
      const s = utf8();
      const changed = { ...s.params, timestamp: '2024-05-13 17:49:21' };
      expectCause(s, signSync(signType, encode(s.build(changed), 'utf-8'), app.pkcs1Bare), 'content_mismatch');
    });

    test(`${signType}: an MD5 or a DSA signature -> sign_type_mismatch`, () => {
      const s = utf8();
      expectCause(s, signSync('MD5', content(s), MD5_KEY), 'sign_type_mismatch', /signed with MD5/);
      expectCause(s, signSync('DSA', content(s), dsa.pkcs8Pem), 'sign_type_mismatch', /signed with DSA/);
    });

    test(`${signType}: not base64 (URL-encoded once more) -> malformed_signature`, () => {
      const s = utf8();
      const good = signSync(signType, content(s), app.pkcs1Bare);
      expectCause(s, encodeURIComponent(good + '+/'), 'malformed_signature');
    });
  }
});

describe('MD5 (MAPI)', () => {
  const scenario = (charset: Charset): Scenario => ({ signType: 'MD5', charset, params: mapiParams(charset, 'MD5'), build: mapiContent, key: MD5_KEY });

  test('declared gbk, signed utf-8 bytes -> charset_mismatch (and the reverse)', () => {
    const g = scenario('gbk');
    expectCause(g, signSync('MD5', encode(mapiContent(g.params), 'utf-8'), MD5_KEY), 'charset_mismatch');
    const u = scenario('utf-8');
    expectCause(u, signSync('MD5', encode(mapiContent(u.params), 'gbk'), MD5_KEY), 'charset_mismatch');
  });

  test('URL-encoded values signed -> url_encoded_values', () => {
    const s = scenario('gbk');
    expectCause(s, signSync('MD5', encode(mapiContent(wire(s.params, 'gbk')), 'gbk'), MD5_KEY), 'url_encoded_values');
  });

  test('a parameter sent but not signed -> unsigned_parameter naming it', () => {
    const s = scenario('gbk');
    const { scope: _omitted, ...signedPart } = s.params;
    expectCause(s, signSync('MD5', encode(mapiContent(signedPart), 'gbk'), MD5_KEY), 'unsigned_parameter', /"scope"/);
  });

  test('another MD5 key -> content_mismatch (MD5 cannot tell a key from a string)', () => {
    const s = scenario('gbk');
    expectCause(s, signSync('MD5', encode(mapiContent(s.params), 'gbk'), 'x' + MD5_KEY.slice(1)), 'content_mismatch');
  });

  test('an RSA or DSA signature with sign_type=MD5 -> sign_type_mismatch', () => {
    const s = scenario('gbk');
    const bytes = encode(mapiContent(s.params), 'gbk');
    expectCause(s, signSync('RSA', bytes, app.pkcs1Pem), 'sign_type_mismatch', /signed with RSA/);
    expectCause(s, signSync('DSA', bytes, dsa.pkcs8Pem), 'sign_type_mismatch', /signed with DSA/);
  });

  test('neither hex nor base64 -> malformed_signature', () => {
    expectCause(scenario('gbk'), 'not a signature!', 'malformed_signature');
  });
});

describe('DSA (MAPI, sns.account.bind with GBK)', () => {
  const scenario = (charset: Charset, key = dsa.spkiBare): Scenario => ({ signType: 'DSA', charset, params: mapiParams(charset, 'DSA'), build: mapiContent, key });

  test('declared GBK, signed utf-8 bytes -> charset_mismatch', () => {
    const s = scenario('gbk');
    expectCause(s, signSync('DSA', encode(mapiContent(s.params), 'utf-8'), dsa.pkcs8Pem), 'charset_mismatch');
  });

  test('URL-encoded values signed -> url_encoded_values', () => {
    const s = scenario('gbk');
    expectCause(s, signSync('DSA', encode(mapiContent(wire(s.params, 'gbk')), 'gbk'), dsa.pkcs8Pem), 'url_encoded_values');
  });

  test('a parameter sent but not signed -> unsigned_parameter naming it', () => {
    const s = scenario('gbk');
    const { return_url: _omitted, ...signedPart } = s.params;
    expectCause(s, signSync('DSA', encode(mapiContent(signedPart), 'gbk'), dsa.pkcs8Pem), 'unsigned_parameter', /"return_url"/);
  });

  test('another DSA key -> content_mismatch (DSA cannot prove a wrong key)', () => {
    const s = scenario('gbk');
    expectCause(s, signSync('DSA', encode(mapiContent(s.params), 'gbk'), dsa2.pkcs8Pem), 'content_mismatch');
  });

  test('an RSA or MD5 signature with sign_type=DSA -> sign_type_mismatch', () => {
    const s = scenario('gbk');
    const bytes = encode(mapiContent(s.params), 'gbk');
    expectCause(s, signSync('RSA', bytes, app.pkcs1Pem), 'sign_type_mismatch', /signed with RSA/);
    expectCause(s, signSync('MD5', bytes, MD5_KEY), 'sign_type_mismatch', /signed with MD5/);
  });

  test('an RSA public key configured for a DSA partner -> wrong_key, not an exception', () => {
    const s = scenario('gbk', app.spkiBare);
    const sig = signSync('DSA', encode(mapiContent(s.params), 'gbk'), dsa.pkcs8Pem);
    const d = diagnoseSignature({ ...s, rawParams: wire(s.params, 'gbk'), signature: sig });
    assert.equal(d.cause, 'wrong_key');
  });
});
