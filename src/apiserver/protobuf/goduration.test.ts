import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatGoDuration, parseGoDuration } from './goduration.ts';

describe("Go's time.Duration text", () => {
  it('formats as Duration.String()', () => {
    const cases: [bigint, string][] = [
      [0n, '0s'],
      [1n, '1ns'],
      [1_100n, '1.1µs'],
      [2_200_000n, '2.2ms'],
      [1_000_000_000n, '1s'],
      [1_500_000_000n, '1.5s'],
      [60_000_000_000n, '1m0s'],
      [3_600_000_000_000n, '1h0m0s'],
      [3_723_000_000_001n, '1h2m3.000000001s'],
      [-90_000_000_000n, '-1m30s'],
      [(1n << 63n) - 1n, '2562047h47m16.854775807s'],
    ];
    for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, text);
  });

  it('parses as time.ParseDuration', () => {
    const cases: [string, bigint][] = [
      ['0', 0n],
      ['0s', 0n],
      ['1h2m3s', 3_723_000_000_000n],
      ['1.5h', 5_400_000_000_000n],
      ['300ms', 300_000_000n],
      ['-1m30s', -90_000_000_000n],
      ['+5s', 5_000_000_000n],
      ['1us', 1_000n],
      ['1µs', 1_000n],
      ['1μs', 1_000n],
      ['.5s', 500_000_000n],
      ['2562047h47m16.854775807s', (1n << 63n) - 1n],
    ];
    for (const [text, ns] of cases) assert.equal(parseGoDuration(text), ns, text);
    for (const bad of ['', '1', 's', '1x', '1hm', '.s', '-', '2562047h47m16.854775808s', '1h 2m']) {
      assert.equal(parseGoDuration(bad), undefined, bad);
    }
  });

  it('round-trips', () => {
    for (const ns of [0n, 7n, 999_999n, 59_999_999_999n, 86_400_000_000_000n, -1n]) {
      assert.equal(parseGoDuration(formatGoDuration(ns)), ns);
    }
  });
});
