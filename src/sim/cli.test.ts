/** `skiff sim` (src/cli/sim.ts): flag parsing, and a short run against a real API server. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import { parseLabels, parseTaints, runSim } from '../cli/sim.ts';
import { LEASES, NODES } from '../client/resources.ts';
import { HttpRestClient } from '../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../client/testing.ts';

describe('skiff sim flags', () => {
  it('parses labels and taints as kubectl writes them', () => {
    assert.deepEqual(parseLabels('a=1, b.io/x=y,c='), { a: '1', 'b.io/x': 'y', c: '' });
    assert.throws(() => parseLabels('novalue'), /key=value/);
    assert.deepEqual(parseTaints('dedicated=gpu:NoSchedule,spot:PreferNoSchedule'), [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
    assert.throws(() => parseTaints('k=v'), /effect/);
    assert.throws(() => parseTaints('k=v:Sometimes'), /effect/);
  });
});

describe('skiff sim (real API server)', () => {
  let server: TestApiServer;
  let dir: string;
  before(async () => {
    server = await startTestApiServer();
    dir = mkdtempSync(join(tmpdir(), 'skiff-sim-cli-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the nodes with the flags given and stops on SIGTERM', async () => {
    const kubeconfig = join(dir, 'kubeconfig.yaml');
    const { server: url, ca, cert, key } = server.config;
    writeKubeconfig(kubeconfig, { server: url, ca: ca ?? '', cert: cert ?? '', key: key ?? '' });
    const prevLevel = process.env.SKIFF_LOG_LEVEL;
    process.env.SKIFF_LOG_LEVEL = 'silent';
    const run = runSim([
      '--kubeconfig',
      kubeconfig,
      '--nodes',
      '3',
      '--name-prefix',
      'cli-',
      '--labels',
      'pool=x',
      '--taints',
      'sim=1:NoSchedule',
      '--cpu',
      '8',
      '--fail',
      'cli-2',
    ]);
    const client = new HttpRestClient(server.config);
    try {
      await eventually(
        async () => (await client.list(LEASES, 'kube-node-lease')).items.length === 3,
        '3 leases',
      );
      const nodes = (await client.list(NODES, '')).items;
      assert.deepEqual(
        nodes.map((n) => n.metadata.name),
        ['cli-0', 'cli-1', 'cli-2'],
      );
      const n = nodes[0]!;
      assert.equal(n.metadata.labels?.pool, 'x');
      assert.deepEqual((n.spec as { taints?: unknown }).taints, [
        { key: 'sim', value: '1', effect: 'NoSchedule' },
      ]);
      assert.equal((n.status as { capacity: { cpu: string } }).capacity.cpu, '8');
    } finally {
      process.emit('SIGTERM');
      client.close();
      if (prevLevel === undefined) delete process.env.SKIFF_LOG_LEVEL;
      else process.env.SKIFF_LOG_LEVEL = prevLevel;
    }
    assert.equal(await run, 0);
  });
});
