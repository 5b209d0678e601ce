import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { ControllerExpectations } from './expectations.ts';
import { slowStartBatch } from './slow-start.ts';

describe('slowStartBatch', () => {
  it('runs batches of 1, 2, 4, … concurrently within a batch', async () => {
    const batches: number[] = [];
    let inFlight = 0;
    const { successes, error } = await slowStartBatch(10, 1, async () => {
      if (inFlight === 0) batches.push(0);
      inFlight++;
      batches[batches.length - 1]!++;
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
    });
    assert.deepEqual(batches, [1, 2, 4, 3]);
    assert.equal(successes, 10);
    assert.equal(error, undefined);
  });

  it('stops after the first batch with a failure', async () => {
    let calls = 0;
    const result = await slowStartBatch(20, 1, async () => {
      if (++calls === 5) throw new Error('quota');
    });
    assert.equal(calls, 7, 'batches 1, 2 and 4; no batch of 8');
    assert.equal(result.successes, 6);
    assert.match(result.error?.message ?? '', /quota/);
  });
});

describe('ControllerExpectations', () => {
  it('is satisfied once every expected creation and deletion was observed, each deletion once', () => {
    const e = new ControllerExpectations(new FakeClock());
    assert.equal(e.satisfied('ns/rs'), true, 'nothing expected yet');
    e.expectCreations('ns/rs', 2);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a'); // seen twice: terminating, then gone
    e.deletionObserved('ns/rs', 'ns/other');
    assert.equal(e.satisfied('ns/rs'), false);
    e.deletionObserved('ns/rs', 'ns/b');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('expires after five minutes, so a lost event cannot wedge a controller', () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations(clock);
    e.expectCreations('ns/rs', 3);
    clock.advance(5 * 60_000);
    assert.equal(e.satisfied('ns/rs'), false);
    clock.advance(1);
    assert.equal(e.satisfied('ns/rs'), true);
    e.delete('ns/rs');
    assert.equal(e.pending('ns/rs'), undefined);
  });
});
