import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RestClient } from '../client/types.ts';
import { FakeClock } from '../util/clock.ts';
import { silentLogger } from '../util/log.ts';
import { EventRecorder } from './events.ts';
import { makePod } from './testing.ts';

function recorder(o: ConstructorParameters<typeof EventRecorder>[5]) {
  const clock = new FakeClock();
  const written: Record<string, unknown>[] = [];
  const client = {
    create: async (_r: unknown, _ns: string, obj: Record<string, unknown>) => {
      written.push(obj);
      return obj;
    },
  } as unknown as RestClient;
  const rec = new EventRecorder(client, clock, silentLogger, 'default-scheduler', 'test', o);
  return { clock, written, rec };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('EventRecorder', () => {
  it('writes in the background, at most burst at once, then qps per second', async () => {
    const { clock, written, rec } = recorder({ qps: 10, burst: 5 });
    for (let i = 0; i < 20; i++) rec.record(makePod(`p-${i}`, {}), 'Normal', 'Scheduled', 'Binding', `m${i}`);
    assert.equal(written.length, 5, 'the burst goes out at once, the rest waits for tokens');
    await settle();
    assert.equal(written.length, 5);
    clock.advance(500);
    await settle();
    assert.equal(written.length, 10);
    clock.advance(1000);
    await settle();
    assert.equal(written.length, 20);
    await rec.flush();
    const e = written[0] as {
      reason: string;
      message: string;
      involvedObject: { name: string };
      count: number;
    };
    assert.equal(e.reason, 'Scheduled');
    assert.equal(e.involvedObject.name, 'p-0');
    assert.equal(e.count, 1);
    assert.deepEqual(
      written.map((w) => (w as { message: string }).message),
      Array.from({ length: 20 }, (_, i) => `m${i}`),
      'in order',
    );
  });

  it('drops events beyond the queue limit', async () => {
    const { clock, written, rec } = recorder({ qps: 1, burst: 1, maxQueued: 3 });
    for (let i = 0; i < 6; i++) rec.record(makePod(`p-${i}`, {}), 'Normal', 'Scheduled', 'Binding', 'm');
    assert.equal(written.length, 1);
    assert.equal(rec.dropped, 2, 'one written, three waiting, two dropped');
    clock.advance(3000);
    await rec.flush();
    assert.equal(written.length, 4);
  });
});
