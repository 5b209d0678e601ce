import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { TtlCache } from './cache.ts';

test('entries expire on the clock and report their age', () => {
  const clock = new FakeClock();
  const c = new TtlCache<string>(10, clock);
  c.set('a', 'x', 1000);
  clock.advance(400);
  assert.deepEqual(c.get('a'), { value: 'x', ageMs: 400 });
  clock.advance(600);
  assert.equal(c.get('a'), undefined);
  c.set('b', 'y', 0);
  assert.equal(c.get('b'), undefined, 'a zero TTL is not kept');
});

test('the least recently used entry goes first when full', () => {
  const c = new TtlCache<number>(2, new FakeClock());
  c.set('a', 1, 1000);
  c.set('b', 2, 1000);
  c.get('a');
  c.set('c', 3, 1000);
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a')?.value, 1);
  assert.equal(c.get('c')?.value, 3);
  assert.equal(c.size, 2);
});
