import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import { Nominator } from '../nominator.ts';
import { FakeCluster, makeNode, makePod } from '../testing.ts';
import type { Pod } from '../types.ts';
import { CycleState } from './cycle_state.ts';
import type { Plugin, PluginFactory } from './interface.ts';
import type { NodeInfo } from './nodeinfo.ts';
import { podInfoOf } from './podinfo.ts';
import { Framework, type PluginSpec } from './runtime.ts';
import { Snapshot } from './snapshot.ts';
import { Code, Status } from './status.ts';

function framework(
  plugins: Record<string, Plugin>,
  specs: PluginSpec[],
  nominator = new Nominator(),
): Framework {
  const registry: Record<string, PluginFactory> = {};
  for (const [name, p] of Object.entries(plugins)) registry[name] = () => p;
  return new Framework({
    profile: { schedulerName: 'default-scheduler', plugins: specs },
    registry,
    client: new FakeCluster().client,
    clock: new FakeClock(),
    logger: silentLogger,
    nominator,
  });
}

const node = (name: string) => Snapshot.of([makeNode(name)]).get(name)!;

describe('Framework', () => {
  it('runs Filters in order and reports the first rejection with its plugin', () => {
    const calls: string[] = [];
    const fw = framework(
      {
        A: {
          name: 'A',
          filter: () => {
            calls.push('A');
            return undefined;
          },
        } as Plugin,
        B: {
          name: 'B',
          filter: () => {
            calls.push('B');
            return Status.unschedulable('no B');
          },
        } as Plugin,
        C: {
          name: 'C',
          filter: () => {
            calls.push('C');
            return Status.unschedulable('no C');
          },
        } as Plugin,
      },
      [{ name: 'A' }, { name: 'B' }, { name: 'C' }],
    );
    const s = fw.runFilterPlugins(new CycleState(), makePod('p'), node('n'));
    assert.deepEqual(calls, ['A', 'B']);
    assert.equal(s?.plugin, 'B');
    assert.equal(s?.message(), 'no B');
  });

  it('wraps Filter errors and exceptions as Error statuses', () => {
    const fw = framework(
      {
        X: {
          name: 'X',
          filter: () => {
            throw new Error('boom');
          },
        } as unknown as Plugin,
      },
      [{ name: 'X' }],
    );
    const s = fw.runFilterPlugins(new CycleState(), makePod('p'), node('n'));
    assert.equal(s?.code, Code.Error);
    assert.equal(s?.message(), 'running "X" filter plugin: boom');
  });

  it('skips the Filter of a plugin whose PreFilter returned Skip', () => {
    let filtered = false;
    const fw = framework(
      {
        S: {
          name: 'S',
          preFilter: () => ({ status: Status.skip() }),
          filter: () => {
            filtered = true;
            return Status.unschedulable('x');
          },
        } as Plugin,
      },
      [{ name: 'S' }],
    );
    const state = new CycleState();
    fw.runPreFilterPlugins(state, makePod('p'), []);
    assert.equal(fw.runFilterPlugins(state, makePod('p'), node('n')), undefined);
    assert.equal(filtered, false);
  });

  it('intersects PreFilter node names and rejects when nothing is left', () => {
    const fw = framework(
      {
        A: { name: 'A', preFilter: () => ({ result: { nodeNames: new Set(['a', 'b']) } }) } as Plugin,
        B: { name: 'B', preFilter: () => ({ result: { nodeNames: new Set(['b', 'c']) } }) } as Plugin,
        C: { name: 'C', preFilter: () => ({ result: { nodeNames: new Set(['c']) } }) } as Plugin,
      },
      [{ name: 'A' }, { name: 'B' }],
    );
    const r = fw.runPreFilterPlugins(new CycleState(), makePod('p'), []);
    assert.deepEqual([...r.result!.nodeNames], ['b']);
    const fw2 = framework(
      {
        A: { name: 'A', preFilter: () => ({ result: { nodeNames: new Set(['a']) } }) } as Plugin,
        C: { name: 'C', preFilter: () => ({ result: { nodeNames: new Set(['c']) } }) } as Plugin,
      },
      [{ name: 'A' }, { name: 'C' }],
    );
    const r2 = fw2.runPreFilterPlugins(new CycleState(), makePod('p'), []);
    assert.equal(r2.status?.code, Code.UnschedulableAndUnresolvable);
    assert.equal(r2.status?.message(), "node(s) didn't satisfy plugin(s) [A C] simultaneously");
  });

  it('weights normalized scores and rejects scores outside [0, 100]', () => {
    const nodes = Snapshot.of([makeNode('a'), makeNode('b')]).list();
    const fw = framework(
      {
        S1: {
          name: 'S1',
          score: (_s: CycleState, _p: Pod, ni: NodeInfo) => (ni.name === 'a' ? 5 : 10),
          normalizeScore: (_s: CycleState, _p: Pod, scores: { score: number }[]) => {
            for (const sc of scores) sc.score *= 10;
            return undefined;
          },
        } as Plugin,
        S2: { name: 'S2', score: () => 50 } as Plugin,
      },
      [
        { name: 'S1', weight: 2 },
        { name: 'S2', weight: 3 },
      ],
    );
    const r = fw.runScorePlugins(new CycleState(), makePod('p'), nodes);
    assert.ok(Array.isArray(r));
    assert.deepEqual(
      r.map((x) => [x.nodeInfo.name, x.total]),
      [
        ['a', 250],
        ['b', 350],
      ],
    );
    const bad = framework({ B: { name: 'B', score: () => 101 } as Plugin }, [{ name: 'B' }]);
    const r2 = bad.runScorePlugins(new CycleState(), makePod('p'), nodes);
    assert.ok(r2 instanceof Status);
    assert.match(r2.message(), /invalid score 101/);
  });

  it('filters with higher-priority nominated pods counted, then without them', () => {
    const nominator = new Nominator();
    const seen: number[] = [];
    const fw = framework(
      {
        F: {
          name: 'F',
          filter: (_s: CycleState, _p: Pod, ni: NodeInfo) => {
            seen.push(ni.pods.length);
            return undefined;
          },
        } as Plugin,
      },
      [{ name: 'F' }],
      nominator,
    );
    const ni = node('n');
    nominator.addNominatedPod(podInfoOf(makePod('hi', { priority: 10 })), 'n');
    nominator.addNominatedPod(podInfoOf(makePod('lo', { priority: 1 })), 'n');
    fw.runFilterPluginsWithNominatedPods(new CycleState(), makePod('p', { priority: 5 }), ni);
    assert.deepEqual(seen, [1, 0]);
    assert.equal(ni.pods.length, 0, 'the snapshot NodeInfo is untouched');
  });

  it('runs Bind plugins until one does not Skip, and Unreserve in reverse order', async () => {
    const order: string[] = [];
    const fw = framework(
      {
        B1: { name: 'B1', bind: async () => Status.skip() } as Plugin,
        B2: {
          name: 'B2',
          bind: async () => {
            order.push('B2');
            return undefined;
          },
        } as Plugin,
        R1: { name: 'R1', reserve: () => undefined, unreserve: () => order.push('R1') } as Plugin,
        R2: { name: 'R2', reserve: () => undefined, unreserve: () => order.push('R2') } as Plugin,
      },
      [{ name: 'B1' }, { name: 'B2' }, { name: 'R1' }, { name: 'R2' }],
    );
    assert.equal(await fw.runBindPlugins(new CycleState(), makePod('p'), 'n'), undefined);
    fw.runReservePluginsUnreserve(new CycleState(), makePod('p'), 'n');
    assert.deepEqual(order, ['B2', 'R2', 'R1']);
  });

  it('holds a pod at Permit until allowed, or rejects it on timeout', async () => {
    const clock = new FakeClock();
    const fw = new Framework({
      profile: { schedulerName: 'x', plugins: [{ name: 'P' }] },
      registry: {
        P: () => ({ name: 'P', permit: () => ({ status: Status.wait(), timeoutMs: 1000 }) }) as Plugin,
      },
      client: new FakeCluster().client,
      clock,
      logger: silentLogger,
      nominator: new Nominator(),
    });
    const p1 = makePod('p1');
    assert.equal(fw.runPermitPlugins(new CycleState(), p1, 'n')?.code, Code.Wait);
    const w1 = fw.waitOnPermit(p1);
    fw.getWaitingPod(p1.metadata.uid!)!.allow('P');
    assert.equal(await w1, undefined);
    const p2 = makePod('p2');
    fw.runPermitPlugins(new CycleState(), p2, 'n');
    const w2 = fw.waitOnPermit(p2);
    clock.advance(1000);
    const s = await w2;
    assert.equal(s?.code, Code.Unschedulable);
    assert.match(s!.message(), /rejected due to timeout after waiting 1s/);
  });
});
