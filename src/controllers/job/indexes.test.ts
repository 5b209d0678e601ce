import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { remainingBackoffMs } from './backoff.ts';
import { firstPendingIndexes, OrderedIntervals } from './indexes.ts';

describe('OrderedIntervals', () => {
  it('parses, merges and prints as status.completedIndexes does', () => {
    const oi = OrderedIntervals.parse('1,3-5,7', 10);
    assert.equal(oi.total(), 5);
    assert.equal(oi.toString(), '1,3-5,7');
    assert.equal(oi.withIndexes([2, 6]).toString(), '1-7');
    assert.equal(
      new OrderedIntervals().withIndexes([0, 1]).toString(),
      '0,1',
      'two in a row print with a comma',
    );
    assert.equal(new OrderedIntervals().withIndexes([0, 1, 2]).toString(), '0-2');
    assert.ok(oi.has(4) && !oi.has(6));
  });

  it('clips to completions and skips corrupt parts', () => {
    assert.equal(OrderedIntervals.parse('0-3,x,8-12', 10).toString(), '0-3,8,9');
    assert.equal(OrderedIntervals.parse('11', 10).toString(), '');
  });

  it('finds the first pending indexes', () => {
    const taken = OrderedIntervals.parse('0,2-3', 10);
    assert.deepEqual(firstPendingIndexes(taken, 3, 10), [1, 4, 5]);
    assert.deepEqual(firstPendingIndexes(taken, 5, 5), [1, 4]);
  });
});

describe('pod failure back-off', () => {
  it('waits 10 s × 2^(n-1) from the last failure, capped at 10 min', () => {
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 0 }, 0), 0);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 1, lastFailureTime: 0 }, 3_000), 7_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 3, lastFailureTime: 0 }, 0), 40_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 20, lastFailureTime: 0 }, 0), 600_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 1, lastFailureTime: 0 }, 11_000), 0);
  });
});
