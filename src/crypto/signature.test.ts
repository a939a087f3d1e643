/**
 * Signature test vectors, cross-checked three ways (issue 3):
 *  (a) OpenAPI request signatures equal what the official `alipay-sdk` v4 produces;
 *  (b) RSA/RSA2/DSA signatures interoperate with `openssl dgst -sign / -verify`;
 *  (c) MD5 signatures equal `md5sum` of content + key.
 * Values include Chinese (utf-8 and gbk bytes), & = + % spaces and newlines, and empties.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlipaySdk } from 'alipay-sdk';
import { encode, type Charset } from './charset.ts';
import { KeyError } from './keys.ts';
import { mapiContent, openApiRequestContent, type Params } from './sign-content.ts';
import { sign, signSync, verify, verifySync, type SignType } from './signature.ts';
import {
  dsaFixture,
  md5sum,
  opensslSign,
  opensslVerify,
  rsaFixture,
  Scratch,
  type DsaFixture,
  type RsaFixture,
} from './test-support.ts';

const APP_ID = '2021000122671080';
const FIXED_TS = '2024-05-13 17:49:20';

interface Vector {
  name: string;
  method: string;
  /** Top-level params besides the common ones, as handed to the SDK. */
  extra: Record<string, string>;
  biz: Record<string, string>;
  /** Expected string to sign, empties kept (Node/Python SDKs) and dropped (Java SDK). */
  keep: string;
  drop: string;
}

// `{st}` / `{ts}` / `{cs}` stand for sign_type, timestamp and charset.
const VECTORS: Vector[] = [
  {
    name: 'chinese values',
    method: 'alipay.user.auth.zhimaper.inner.apply',
    extra: {},
    biz: { cert_name: '张三', memo: '口碑会员 支付宝' },
    keep:
      'app_id=2021000122671080&biz_content={"cert_name":"张三","memo":"口碑会员 支付宝"}&charset={cs}' +
      '&method=alipay.user.auth.zhimaper.inner.apply&sign_type={st}&timestamp={ts}&version=1.0',
    drop:
      'app_id=2021000122671080&biz_content={"cert_name":"张三","memo":"口碑会员 支付宝"}&charset={cs}' +
      '&method=alipay.user.auth.zhimaper.inner.apply&sign_type={st}&timestamp={ts}&version=1.0',
  },
  {
    name: '& = + % space newline',
    method: 'alipay.trade.query',
    extra: { subject: 'a&b=c+d 100%', body: 'line1\nline2\r\nend' },
    biz: { q: 'x&y=z+1% 2' },
    keep:
      'app_id=2021000122671080&biz_content={"q":"x&y=z+1% 2"}&body=line1\nline2\r\nend&charset={cs}' +
      '&method=alipay.trade.query&sign_type={st}&subject=a&b=c+d 100%&timestamp={ts}&version=1.0',
    drop:
      'app_id=2021000122671080&biz_content={"q":"x&y=z+1% 2"}&body=line1\nline2\r\nend&charset={cs}' +
      '&method=alipay.trade.query&sign_type={st}&subject=a&b=c+d 100%&timestamp={ts}&version=1.0',
  },
  {
    name: 'empty values',
    method: 'koubei.member.data.oauth.query',
    extra: { notify_url: '', app_auth_token: '', return_url: 'https://example.cn/r?a=1&b=两' },
    biz: { auth_code: 'abc' },
    keep:
      'app_auth_token=&app_id=2021000122671080&biz_content={"auth_code":"abc"}&charset={cs}' +
      '&method=koubei.member.data.oauth.query&notify_url=&return_url=https://example.cn/r?a=1&b=两' +
      '&sign_type={st}&timestamp={ts}&version=1.0',
    drop:
      'app_id=2021000122671080&biz_content={"auth_code":"abc"}&charset={cs}' +
      '&method=koubei.member.data.oauth.query&return_url=https://example.cn/r?a=1&b=两' +
      '&sign_type={st}&timestamp={ts}&version=1.0',
  },
];

function fill(template: string, signType: string, ts: string, charset: string): string {
  return template.replaceAll('{st}', signType).replaceAll('{ts}', ts).replaceAll('{cs}', charset);
}

/** The params a client sends for a vector (what the SDK sends, for charset utf-8). */
function paramsOf(v: Vector, signType: string, ts: string, charset = 'utf-8'): Params {
  return {
    method: v.method,
    app_id: APP_ID,
    charset,
    version: '1.0',
    sign_type: signType,
    timestamp: ts,
    ...v.extra,
    biz_content: JSON.stringify(v.biz),
  };
}

/** MAPI page-service request (sns.account.bind), Chinese and special characters, an empty value. */
function mapiParams(inputCharset: string, signType: string): Params {
  return {
    service: 'sns.account.bind',
    partner: '2088101122136241',
    _input_charset: inputCharset,
    sign_type: signType,
    sign: 'ignored',
    return_url: 'https://example.cn/return?x=1&y=二',
    notify_url: '',
    scope: 'auth_base',
    nick: '张三 & =+%\n',
  };
}

function mapiExpected(inputCharset: string): string {
  return (
    `_input_charset=${inputCharset}&nick=张三 & =+%\n&partner=2088101122136241` +
    '&return_url=https://example.cn/return?x=1&y=二&scope=auth_base&service=sns.account.bind'
  );
}

const MD5_KEY = 'kfxyq5ys9wytbmw0hhktgyq6y2ieb9zx';

let rsa: RsaFixture;
let rsa1024: RsaFixture;
let dsa: DsaFixture;
let scratch: Scratch;

before(async () => {
  [rsa, rsa1024, dsa] = await Promise.all([rsaFixture(2048), rsaFixture(1024), dsaFixture()]);
  scratch = new Scratch();
});

after(() => scratch?.dispose());

describe('string to sign (fixed vectors)', () => {
  for (const v of VECTORS) {
    test(`OpenAPI request, ${v.name}: both empty-value modes`, () => {
      const p = paramsOf(v, 'RSA2', FIXED_TS);
      assert.equal(openApiRequestContent({ ...p, sign: 'xyz' }, false), fill(v.keep, 'RSA2', FIXED_TS, 'utf-8'));
      assert.equal(openApiRequestContent({ ...p, sign: 'xyz' }, true), fill(v.drop, 'RSA2', FIXED_TS, 'utf-8'));
    });
  }

  test('the empty-value vector really differs between the modes', () => {
    const v = VECTORS[2]!;
    assert.notEqual(openApiRequestContent(paramsOf(v, 'RSA2', FIXED_TS), false), openApiRequestContent(paramsOf(v, 'RSA2', FIXED_TS), true));
  });

  test('MAPI: sign, sign_type and empty values dropped', () => {
    assert.equal(mapiContent(mapiParams('gbk', 'MD5')), mapiExpected('gbk'));
  });

  test('gbk bytes of a string to sign are the gbk encoding', () => {
    const bytes = encode(mapiExpected('gbk'), 'gbk');
    assert.ok(bytes.includes(Buffer.from('d5c5c8fd', 'hex')), '张三 is D5C5 C8FD in GBK');
    assert.ok(!bytes.includes(Buffer.from('张三', 'utf8')));
  });
});

describe('(a) OpenAPI request signature = official alipay-sdk v4', () => {
  for (const signType of ['RSA2', 'RSA'] as const) {
    for (const keyType of ['PKCS1', 'PKCS8'] as const) {
      for (const v of VECTORS) {
        test(`${signType}, ${keyType} key, ${v.name}`, async () => {
          const sdk = new AlipaySdk({
            appId: APP_ID,
            privateKey: keyType === 'PKCS1' ? rsa.pkcs1Bare : rsa.pkcs8Bare,
            keyType,
            signType,
          });
          // sdkExecute is the SDK's public "sign and serialise" path (app payments).
          const query = sdk.sdkExecute(v.method, { ...v.extra, bizContent: v.biz });
          const sent: Params = Object.fromEntries(new URLSearchParams(query));
          const { sign: sdkSignature, ...signed } = sent;
          assert.ok(sdkSignature, 'the SDK sent a sign');
          // The SDK stamps its own clock; take its timestamp and check we model its params exactly.
          const ts = signed['timestamp']!;
          assert.match(ts, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
          assert.deepEqual(signed, paramsOf(v, signType, ts));

          const content = openApiRequestContent(sent, false);
          assert.equal(content, fill(v.keep, signType, ts, 'utf-8'));
          const bytes = encode(content, 'utf-8');
          for (const key of [rsa.pkcs1Bare, rsa.pkcs1Pem, rsa.pkcs8Bare, rsa.pkcs8Pem]) {
            assert.equal(signSync(signType, bytes, key), sdkSignature);
            assert.equal(await sign(signType, bytes, key), sdkSignature);
          }
          for (const pub of [rsa.spkiBare, rsa.spkiPem, rsa.pkcs1PublicPem]) {
            assert.equal(verifySync(signType, bytes, sdkSignature, pub), true);
            assert.equal(await verify(signType, bytes, sdkSignature, pub), true);
          }
          // The other algorithm must not accept it.
          assert.equal(verifySync(signType === 'RSA2' ? 'RSA' : 'RSA2', bytes, sdkSignature, rsa.spkiBare), false);

          const dropped = openApiRequestContent(sent, true);
          assert.equal(dropped, fill(v.drop, signType, ts, 'utf-8'));
          if (dropped !== content) {
            // Java-style string (empties dropped): a different signature, which ours verifies on its own string.
            const javaSig = signSync(signType, encode(dropped, 'utf-8'), rsa.pkcs8Bare);
            assert.notEqual(javaSig, sdkSignature);
            assert.equal(verifySync(signType, bytes, javaSig, rsa.spkiBare), false);
            assert.equal(verifySync(signType, encode(dropped, 'utf-8'), javaSig, rsa.spkiBare), true);
          }
        });
      }
    }
  }
});

describe('(b) RSA / RSA2 / DSA interoperate with openssl dgst', () => {
  interface Case {
    label: string;
    type: Exclude<SignType, 'MD5'>;
    digest: 'sha1' | 'sha256';
    priv: () => string;
    privPem: () => string;
    pubPem: () => string;
    pub: () => string;
    deterministic: boolean;
  }
  const cases: Case[] = [
    { label: 'RSA2 (SHA256withRSA, 2048)', type: 'RSA2', digest: 'sha256', priv: () => rsa.pkcs1Bare, privPem: () => rsa.pkcs1Pem, pubPem: () => rsa.spkiPem, pub: () => rsa.spkiBare, deterministic: true },
    { label: 'RSA (SHA1withRSA, 2048)', type: 'RSA', digest: 'sha1', priv: () => rsa.pkcs8Bare, privPem: () => rsa.pkcs8Pem, pubPem: () => rsa.spkiPem, pub: () => rsa.spkiBare, deterministic: true },
    { label: 'RSA (SHA1withRSA, 1024)', type: 'RSA', digest: 'sha1', priv: () => rsa1024.pkcs1Pem, privPem: () => rsa1024.pkcs1Pem, pubPem: () => rsa1024.spkiPem, pub: () => rsa1024.spkiPem, deterministic: true },
    { label: 'DSA (SHA1withDSA, 1024/160)', type: 'DSA', digest: 'sha1', priv: () => dsa.pkcs8Bare, privPem: () => dsa.pkcs8Pem, pubPem: () => dsa.spkiPem, pub: () => dsa.spkiBare, deterministic: false },
  ];

  for (const c of cases) {
    for (const charset of ['utf-8', 'gbk'] as const satisfies readonly Charset[]) {
      test(`${c.label}, ${charset} bytes`, async () => {
        const contents = [
          ...VECTORS.map((v) => fill(v.keep, c.type, FIXED_TS, charset)),
          mapiExpected(charset),
        ];
        for (const content of contents) {
          const bytes = encode(content, charset);
          const ours = await sign(c.type, bytes, c.priv());
          assert.equal(opensslVerify(scratch, c.digest, c.pubPem(), ours, bytes), true, `openssl verifies ours: ${content}`);

          const tampered = Buffer.from(bytes);
          tampered[tampered.length >> 1] ^= 0x01;
          assert.equal(opensslVerify(scratch, c.digest, c.pubPem(), ours, tampered), false, 'openssl rejects a changed byte');

          const theirs = opensslSign(scratch, c.digest, c.privPem(), bytes);
          assert.equal(verifySync(c.type, bytes, theirs, c.pub()), true, 'ours verifies openssl');
          assert.equal(await verify(c.type, bytes, theirs, c.pub()), true);
          assert.equal(verifySync(c.type, tampered, theirs, c.pub()), false);
          if (c.deterministic) assert.equal(ours, theirs, 'PKCS#1 v1.5 is deterministic: same bytes as openssl');

          if (/[^\x00-\x7f]/.test(content)) {
            // Chinese content: the charset decides the bytes, and a signature over one encoding fails the other.
            const other = encode(content, charset === 'gbk' ? 'utf-8' : 'gbk');
            assert.ok(!other.equals(bytes));
            assert.equal(opensslVerify(scratch, c.digest, c.pubPem(), ours, other), false);
            assert.equal(verifySync(c.type, other, theirs, c.pub()), false);
          }
        }
      });
    }
  }
});

describe('(c) MD5 = md5sum(content + key)', () => {
  for (const charset of ['utf-8', 'gbk'] as const satisfies readonly Charset[]) {
    test(`MAPI string in ${charset}`, async () => {
      const content = mapiContent(mapiParams(charset, 'MD5'));
      assert.equal(content, mapiExpected(charset));
      const bytes = encode(content, charset);
      const expected = md5sum(scratch, Buffer.concat([bytes, Buffer.from(MD5_KEY)]));
      assert.equal(signSync('MD5', bytes, MD5_KEY), expected);
      assert.equal(await sign('MD5', bytes, MD5_KEY), expected);
      assert.equal(verifySync('MD5', bytes, expected, MD5_KEY), true);
      assert.equal(verifySync('MD5', bytes, expected.toUpperCase(), MD5_KEY), true, 'hex case does not matter');
      assert.equal(await verify('MD5', bytes, expected, MD5_KEY), true);
      assert.equal(verifySync('MD5', bytes, expected, MD5_KEY.replace('k', 'K')), false, 'another key');
      assert.equal(verifySync('MD5', bytes, expected.slice(0, 31), MD5_KEY), false, 'truncated');
      const other = encode(content, charset === 'gbk' ? 'utf-8' : 'gbk');
      assert.notEqual(md5sum(scratch, Buffer.concat([other, Buffer.from(MD5_KEY)])), expected);
      assert.equal(verifySync('MD5', other, expected, MD5_KEY), false);
    });
  }

  test('known answer (gbk, computed independently with iconv | md5sum and Python hashlib)', () => {
    const bytes = encode(mapiExpected('gbk'), 'gbk');
    assert.equal(signSync('MD5', bytes, MD5_KEY), 'ec6095b5cfbecce9b5b5723580406e91');
  });
});

describe('bad input', () => {
  test('malformed signatures do not verify and never throw', async () => {
    const bytes = Buffer.from('a=1');
    for (const type of ['RSA', 'RSA2', 'DSA'] as const) {
      const pub = type === 'DSA' ? dsa.spkiBare : rsa.spkiBare;
      for (const bad of ['', 'not base64!', 'abc%2B', '====', Buffer.alloc(256, 7).toString('base64')]) {
        assert.equal(verifySync(type, bytes, bad, pub), false, `${type} ${bad}`);
        assert.equal(await verify(type, bytes, bad, pub), false);
      }
    }
    assert.equal(verifySync('MD5', bytes, '', MD5_KEY), false);
    assert.equal(verifySync('MD5', bytes, 'zz', MD5_KEY), false);
  });

  test('a key of the wrong kind is a KeyError: thrown by the sync forms, a rejection from the async ones', async () => {
    const bytes = Buffer.from('a=1');
    assert.throws(() => signSync('DSA', bytes, rsa.pkcs1Pem), KeyError);
    assert.throws(() => signSync('RSA2', bytes, dsa.pkcs8Pem), KeyError);
    assert.throws(() => verifySync('RSA2', bytes, 'AAAA', dsa.spkiPem), KeyError);
    const pending = sign('RSA2', bytes, dsa.pkcs8Pem); // must not throw synchronously
    await assert.rejects(pending, KeyError);
    const pendingVerify = verify('DSA', bytes, 'AAAA', rsa.spkiPem);
    await assert.rejects(pendingVerify, KeyError);
  });
});
