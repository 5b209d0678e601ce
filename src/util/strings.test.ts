import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareStrings } from './strings.ts';

describe('compareStrings', () => {
  /** The reference: code point by code point (lone surrogates as themselves). */
  function byCodePoints(a: string, b: string): number {
    const x = [...a].map((c) => c.codePointAt(0) ?? 0);
    const y = [...b].map((c) => c.codePointAt(0) ?? 0);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
    }
    return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
  }

  it('orders as code points (UTF-8 bytes), surrogates and lone surrogates included', () => {
    const units = [0x41, 0x61, 0xe4, 0xd7ff, 0xd835, 0xdd18, 0xdbff, 0xdfff, 0xe000, 0xff21, 0xffff];
    let seed = 1;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const gen = () =>
      String.fromCharCode(
        ...Array.from(
          { length: Math.floor(rand() * 4) },
          () => units[Math.floor(rand() * units.length)] as number,
        ),
      );
    for (let i = 0; i < 20000; i++) {
      const a = gen();
      const b = rand() < 0.3 ? a + gen() : gen();
      assert.equal(compareStrings(a, b), byCodePoints(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });
});

describe('compareStrings as Go sorts label selectors', () => {
  it('equals a comparison of the UTF-8 bytes', () => {
    const words = ['a', 'b', 'ab', '', 'é', 'z', 'Z', '😀', '\uffff', 'a😀', 'a\uffff'];
    for (const a of words) {
      for (const b of words) {
        assert.equal(
          compareStrings(a, b),
          Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))),
          `${a} vs ${b}`,
        );
      }
    }
  });
});
