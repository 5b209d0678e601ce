/** Leader election against a real API server, with fake clocks moved by the test. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { LeaderElector, type Lease } from './leaderelection.ts';
import { LEASES } from './resources.ts';
import { HttpRestClient } from './rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from './testing.ts';
import type { RestClient } from './types.ts';

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** A RestClient that knows how many calls are in flight, and can be told to fail writes. */
function tracked(inner: RestClient) {
  const state = { inflight: 0, failWrites: false };
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>, write = false) =>
    async (...a: A): Promise<R> => {
      state.inflight++;
      try {
        if (write && state.failWrites) throw new Error('connection refused');
        return await fn(...a);
      } finally {
        state.inflight--;
      }
    };
  const client: RestClient = {
    get: wrap(inner.get.bind(inner)),
    list: wrap(inner.list.bind(inner)),
    watch: inner.watch.bind(inner),
    create: wrap(inner.create.bind(inner), true),
    update: wrap(inner.update.bind(inner), true),
    patch: wrap(inner.patch.bind(inner), true),
    delete: wrap(inner.delete.bind(inner), true),
    createSubresource: wrap(inner.createSubresource.bind(inner), true),
  } as RestClient;
  return { client, state };
}

interface Candidate {
  id: string;
  elector: LeaderElector;
  clock: FakeClock;
  stop: AbortController;
  done: Promise<void>;
  log: string[];
  leading: AbortSignal | null;
}

describe('LeaderElector', () => {
  let srv: TestApiServer;
  let http: HttpRestClient;
  let leaseNo = 0;
  before(async () => {
    srv = await startTestApiServer();
    http = new HttpRestClient(srv.config, { component: 'leader-test' });
  });
  after(async () => {
    http.close();
    await srv.close();
  });

  /** Candidates for one lease; `settle()` waits until every running one is idle, waiting on its clock. */
  function election() {
    const name = `lease-${++leaseNo}`;
    const { client, state } = tracked(http);
    const candidates: Candidate[] = [];
    const running = new Set<Candidate>();
    const settle = () =>
      eventually(
        () => state.inflight === 0 && candidates.every((c) => !running.has(c) || c.clock.pending() === 1),
        'the candidates to settle',
      );
    const add = (id: string, opts: { clock?: FakeClock; releaseOnCancel?: boolean } = {}): Candidate => {
      const c: Candidate = {
        id,
        clock: opts.clock ?? new FakeClock(),
        stop: new AbortController(),
        done: Promise.resolve(),
        log: [],
        leading: null,
        elector: null as unknown as LeaderElector,
      };
      c.elector = new LeaderElector({
        client,
        namespace: 'kube-system',
        name,
        identity: id,
        clock: c.clock,
        retryJitter: 0,
        releaseOnCancel: opts.releaseOnCancel,
        callbacks: {
          onStartedLeading: (signal) => {
            c.leading = signal;
            c.log.push('started');
          },
          onStoppedLeading: () => c.log.push('stopped'),
          onNewLeader: (who) => c.log.push(`leader ${who}`),
        },
      });
      candidates.push(c);
      running.add(c);
      c.done = c.elector.run(c.stop.signal).finally(() => running.delete(c));
      return c;
    };
    /** Moves every candidate's clock forward by `ms`, in retry-period steps, settling after each. */
    const advance = async (ms: number, step = 1000) => {
      for (let t = 0; t < ms; t += step) {
        for (const c of candidates) c.clock.advance(Math.min(step, ms - t));
        await settle();
      }
    };
    const lease = () => http.get<Lease>(LEASES, 'kube-system', name);
    return { add, settle, advance, lease, state };
  }

  it('elects exactly one of two candidates and keeps it while it renews', async () => {
    const e = election();
    const a = e.add('a');
    const b = e.add('b');
    await e.settle();
    const leaders = [a, b].filter((c) => c.elector.isLeader());
    assert.equal(leaders.length, 1);
    const [leader, follower] = leaders[0] === a ? [a, b] : [b, a];
    assert.deepEqual(leader.log, [`leader ${leader.id}`, 'started']);
    // The loser of the create race learns who leads at its next try.
    await e.advance(2000);
    assert.equal(follower.elector.getLeader(), leader.id);
    assert.ok(follower.log.includes(`leader ${leader.id}`));
    const first = (await e.lease()).spec!;
    assert.equal(first.holderIdentity, leader.id);
    assert.equal(first.leaseDurationSeconds, 15);
    assert.equal(first.leaseTransitions, 0);
    assert.match(first.renewTime!, MICRO_TIME);
    assert.match(first.acquireTime!, MICRO_TIME);

    // A minute passes: the leader renews every 2 s, so the follower never sees the lease expire.
    await e.advance(60_000);
    assert.ok(leader.elector.isLeader());
    assert.ok(!follower.elector.isLeader());
    const later = (await e.lease()).spec!;
    assert.equal(later.holderIdentity, leader.id);
    assert.equal(later.acquireTime, first.acquireTime);
    assert.notEqual(later.renewTime, first.renewTime);
    assert.equal(later.leaseTransitions, 0);

    // The leader stops: it releases the lease, and the follower takes over at its next try.
    leader.stop.abort();
    await leader.done;
    assert.deepEqual(leader.log.slice(-1), ['stopped']);
    assert.equal(leader.leading?.aborted, true);
    assert.equal((await e.lease()).spec!.holderIdentity, '');
    await e.advance(2000);
    assert.ok(follower.elector.isLeader());
    const taken = (await e.lease()).spec!;
    assert.equal(taken.holderIdentity, follower.id);
    assert.equal(taken.leaseTransitions, 1);
    assert.equal(taken.leaseDurationSeconds, 15);
    follower.stop.abort();
    await follower.done;
  });

  it('takes over an expired lease, judged by when the candidate saw it change, not by its clock', async () => {
    const e = election();
    const a = e.add('a', { releaseOnCancel: false });
    await e.settle();
    assert.ok(a.elector.isLeader());
    // b's clock is an hour ahead: comparing the lease's renewTime with it would call the lease expired.
    const b = e.add('b', { clock: new FakeClock(Date.UTC(2026, 0, 1) + 3_600_000) });
    await e.settle();
    assert.ok(!b.elector.isLeader(), 'a live lease is not taken, whatever the clocks say');
    // a dies without releasing.
    a.stop.abort();
    await a.done;
    assert.equal((await e.lease()).spec!.holderIdentity, 'a');
    await e.advance(14_000);
    assert.ok(!b.elector.isLeader(), 'not before leaseDuration since b last saw the lease change');
    await e.advance(2_000);
    assert.ok(b.elector.isLeader());
    const spec = (await e.lease()).spec!;
    assert.equal(spec.holderIdentity, 'b');
    assert.equal(spec.leaseTransitions, 1);
    assert.deepEqual(b.log, ['leader a', 'leader b', 'started']);
    b.stop.abort();
    await b.done;
  });

  it('stops leading when it cannot renew within renewDeadline', async () => {
    const e = election();
    const a = e.add('a');
    await e.settle();
    assert.ok(a.elector.isLeader());
    e.state.failWrites = true;
    await e.advance(8_000);
    assert.ok(a.elector.isLeader(), 'still within renewDeadline (10 s)');
    await e.advance(2_000);
    await a.done;
    assert.ok(!a.elector.isLeader());
    assert.equal(a.leading?.aborted, true);
    assert.deepEqual(a.log, ['leader a', 'started', 'stopped']);
  });

  it('stops leading at once when it finds another holder in the lease', async () => {
    const e = election();
    const a = e.add('a');
    await e.settle();
    const lease = await e.lease();
    await http.update(LEASES, 'kube-system', {
      ...lease,
      spec: { ...lease.spec, holderIdentity: 'intruder' },
    });
    await e.advance(2_000);
    await a.done;
    assert.ok(!a.elector.isLeader());
    assert.deepEqual(a.log, ['leader a', 'started', 'leader intruder', 'stopped']);
    assert.equal((await e.lease()).spec!.holderIdentity, 'intruder', 'not released: it was not ours');
  });

  it('checks its timing settings', () => {
    const base = {
      client: http,
      namespace: 'n',
      name: 'l',
      identity: 'x',
      callbacks: { onStartedLeading() {}, onStoppedLeading() {} },
    };
    assert.throws(
      () => new LeaderElector({ ...base, leaseDurationMs: 5000, renewDeadlineMs: 5000 }),
      /leaseDuration/,
    );
    assert.throws(
      () => new LeaderElector({ ...base, renewDeadlineMs: 2000, retryPeriodMs: 2000 }),
      /renewDeadline/,
    );
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
  });
});
