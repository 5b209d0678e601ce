import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../object.ts';
import {
  type ApplyOptions,
  applyObject,
  LAST_APPLIED_ANNOTATION,
  resetFieldsFor,
  updateManagedFields,
} from './fieldmanager.ts';
import { builtinSchema, crdSchema } from './schema.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';
const T2 = '2026-01-01T00:02:00Z';

const cmSchema = builtinSchema('v1', 'ConfigMap')!;
const deploySchema = builtinSchema('apps/v1', 'Deployment')!;

function cm(data: Record<string, string>, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'default' },
    data,
    ...extra,
  };
}

function apply(
  live: KubeObject | null,
  obj: object,
  manager: string,
  more: Partial<ApplyOptions> = {},
): KubeObject {
  const out = applyObject(live, obj, {
    manager,
    force: false,
    apiVersion: 'v1',
    schema: cmSchema,
    now: T0,
    ...more,
  });
  out.metadata.uid ??= 'uid-1';
  return out;
}

function update(
  old: KubeObject | null,
  next: KubeObject,
  manager: string,
  now = T1,
  subresource?: string,
): KubeObject {
  updateManagedFields(old, next, {
    manager,
    operation: 'Update',
    apiVersion: 'v1',
    schema: cmSchema,
    now,
    ...(subresource ? { subresource } : {}),
  });
  return next;
}

type ConfigMapLike = KubeObject & { data: Record<string, string> };

function edit(obj: KubeObject, f: (o: ConfigMapLike) => void): KubeObject {
  const copy = structuredClone(obj) as ConfigMapLike;
  f(copy);
  return copy;
}

/** The value at a path of keys and indexes. */
function at(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const k of path) cur = (cur as Record<string | number, unknown>)[k];
  return cur;
}

/** Manager name → its fieldsV1, for compact assertions. */
function owners(obj: KubeObject): Record<string, unknown> {
  return Object.fromEntries(
    (obj.metadata.managedFields ?? []).map((e) => [
      `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`,
      e.fieldsV1,
    ]),
  );
}

function catchApi(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected an ApiError');
}

describe('apply', () => {
  it('creates the object from the configuration and records an Apply entry exactly as Kubernetes writes it', () => {
    const obj = applyObject(null, cm({ key: 'value' }), {
      manager: 'kubectl',
      force: false,
      apiVersion: 'v1',
      schema: cmSchema,
      now: T0,
    });
    assert.deepEqual(obj, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'cm',
        namespace: 'default',
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Apply',
            apiVersion: 'v1',
            time: T0,
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:data': { 'f:key': {} } },
          },
        ],
      },
      data: { key: 'value' },
    });
    assert.equal(
      JSON.stringify(obj.metadata.managedFields),
      '[{"manager":"kubectl","operation":"Apply","apiVersion":"v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:key":{}}}}]',
    );
  });

  it('removes a field the manager applied before and no longer applies', () => {
    const v1 = apply(null, cm({ a: '1', b: '2' }), 'kubectl');
    const v2 = apply(v1, cm({ a: '1' }), 'kubectl', { now: T1 });
    assert.deepEqual(v2.data, { a: '1' });
    assert.deepEqual(owners(v2), { 'kubectl/Apply': { 'f:data': { 'f:a': {} } } });
  });

  it('shares a field applied with the same value; the field stays while another manager owns it', () => {
    const v1 = apply(null, cm({ shared: 'x', mine: '1' }), 'alice');
    const v2 = apply(v1, cm({ shared: 'x', theirs: '2' }), 'bob');
    assert.deepEqual(owners(v2), {
      'alice/Apply': { 'f:data': { 'f:mine': {}, 'f:shared': {} } },
      'bob/Apply': { 'f:data': { 'f:shared': {}, 'f:theirs': {} } },
    });
    const v3 = apply(v2, cm({ mine: '1' }), 'alice');
    assert.deepEqual(v3.data, { shared: 'x', mine: '1', theirs: '2' });
    assert.deepEqual(owners(v3)['alice/Apply'], { 'f:data': { 'f:mine': {} } });
    const conflict = catchApi(() => apply(v2, cm({ shared: 'y' }), 'alice'));
    assert.equal(conflict.message, 'Apply failed with 1 conflict: conflict with "bob": .data.shared');
  });

  it('rejects a change to a field another manager owns with 409 and the conflict text Kubernetes gives', () => {
    const created = update(null, cm({ key: 'a' }) as KubeObject, 'kubectl-client-side-apply');
    created.metadata.uid = 'uid-1';
    const err = catchApi(() => apply(created, cm({ key: 'b' }), 'kubectl'));
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.key',
    );
    assert.deepEqual(err.toStatus().details, {
      causes: [
        {
          reason: 'FieldManagerConflict',
          message: 'conflict with "kubectl-client-side-apply" using v1',
          field: '.data.key',
        },
      ],
    });
  });

  it('lists several conflicts grouped by manager', () => {
    let obj = apply(null, cm({ a: '1' }), 'alice');
    obj = update(
      obj,
      edit(obj, (o) => Object.assign(o.data, { b: '2', c: '3' })),
      'ctl',
      T1,
      'status',
    );
    const err = catchApi(() => apply(obj, cm({ a: '9', b: '9', c: '9' }), 'bob'));
    assert.equal(
      err.message,
      'Apply failed with 3 conflicts: conflicts with "alice":\n- .data.a\n' +
        'conflicts with "ctl" with subresource "status" using v1:\n- .data.b\n- .data.c',
    );
    assert.equal(err.details?.causes?.length, 3);
  });

  it('with force takes the conflicting fields from their manager', () => {
    const v1 = apply(null, cm({ key: 'a', other: 'o' }), 'alice');
    const v2 = apply(v1, cm({ key: 'b' }), 'bob', { force: true, now: T1 });
    assert.deepEqual(v2.data, { key: 'b', other: 'o' });
    assert.deepEqual(owners(v2), {
      'alice/Apply': { 'f:data': { 'f:other': {} } },
      'bob/Apply': { 'f:data': { 'f:key': {} } },
    });
    // alice re-applying her old configuration now conflicts with bob
    assert.equal(catchApi(() => apply(v2, cm({ key: 'a', other: 'o' }), 'alice')).code, 409);
  });

  it('merges map lists by key with per-item ownership (containers by name)', () => {
    const opts = { apiVersion: 'apps/v1', schema: deploySchema };
    const dep = (containers: object[]) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers } } },
    });
    const v1 = apply(null, dep([{ name: 'app', image: 'app:1' }]), 'alice', opts);
    const v2 = apply(v1, dep([{ name: 'sidecar', image: 'proxy:1' }]), 'bob', opts);
    const spec = (o: KubeObject) => at(o, 'spec', 'template', 'spec', 'containers');
    assert.deepEqual(spec(v2), [
      { name: 'app', image: 'app:1' },
      { name: 'sidecar', image: 'proxy:1' },
    ]);
    assert.deepEqual(owners(v2)['bob/Apply'], {
      'f:spec': {
        'f:template': {
          'f:spec': { 'f:containers': { 'k:{"name":"sidecar"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
    // alice drops her container: it goes, bob's stays
    const v3 = apply(v2, dep([]), 'alice', opts);
    assert.deepEqual(spec(v3), [{ name: 'sidecar', image: 'proxy:1' }]);
    // bob changing alice's image conflicts on that item's field only
    const err = catchApi(() => apply(v2, dep([{ name: 'app', image: 'app:2' }]), 'bob', opts));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "alice": .spec.template.spec.containers[name="app"].image',
    );
  });

  it('merges sets item by item (finalizers)', () => {
    const withFinalizers = (f: string[]) => ({
      ...cm({}),
      metadata: { name: 'cm', namespace: 'default', finalizers: f },
    });
    const v1 = apply(null, withFinalizers(['a.io/x']), 'alice');
    const v2 = apply(v1, withFinalizers(['b.io/y']), 'bob');
    assert.deepEqual(v2.metadata.finalizers, ['a.io/x', 'b.io/y']);
    assert.deepEqual(owners(v2)['bob/Apply'], { 'f:metadata': { 'f:finalizers': { 'v:"b.io/y"': {} } } });
    const v3 = apply(v2, withFinalizers([]), 'alice');
    assert.deepEqual(v3.metadata.finalizers, ['b.io/y']);
  });

  it('replaces atomic lists whole and owns them as one field', () => {
    const opts = { apiVersion: 'apps/v1', schema: deploySchema };
    const dep = (args: string[]) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'app', args }] } } },
    });
    const v1 = apply(null, dep(['a', 'b']), 'alice', opts);
    const v2 = apply(v1, dep(['c']), 'alice', opts);
    assert.deepEqual(at(v2, 'spec', 'template', 'spec', 'containers', 0, 'args'), ['c']);
    const item = at(
      owners(v2),
      'alice/Apply',
      'f:spec',
      'f:template',
      'f:spec',
      'f:containers',
      'k:{"name":"app"}',
    );
    assert.deepEqual(item, { '.': {}, 'f:args': {}, 'f:name': {} });
    assert.match(
      catchApi(() => apply(v2, dep(['c', 'd']), 'bob', opts)).message,
      /conflict with "alice": \.spec\.template\.spec\.containers\[name="app"\]\.args$/,
    );
  });

  it('does not update the time of an apply that changes nothing', () => {
    const v1 = apply(null, cm({ a: '1' }), 'alice');
    const v2 = apply(v1, cm({ a: '1' }), 'alice', { now: T2 });
    assert.equal(v2.metadata.managedFields?.[0]?.time, T0);
  });

  it('gives the fields of an object without managed fields to "before-first-apply"', () => {
    const legacy = {
      ...cm({ old: 'x', key: 'a' }),
      metadata: { name: 'cm', namespace: 'default', uid: 'u' },
    } as KubeObject;
    const err = catchApi(() => apply(legacy, cm({ key: 'b' }), 'alice'));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.key',
    );
    const ok = apply(legacy, cm({ key: 'a', more: 'm' }), 'alice');
    assert.deepEqual(owners(ok), {
      'alice/Apply': { 'f:data': { 'f:key': {}, 'f:more': {} } },
      'before-first-apply/Update': { 'f:data': { '.': {}, 'f:key': {}, 'f:old': {} } },
    });
  });

  it('ignores reset fields: status through the main resource is owned by nobody', () => {
    const resetFields = resetFieldsFor({ hasStatusSubresource: true });
    assert.deepEqual(resetFields, [['status']]);
    const obj = apply(null, cm({ a: '1' }, { status: { phase: 'x' } }), 'alice', { resetFields });
    assert.deepEqual(owners(obj), { 'alice/Apply': { 'f:data': { 'f:a': {} } } });
  });

  it('treats duplicate keys in the configuration as Kubernetes does (500) and checks the kind and managedFields', () => {
    const dup = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns' },
      spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } },
    };
    const err = catchApi(() => apply(null, dup, 'x', { apiVersion: 'apps/v1', schema: deploySchema }));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      'failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]',
    );
    const wrongKind = catchApi(() => apply(null, { ...cm({}), kind: 'Secret' }, 'x', { kind: 'ConfigMap' }));
    assert.equal(wrongKind.message, 'invalid object type: /v1, Kind=Secret');
    const mf = catchApi(() => apply(null, { ...cm({}), metadata: { name: 'cm', managedFields: [] } }, 'x'));
    assert.equal(mf.message, 'metadata.managedFields must be nil');
  });

  it('lets kubectl take over fields client-side apply set and keeps last-applied-configuration in sync', () => {
    const csa = cm({ key: 'a' }) as KubeObject;
    csa.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(cm({ key: 'a' })) };
    const created = update(null, csa, 'kubectl-client-side-apply');
    created.metadata.uid = 'uid-1';
    const next = apply(created, cm({ key: 'b' }), 'kubectl');
    assert.deepEqual(next.data, { key: 'b' });
    assert.equal(
      next.metadata.annotations?.[LAST_APPLIED_ANNOTATION],
      '{"apiVersion":"v1","data":{"key":"b"},"kind":"ConfigMap","metadata":{"name":"cm","namespace":"default"}}\n',
    );
    assert.deepEqual(owners(next)['kubectl/Apply'], { 'f:data': { 'f:key': {} } });
    // another manager name gets the conflict
    assert.equal(catchApi(() => apply(created, cm({ key: 'b' }), 'other')).code, 409);
  });
});

describe('apply: ownership transfer and special values', () => {
  const opts = { apiVersion: 'apps/v1', schema: deploySchema };
  const dep = (spec: object) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec,
  });

  it('leaves a field another manager took (an autoscaler) when the applier drops it', () => {
    const v1 = apply(null, dep({ replicas: 2, paused: false }), 'kubectl', opts);
    const hpa = edit(v1, (o) => {
      (o.spec as { replicas: number }).replicas = 5;
    });
    updateManagedFields(v1, hpa, {
      manager: 'hpa',
      operation: 'Update',
      apiVersion: 'apps/v1',
      schema: deploySchema,
      now: T1,
    });
    assert.match(
      catchApi(() => apply(hpa, dep({ replicas: 2, paused: false }), 'kubectl', opts)).message,
      /"hpa" using apps\/v1: \.spec\.replicas$/,
    );
    const v3 = apply(hpa, dep({ paused: false }), 'kubectl', opts);
    assert.deepEqual(v3.spec, { replicas: 5, paused: false });
  });

  it('owns a field set to null and removes it from the object', () => {
    const v1 = apply(null, cm({ a: '1', b: '2' }), 'alice');
    const v2 = apply(v1, { ...cm({ a: '1' }), data: { a: '1', b: null } }, 'alice');
    assert.deepEqual(v2.data, { a: '1' });
    assert.deepEqual(owners(v2), { 'alice/Apply': { 'f:data': { 'f:a': {}, 'f:b': {} } } });
  });

  it('keys service ports by port and protocol, defaulting the protocol', () => {
    const svcSchema = builtinSchema('v1', 'Service')!;
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80 }] },
    };
    const obj = apply(null, svc, 'kubectl', { schema: svcSchema });
    assert.deepEqual(owners(obj)['kubectl/Apply'], {
      'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } },
    });
  });

  it('records a new manager that changes nothing without a time, as Kubernetes does', () => {
    const v1 = apply(null, cm({ a: '1' }), 'alice');
    const v2 = apply(v1, cm({ a: '1' }), 'bob', { now: T1 });
    const bob = v2.metadata.managedFields?.find((e) => e.manager === 'bob');
    assert.deepEqual(bob, {
      manager: 'bob',
      operation: 'Apply',
      apiVersion: 'v1',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:data': { 'f:a': {} } },
    });
  });

  it('through the status subresource owns status only', () => {
    const v1 = apply(null, dep({ replicas: 1 }), 'alice', opts);
    const v2 = apply(v1, { ...dep({ replicas: 3 }), status: { replicas: 1 } }, 'ctl', {
      ...opts,
      subresource: 'status',
      resetFields: resetFieldsFor({ subresource: 'status', hasStatusSubresource: true }),
    });
    const entry = v2.metadata.managedFields?.find((e) => e.manager === 'ctl');
    assert.equal(entry?.subresource, 'status');
    assert.deepEqual(entry?.fieldsV1, { 'f:status': { 'f:replicas': {} } });
  });
});

describe('updateManagedFields', () => {
  it('records a create as an Update entry; a later update moves the fields it changes', () => {
    const created = update(null, cm({ a: '1', b: '2' }) as KubeObject, 'kubectl-create', T0);
    created.metadata.uid = 'uid-1';
    assert.deepEqual(created.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } },
      },
    ]);
    const edited = update(
      created,
      edit(created, (o) => {
        o.data.b = '3';
        delete o.data.a;
      }),
      'kubectl-edit',
      T1,
    );
    assert.deepEqual(owners(edited), {
      'kubectl-create/Update': { 'f:data': {} },
      'kubectl-edit/Update': { 'f:data': { 'f:b': {} } },
    });
    const noop = update(
      edited,
      edit(edited, () => {}),
      'someone',
      T2,
    );
    assert.deepEqual(noop.metadata.managedFields, edited.metadata.managedFields);
  });

  it('moves ownership of fields an Update changes away from an applier', () => {
    const applied = apply(null, cm({ a: '1', b: '2' }), 'kubectl');
    const edited = update(
      applied,
      edit(applied, (o) => {
        o.data.a = 'x';
      }),
      'kubectl-edit',
      T1,
    );
    assert.deepEqual(owners(edited), {
      'kubectl/Apply': { 'f:data': { 'f:b': {} } },
      'kubectl-edit/Update': { 'f:data': { 'f:a': {} } },
    });
    assert.deepEqual(
      edited.metadata.managedFields?.map((e) => e.manager),
      ['kubectl', 'kubectl-edit'],
      'Apply entries sort before Update entries',
    );
    // the applier no longer owns a: applying without it leaves it alone
    const reapplied = apply(edited, cm({ b: '2' }), 'kubectl');
    assert.deepEqual(reapplied.data, { a: 'x', b: '2' });
  });

  it('drops entries left empty and keeps a subresource writer apart', () => {
    const applied = apply(null, cm({ a: '1' }), 'alice');
    const viaStatus = update(
      applied,
      edit(applied, (o) => {
        o.data.a = '2';
      }),
      'alice',
      T1,
      'status',
    );
    assert.deepEqual(viaStatus.metadata.managedFields, [
      {
        manager: 'alice',
        operation: 'Update',
        apiVersion: 'v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {} } },
        subresource: 'status',
      },
    ]);
  });

  it('does not start tracking an existing object that has no managed fields; [] clears them', () => {
    const legacy = { ...cm({ a: '1' }), metadata: { name: 'cm', uid: 'u' } } as KubeObject;
    const next = update(
      legacy,
      edit(legacy, (o) => {
        o.data.a = '2';
      }),
      'x',
    );
    assert.equal(next.metadata.managedFields, undefined);
    const applied = apply(null, cm({ a: '1' }), 'alice');
    const cleared = update(
      applied,
      edit(applied, (o) => {
        o.metadata.managedFields = [];
      }),
      'x',
    );
    assert.equal(cleared.metadata.managedFields, undefined);
  });

  it('takes managed fields the client sends, unless through a subresource', () => {
    const applied = apply(null, cm({ a: '1' }), 'alice');
    const sent = edit(applied, (o) => {
      (o.metadata.managedFields?.[0] ?? {}).manager = 'renamed';
    });
    assert.deepEqual(Object.keys(owners(update(applied, structuredClone(sent), 'x'))), ['renamed/Apply']);
    assert.deepEqual(Object.keys(owners(update(applied, structuredClone(sent), 'x', T1, 'status'))), [
      'alice/Apply',
    ]);
  });

  it('merges the oldest of more than ten Update entries into "ancient-changes"', () => {
    let obj = update(null, cm({}) as KubeObject, 'init', T0);
    obj.metadata.uid = 'uid-1';
    for (let i = 0; i < 12; i++) {
      const t = `2026-01-01T00:00:${String(10 + i).padStart(2, '0')}Z`;
      obj = update(
        obj,
        edit(obj, (o) => {
          o.data[`k${i}`] = 'v';
        }),
        `m${i}`,
        t,
      );
    }
    const managers = (obj.metadata.managedFields ?? []).map((e) => e.manager);
    assert.equal(managers.length, 10);
    assert.equal(managers[0], 'ancient-changes');
    assert.deepEqual(owners(obj)['ancient-changes/Update'], {
      'f:data': { '.': {}, 'f:k0': {}, 'f:k1': {}, 'f:k2': {} },
    });
  });
});

describe('custom resources', () => {
  const schema = crdSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } },
          },
          hosts: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  });
  const cr = (spec: object) => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w' },
    spec,
  });

  it('merge map lists by their keys and replace lists without a list type', () => {
    const opts = { apiVersion: 'example.com/v1', schema };
    const v1 = apply(null, cr({ ports: [{ name: 'http', port: 80 }], hosts: ['a'] }), 'alice', opts);
    const v2 = apply(v1, cr({ ports: [{ name: 'grpc', port: 90 }] }), 'bob', opts);
    assert.deepEqual(v2.spec, {
      ports: [
        { name: 'http', port: 80 },
        { name: 'grpc', port: 90 },
      ],
      hosts: ['a'],
    });
    const v3 = apply(v2, cr({ hosts: ['b'] }), 'alice', { ...opts, force: true });
    assert.deepEqual(v3.spec, { ports: [{ name: 'grpc', port: 90 }], hosts: ['b'] });
  });
});
