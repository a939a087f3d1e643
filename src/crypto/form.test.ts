import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CharsetError } from './charset.ts';
import { buildForm, encodeComponent, FormEncodingError, parseForm } from './form.ts';

/** What a server sees of raw bytes: one latin1 char per byte. */
const latin1 = (h: string) => Buffer.from(h, 'hex').toString('latin1');

describe('parseForm', () => {
  test('gbk percent escapes are gbk bytes', () => {
    assert.deepEqual(parseForm('nick=%D5%C5%C8%FD&partner=2088101122136241', 'gbk'), [
      ['nick', '张三'],
      ['partner', '2088101122136241'],
    ]);
    assert.deepEqual(parseForm('nick=%d5%c5', 'gb2312'), [['nick', '张']], 'lower-case hex');
  });

  test('utf-8 percent escapes are utf-8 bytes', () => {
    assert.deepEqual(parseForm('nick=%E5%BC%A0%E4%B8%89', 'utf-8'), [['nick', '张三']]);
  });

  test('raw (unescaped) bytes in the charset, received latin1-mapped', () => {
    assert.deepEqual(parseForm(`nick=${latin1('d5c5c8fd')}`, 'gbk'), [['nick', '张三']]);
    assert.deepEqual(parseForm(`nick=${latin1('e5bca0')}`, 'utf-8'), [['nick', '张']]);
  });

  test("'+' is a space, '%2B' a plus, in keys and values", () => {
    assert.deepEqual(parseForm('subject=a+b%2Bc&x+y=1', 'utf-8'), [
      ['subject', 'a b+c'],
      ['x y', '1'],
    ]);
    assert.deepEqual(parseForm('t=2024-05-13+17%3A49%3A20', 'gbk'), [['t', '2024-05-13 17:49:20']]);
  });

  test('& = % and newlines inside values survive when escaped', () => {
    assert.deepEqual(parseForm('v=a%26b%3Dc%25d%0Ae', 'utf-8'), [['v', 'a&b=c%d\ne']]);
  });

  test('edge shapes: empty value, no "=", "=" in value, empty pieces, repeated keys', () => {
    assert.deepEqual(parseForm('', 'utf-8'), []);
    assert.deepEqual(parseForm('a=&b&c=x=y&&a=2&', 'utf-8'), [
      ['a', ''],
      ['b', ''],
      ['c', 'x=y'],
      ['a', '2'],
    ]);
  });

  test('invalid percent-encoding is a FormEncodingError', () => {
    for (const raw of ['a=%', 'a=%4', 'a=%zz', 'a=100%', 'a=%E5%BC%', '%=1', 'a=%%41', 'a=%+1']) {
      assert.throws(() => parseForm(raw, 'utf-8'), FormEncodingError, raw);
    }
  });

  test('well-formed escapes of bytes invalid in the charset are a CharsetError', () => {
    assert.throws(() => parseForm('a=%FF', 'utf-8'), CharsetError);
    assert.throws(() => parseForm('a=%D5', 'gbk'), CharsetError);
    assert.throws(() => parseForm('a=%81%7F', 'gbk'), CharsetError);
    assert.throws(() => parseForm('%FF=1', 'utf-8'), CharsetError);
  });
});

describe('encodeComponent / buildForm', () => {
  test('gbk bytes as upper-case escapes, space as %20, unreserved left alone', () => {
    assert.equal(encodeComponent('张 三+&=%', 'gbk'), '%D5%C5%20%C8%FD%2B%26%3D%25');
    assert.equal(encodeComponent("a-_.!~*'()Z9", 'gbk'), "a-_.!~*'()Z9");
    assert.equal(encodeComponent('张 三+&=%', 'utf-8'), '%E5%BC%A0%20%E4%B8%89%2B%26%3D%25');
  });

  test('buildForm joins encoded pairs with &', () => {
    assert.equal(buildForm({ nick: '张三', 'a b': 'x&y' }, 'gbk'), 'nick=%D5%C5%C8%FD&a%20b=x%26y');
  });

  test('a value starting with U+FEFF round-trips (not stripped as a BOM)', () => {
    assert.deepEqual(parseForm(buildForm({ v: '\uFEFFx' }, 'utf-8'), 'utf-8'), [['v', '\uFEFFx']]);
  });

  test('parseForm(buildForm(p)) === p: utf-8, any unicode', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { maxLength: 6 }), (pairs) => {
        const p = Object.fromEntries(pairs.filter(([k]) => k !== '' && k !== '__proto__'));
        assert.deepEqual(parseForm(buildForm(p, 'utf-8'), 'utf-8'), Object.entries(p));
      }),
      { numRuns: 200 },
    );
  });

  test('parseForm(buildForm(p)) === p: gbk, representable text', () => {
    const unit = fc.constantFrom(...'张三李四口碑会员支付宝€ abcXYZ019&=+%\n\'()*!~-_.'.split(''));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit, minLength: 1 }), fc.string({ unit })), { maxLength: 6 }), (pairs) => {
        const p = Object.fromEntries(pairs);
        assert.deepEqual(parseForm(buildForm(p, 'gbk'), 'gbk'), Object.entries(p));
      }),
      { numRuns: 200 },
    );
  });
});
