import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CharsetError, decode, encode, normalizeCharset, type Charset } from './charset.ts';

const hex = (h: string) => Buffer.from(h, 'hex');

function assertCharsetError(fn: () => unknown, charset: string, reason: 'unknown' | 'malformed') {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CharsetError, `CharsetError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.charset, charset);
    return true;
  });
}

describe('normalizeCharset', () => {
  test('case-insensitive names map to canonical ones (Java sends GBK / UTF-8)', () => {
    const cases: Array<[string, Charset]> = [
      ['utf-8', 'utf-8'],
      ['UTF-8', 'utf-8'],
      ['utf8', 'utf-8'],
      ['UTF8', 'utf-8'],
      ['gbk', 'gbk'],
      ['GBK', 'gbk'],
      ['GB2312', 'gb2312'],
      ['gb2312', 'gb2312'],
      ['GB18030', 'gb18030'],
      [' GBK ', 'gbk'],
    ];
    for (const [name, canonical] of cases) assert.equal(normalizeCharset(name), canonical, name);
  });

  test('absent or empty falls back (utf-8 unless told otherwise)', () => {
    assert.equal(normalizeCharset(undefined), 'utf-8');
    assert.equal(normalizeCharset(''), 'utf-8');
    assert.equal(normalizeCharset(undefined, 'gbk'), 'gbk');
    assert.equal(normalizeCharset('', 'gbk'), 'gbk');
  });

  test("an unknown charset is CharsetError 'unknown', naming it", () => {
    for (const name of ['latin1', 'ISO-8859-1', 'big5', 'utf-16', 'utf-8;', 'gbk2', 'x']) {
      assertCharsetError(() => normalizeCharset(name), name, 'unknown');
    }
  });
});

describe('decode / encode', () => {
  test('Chinese in each charset', () => {
    assert.equal(decode(hex('e5bca0e4b889'), 'utf-8'), '张三');
    assert.equal(decode(hex('d5c5c8fd'), 'gbk'), '张三');
    assert.equal(decode(hex('d5c5c8fd'), 'gb2312'), '张三');
    assert.equal(decode(hex('d5c5c8fd'), 'gb18030'), '张三');
    assert.equal(decode(hex('80'), 'gbk'), '€', 'CP936 single-byte euro');
    assert.deepEqual(encode('张三', 'gbk'), hex('d5c5c8fd'));
    assert.deepEqual(encode('张三', 'gb2312'), hex('d5c5c8fd'));
    assert.deepEqual(encode('张三', 'utf-8'), hex('e5bca0e4b889'));
    assert.deepEqual(encode('a&b=c+d%', 'gbk'), Buffer.from('a&b=c+d%'));
  });

  test("invalid utf-8 is CharsetError 'malformed', never U+FFFD", () => {
    for (const h of ['ff', 'c3', 'e5bc', 'c0af', 'eda080', 'f4908080', '41ff42']) {
      assertCharsetError(() => decode(hex(h), 'utf-8'), 'utf-8', 'malformed');
    }
  });

  test("invalid gbk / gb2312 / gb18030 bytes are CharsetError 'malformed'", () => {
    // a lone lead byte, a lead byte with a bad trail (0x7F), 0xFF
    for (const h of ['d5', '41d5', '817f', 'ff', 'd5c5ff']) {
      assertCharsetError(() => decode(hex(h), 'gbk'), 'gbk', 'malformed');
      assertCharsetError(() => decode(hex(h), 'gb2312'), 'gb2312', 'malformed');
    }
    assertCharsetError(() => decode(hex('8431'), 'gb18030'), 'gb18030', 'malformed');
  });

  test('a genuine U+FFFD is kept where the charset can encode it (utf-8, gb18030)', () => {
    assert.equal(decode(hex('efbfbd'), 'utf-8'), '\uFFFD');
    assert.equal(decode(hex('8431a437'), 'gb18030'), '\uFFFD');
  });

  test('a leading U+FEFF is data, not a BOM to strip: the client signed those bytes', () => {
    assert.equal(decode(hex('efbbbf41'), 'utf-8'), '\uFEFFA');
    assert.equal(decode(hex('84319533'), 'gb18030'), '\uFEFF');
  });

  test('decode(encode(s)) === s for any utf-8 string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        assert.equal(decode(encode(s, 'utf-8'), 'utf-8'), s);
      }),
      { numRuns: 200 },
    );
  });

  test('decode(encode(s)) === s for strings GBK can represent', () => {
    const unit = fc.constantFrom(...'张三李四口碑会员支付宝授权码不存在￥€、。，“”abcXYZ019 &=+%\n'.split(''));
    fc.assert(
      fc.property(fc.string({ unit }), (s) => {
        for (const cs of ['gbk', 'gb18030'] as const) assert.equal(decode(encode(s, cs), cs), s);
      }),
      { numRuns: 200 },
    );
  });
});
