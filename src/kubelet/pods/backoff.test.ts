import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { Backoff } from './backoff.ts';
import { goDuration } from './format.ts';

test('back-off: first restart at once, then 10 s doubling to 5 min', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  const seen: number[] = [];
  let exit = clock.now();
  assert.equal(b.isInBackOffSince('k', exit), false, 'no entry: no back-off');
  b.next('k', exit);
  for (let i = 0; i < 8; i++) {
    exit = clock.now();
    assert.equal(b.isInBackOffSince('k', exit), true);
    seen.push(b.get('k'));
    clock.advance(b.get('k') - 1);
    assert.equal(b.isInBackOffSince('k', exit), true);
    clock.advance(1);
    assert.equal(b.isInBackOffSince('k', exit), false);
    b.next('k', exit);
  }
  assert.deepEqual(
    seen.map((ms) => goDuration(ms)),
    ['10s', '20s', '40s', '1m20s', '2m40s', '5m0s', '5m0s', '5m0s'],
  );
});

test('back-off resets after running fine for twice the maximum (10 min)', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock);
  b.next('k', clock.now());
  b.next('k', clock.now());
  b.next('k', clock.now());
  assert.equal(b.get('k'), 40_000);
  clock.advance(10 * 60_000 + 1);
  const exit = clock.now();
  assert.equal(b.isInBackOffSince('k', exit), false);
  b.next('k', exit);
  assert.equal(b.get('k'), 10_000);
});

test('goDuration prints as Go does', () => {
  assert.equal(goDuration(10_000), '10s');
  assert.equal(goDuration(80_000), '1m20s');
  assert.equal(goDuration(300_000), '5m0s');
  assert.equal(goDuration(3_600_000), '1h0m0s');
  assert.equal(goDuration(1500), '1.5s');
  assert.equal(goDuration(0), '0s');
});
