/**
 * The real helm (4 and 3, from npm) against a real `skiff server`: install, upgrade, rollback and
 * uninstall of a small chart with a ConfigMap, a Service and a CRD.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestCluster } from '../helpers/cluster.ts';

const CHART = join(import.meta.dirname, '..', 'fixtures', 'charts', 'demo');

for (const [helmVersion, kubectl] of [
  ['4', '1.35'],
  ['3', '1.32'],
] as const) {
  describe(`helm ${helmVersion}`, () => {
    let cluster: TestCluster;
    const helm = async (args: string[]) => {
      const r = await cluster.helm(args, { version: kubectl });
      if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    };
    const get = (args: string[]) => cluster.kubectlOk(args);

    before(async () => {
      cluster = await TestCluster.start();
    });
    after(async () => {
      await cluster?.stop();
    });

    it('installs the chart: CRD, ConfigMap and Service exist, the release is deployed', async () => {
      const out = await helm(['install', 'demo', CHART, '--wait', '--timeout', '60s']);
      assert.match(out, /STATUS: deployed/);
      assert.equal(await get(['get', 'cm', 'demo-config', '-o', 'jsonpath={.data.greeting}']), 'hello');
      assert.match(
        await get(['get', 'svc', 'demo-svc', '-o', 'jsonpath={.spec.clusterIP}']),
        /^10\.43\.\d+\.\d+$/,
      );
      assert.equal(
        await get(['get', 'crd', 'widgets.demo.skiff.dev', '-o', 'name']),
        'customresourcedefinition.apiextensions.k8s.io/widgets.demo.skiff.dev\n',
      );
      const list = JSON.parse(await helm(['list', '-o', 'json'])) as {
        name: string;
        status: string;
        revision: string;
      }[];
      assert.deepEqual(
        list.map((r) => [r.name, r.status, String(r.revision)]),
        [['demo', 'deployed', '1']],
      );
      // helm keeps the release in a Secret.
      assert.match(
        await get(['get', 'secrets', '-l', 'owner=helm', '-o', 'name']),
        /secret\/sh\.helm\.release\.v1\.demo\.v1/,
      );
    });

    it('upgrades with new values, then rolls back', async () => {
      await helm(['upgrade', 'demo', CHART, '--set', 'greeting=bonjour', '--set', 'port=8081', '--wait']);
      assert.equal(await get(['get', 'cm', 'demo-config', '-o', 'jsonpath={.data.greeting}']), 'bonjour');
      assert.equal(await get(['get', 'svc', 'demo-svc', '-o', 'jsonpath={.spec.ports[0].port}']), '8081');
      await helm(['rollback', 'demo', '1', '--wait']);
      assert.equal(await get(['get', 'cm', 'demo-config', '-o', 'jsonpath={.data.greeting}']), 'hello');
      assert.equal(await get(['get', 'svc', 'demo-svc', '-o', 'jsonpath={.spec.ports[0].port}']), '80');
      const history = JSON.parse(await helm(['history', 'demo', '-o', 'json'])) as {
        revision: number;
        status: string;
      }[];
      assert.deepEqual(
        history.map((h) => [h.revision, h.status]),
        [
          [1, 'superseded'],
          [2, 'superseded'],
          [3, 'deployed'],
        ],
      );
    });

    it('uninstalls: the release and its objects are gone (CRDs stay, as helm leaves them)', async () => {
      await helm(['uninstall', 'demo', '--wait']);
      const cm = await cluster.kubectl(['get', 'cm', 'demo-config']);
      assert.match(cm.stderr, /not found/);
      const svc = await cluster.kubectl(['get', 'svc', 'demo-svc']);
      assert.match(svc.stderr, /not found/);
      assert.equal(await get(['get', 'secrets', '-l', 'owner=helm', '-o', 'name']), '');
      assert.ok(await get(['get', 'crd', 'widgets.demo.skiff.dev', '-o', 'name']));
    });
  });
}
