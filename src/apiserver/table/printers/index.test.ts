import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../object.ts';
import { defaultPrinter, toTable } from '../table.ts';
import { builtinPrinters, crdPrinter } from './index.ts';
import { MINUTE, NOW, obj } from './testing.ts';

describe('builtinPrinters', () => {
  const printers = builtinPrinters();

  it('keys printers by group/resource, the core group empty', () => {
    for (const key of [
      '/pods',
      '/services',
      '/nodes',
      '/namespaces',
      '/events',
      '/configmaps',
      '/secrets',
      '/serviceaccounts',
      '/persistentvolumes',
      '/persistentvolumeclaims',
      '/endpoints',
      '/resourcequotas',
      '/podtemplates',
      'apps/deployments',
      'apps/replicasets',
      'apps/statefulsets',
      'apps/daemonsets',
      'apps/controllerrevisions',
      'batch/jobs',
      'batch/cronjobs',
      'events.k8s.io/events',
      'discovery.k8s.io/endpointslices',
      'coordination.k8s.io/leases',
      'scheduling.k8s.io/priorityclasses',
      'policy/poddisruptionbudgets',
      'storage.k8s.io/storageclasses',
      'rbac.authorization.k8s.io/rolebindings',
      'rbac.authorization.k8s.io/clusterrolebindings',
    ]) {
      assert.ok(printers.has(key), key);
      assert.notEqual(printers.get(key), defaultPrinter, key);
    }
  });

  it('gives kinds Kubernetes has no printer for the default NAME / CREATED AT table', () => {
    for (const key of [
      '/limitranges',
      'rbac.authorization.k8s.io/roles',
      'rbac.authorization.k8s.io/clusterroles',
      'apiextensions.k8s.io/customresourcedefinitions',
    ]) {
      assert.equal(printers.get(key), defaultPrinter, key);
    }
  });

  it('returns a fresh map each call', () => {
    assert.notEqual(builtinPrinters(), printers);
  });

  it('prints one cell per column for any object, even an empty one', () => {
    const empty: KubeObject = { metadata: {} };
    const odd = {
      metadata: { name: 'x' },
      spec: [],
      status: 'broken',
      data: 7,
      subsets: {},
      roleRef: null,
    } as unknown as KubeObject;
    for (const [key, printer] of printers) {
      for (const o of [empty, odd, obj('named', MINUTE)]) {
        const cells = printer.row(o, NOW);
        assert.equal(cells.length, printer.columns.length, key);
      }
      for (const c of printer.columns) {
        assert.ok(c.name !== '' && c.description !== '', `${key} ${c.name}`);
        assert.ok(c.priority === 0 || c.priority === 1, `${key} ${c.name}`);
      }
    }
  });

  it('builds a meta.k8s.io Table with a printer', () => {
    const ns = obj('default', 5 * MINUTE, { status: { phase: 'Active' } });
    const table = toTable([ns], printers.get('/namespaces') ?? defaultPrinter, { now: NOW, include: 'None' });
    assert.deepEqual(
      table.columnDefinitions.map((c) => c.name),
      ['Name', 'Status', 'Age'],
    );
    assert.deepEqual(table.rows, [{ cells: ['default', 'Active', '5m'] }]);
  });

  it('exports crdPrinter', () => {
    assert.deepEqual(crdPrinter([]).row(obj('cr', MINUTE), NOW), ['cr', '60s']);
  });
});
