import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import {
  generateDsaKeyPair,
  generateRsaKeyPair,
  KeyError,
  parsePrivateKey,
  parsePublicKey,
  pemBody,
  toPkcs8Pem,
} from './keys.ts';
import { signSync, verifySync } from './signature.ts';
import { dsaFixture, rsaFixture, type DsaFixture, type RsaFixture } from './test-support.ts';

let rsa: RsaFixture;
let dsa: DsaFixture;

before(async () => {
  [rsa, dsa] = await Promise.all([rsaFixture(2048), dsaFixture()]);
});

/** Wraps a bare body at 64 columns, as `openssl` and the Java SDK's tools print it. */
function wrap64(body: string): string {
  return body.replace(/(.{64})/g, '$1\n');
}

describe('parsePrivateKey', () => {
  test('accepts PKCS#1 and PKCS#8, PEM or bare base64 DER, all as the same key', () => {
    const reference = createPrivateKey(rsa.pkcs1Pem);
    const forms = {
      'PKCS#1 PEM': rsa.pkcs1Pem,
      'PKCS#8 PEM': rsa.pkcs8Pem,
      'bare PKCS#1': rsa.pkcs1Bare,
      'bare PKCS#8': rsa.pkcs8Bare,
      'bare PKCS#1 wrapped at 64 columns': wrap64(rsa.pkcs1Bare),
      'bare PKCS#8 with surrounding whitespace': `  ${rsa.pkcs8Bare}\n`,
      'PEM with CRLF line ends': rsa.pkcs8Pem.replace(/\n/g, '\r\n'),
      'PEM armour and body on one line': rsa.pkcs1Pem.replace(/\n/g, ''),
      'PEM with literal \\n escapes (env var)': rsa.pkcs8Pem.trim().replace(/\n/g, '\\n'),
    };
    for (const [name, text] of Object.entries(forms)) {
      const key = parsePrivateKey(text, 'rsa');
      assert.equal(key.type, 'private', name);
      assert.equal(key.asymmetricKeyType, 'rsa', name);
      assert.ok(key.equals(reference), `${name} is the same key`);
    }
  });

  test('accepts a DSA key as PKCS#8, PEM or bare', () => {
    for (const text of [dsa.pkcs8Pem, dsa.pkcs8Bare]) {
      assert.equal(parsePrivateKey(text, 'dsa').asymmetricKeyType, 'dsa');
    }
  });

  test('a DSA key where RSA is expected (and the reverse) is a KeyError, cached or not', () => {
    assert.throws(() => parsePrivateKey(dsa.pkcs8Bare, 'rsa'), KeyError);
    assert.throws(() => parsePrivateKey(rsa.pkcs1Bare, 'dsa'), KeyError);
    // Both are in the cache now; the kind check must still apply.
    assert.throws(() => parsePrivateKey(dsa.pkcs8Bare, 'rsa'), /dsa key, expected rsa/);
    assert.throws(() => parsePrivateKey(rsa.pkcs1Bare, 'dsa'), /rsa key, expected dsa/);
  });

  test('a public key, garbage or an encrypted PEM is a KeyError', () => {
    const encrypted = createPrivateKey(rsa.pkcs1Pem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'secret' })
      .toString();
    for (const text of [rsa.spkiPem, rsa.spkiBare, rsa.pkcs1PublicBare, 'not a key', '', randomBytes(300).toString('base64'), encrypted]) {
      assert.throws(() => parsePrivateKey(text), KeyError, text.slice(0, 40));
    }
  });
});

describe('parsePublicKey', () => {
  test('accepts SPKI and PKCS#1, PEM or bare base64 DER, all as the same key', () => {
    const reference = createPublicKey(rsa.spkiPem);
    const forms = {
      'SPKI PEM': rsa.spkiPem,
      'bare SPKI': rsa.spkiBare,
      'bare SPKI wrapped': wrap64(rsa.spkiBare),
      'PKCS#1 PEM': rsa.pkcs1PublicPem,
      'bare PKCS#1': rsa.pkcs1PublicBare,
      'SPKI PEM on one line': rsa.spkiPem.replace(/\n/g, ''),
    };
    for (const [name, text] of Object.entries(forms)) {
      const key = parsePublicKey(text, 'rsa');
      assert.equal(key.type, 'public', name);
      assert.ok(key.equals(reference), `${name} is the same key`);
    }
    assert.equal(parsePublicKey(dsa.spkiBare, 'dsa').asymmetricKeyType, 'dsa');
  });

  test('a private key passed as a public key is a KeyError, in every form', () => {
    const forms = {
      'PKCS#1 PEM': rsa.pkcs1Pem,
      'PKCS#8 PEM': rsa.pkcs8Pem,
      'bare PKCS#1': rsa.pkcs1Bare,
      'bare PKCS#8': rsa.pkcs8Bare,
      'bare PKCS#1 wrapped': wrap64(rsa.pkcs1Bare),
      'bare DSA PKCS#8': dsa.pkcs8Bare,
      'DSA PEM': dsa.pkcs8Pem,
    };
    for (const [name, text] of Object.entries(forms)) {
      assert.throws(() => parsePublicKey(text), KeyError, name);
      assert.throws(() => parsePublicKey(text, 'rsa'), KeyError, name);
    }
  });

  test('a DSA key where RSA is expected (and the reverse) is a KeyError, cached or not', () => {
    assert.throws(() => parsePublicKey(dsa.spkiBare, 'rsa'), KeyError);
    assert.throws(() => parsePublicKey(rsa.spkiPem, 'dsa'), KeyError);
    parsePublicKey(dsa.spkiPem);
    assert.throws(() => parsePublicKey(dsa.spkiPem, 'rsa'), KeyError);
  });

  test('garbage is a KeyError', () => {
    for (const text of ['', 'MIIB%%%', randomBytes(294).toString('base64'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----']) {
      assert.throws(() => parsePublicKey(text), KeyError, text);
    }
  });
});

describe('key helpers', () => {
  test('pemBody strips the armour and line breaks and leaves the DER', () => {
    const body = pemBody(rsa.spkiPem);
    assert.match(body, /^[A-Za-z0-9+/]+=*$/);
    assert.ok(!body.includes('-'));
    assert.deepEqual(Buffer.from(body, 'base64'), createPublicKey(rsa.spkiPem).export({ type: 'spki', format: 'der' }));
  });

  test('toPkcs8Pem re-encodes a bare PKCS#1 key as the same key in PKCS#8 PEM', () => {
    const pem = toPkcs8Pem(rsa.pkcs1Bare);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(createPrivateKey(pem).equals(createPrivateKey(rsa.pkcs1Pem)));
  });

  test('generateRsaKeyPair: 2048-bit, PKCS#1 private + SPKI public that sign/verify as a pair', async () => {
    const pair = await generateRsaKeyPair();
    assert.match(pair.privateKey, /^-----BEGIN RSA PRIVATE KEY-----/);
    assert.match(pair.publicKey, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(createPublicKey(pair.publicKey).asymmetricKeyDetails?.modulusLength, 2048);
    const data = Buffer.from('a=1');
    assert.equal(verifySync('RSA2', data, signSync('RSA2', data, pair.privateKey), pair.publicKey), true);
    assert.equal(verifySync('RSA2', data, signSync('RSA2', data, pair.privateKey), rsa.spkiPem), false);
  });

  test('generateDsaKeyPair: 1024/160 DSA pair', async () => {
    const pair = await generateDsaKeyPair();
    const details = createPublicKey(pair.publicKey).asymmetricKeyDetails;
    assert.equal(details?.modulusLength, 1024);
    assert.equal(details?.divisorLength, 160);
    const data = Buffer.from('a=1');
    assert.equal(verifySync('DSA', data, signSync('DSA', data, pair.privateKey), pair.publicKey), true);
  });
});
