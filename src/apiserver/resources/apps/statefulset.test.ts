import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, type Loose, podTemplate, update } from './testing.ts';

const STS = 'apps/statefulsets';

function sts(spec: Record<string, unknown> = {}, name = 'db') {
  return {
    metadata: { name },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: podTemplate({ app: 'db' }),
      ...spec,
    },
  };
}

const errorsOf = (spec: Record<string, unknown>, name?: string) => create(STS, sts(spec, name)).errors;

describe('StatefulSet defaults', () => {
  it('fills policy, a partition-0 rolling update, PVC retention, replicas and history limit', () => {
    const { obj, errors } = create(STS, sts());
    assert.deepEqual(errors, []);
    const spec = obj.spec as Loose;
    assert.equal(spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    assert.equal(spec.replicas, 1);
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(spec.template.spec.restartPolicy, 'Always');
  });

  it('leaves an explicit RollingUpdate without rollingUpdate alone', () => {
    const spec = create(STS, sts({ updateStrategy: { type: 'RollingUpdate' } })).obj.spec as Loose;
    assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate' });
  });

  it('types and defaults the volume claim templates as PVCs', () => {
    const spec = create(STS, sts({ volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] })).obj
      .spec as Loose;
    assert.deepEqual(spec.volumeClaimTemplates[0], {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
  });
});

describe('StatefulSet validation', () => {
  it('checks podManagementPolicy', () => {
    assert.deepEqual(errorsOf({ podManagementPolicy: 'Random' }), [
      "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
    ]);
  });

  it('checks the update strategy', () => {
    assert.deepEqual(errorsOf({ updateStrategy: { type: 'Rolling' } }), [
      "spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:\"Rolling\", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or 'OnDelete'",
    ]);
    assert.deepEqual(errorsOf({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }), [
      "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'",
    ]);
    assert.deepEqual(
      errorsOf({
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1, maxUnavailable: 0 } },
      }),
      [
        'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0',
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: cannot be 0',
      ],
    );
  });

  it('checks the PVC retention policy', () => {
    assert.deepEqual(
      errorsOf({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Delete' } }),
      [
        'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
      ],
    );
  });

  it('checks replicas, minReadySeconds and ordinals.start', () => {
    assert.deepEqual(errorsOf({ replicas: -1, minReadySeconds: -1, ordinals: { start: -1 } }), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  it('requires a non-empty selector matching the template', () => {
    assert.deepEqual(errorsOf({ selector: null }), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"db"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(errorsOf({ selector: {} }), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset',
    ]);
  });

  it('checks template labels at spec.template.labels, as Kubernetes reports them', () => {
    assert.deepEqual(
      errorsOf({
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate({ app: 'db', 'a/b/c': 'x' }),
      }),
      [
        "spec.template.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    );
  });

  it('wants restartPolicy Always and no activeDeadlineSeconds', () => {
    assert.deepEqual(
      errorsOf({
        template: podTemplate({ app: 'db' }, { restartPolicy: 'Never', activeDeadlineSeconds: 1 }),
      }),
      [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported',
      ],
    );
  });

  it('wants a DNS label name', () => {
    assert.deepEqual(errorsOf({}, 'db.example'), [
      'metadata.name: Invalid value: "db.example": must not contain dots',
    ]);
  });
});

describe('StatefulSet updates', () => {
  const base = create(STS, sts()).obj;

  it('allows replicas, template, updateStrategy, minReadySeconds, ordinals and PVC retention changes', () => {
    const next = edit(base, (x) => {
      x.spec.replicas = 3;
      x.spec.template.spec.containers[0].image = 'postgres:17';
      x.spec.updateStrategy = { type: 'OnDelete' };
      x.spec.minReadySeconds = 5;
      x.spec.ordinals = { start: 1 };
      x.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Retain' };
    });
    assert.deepEqual(update(STS, base, next).errors, []);
  });

  it('forbids other spec changes', () => {
    const next = edit(base, (x) => {
      x.spec.serviceName = 'other';
    });
    assert.deepEqual(update(STS, base, next).errors, [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  it('does not re-check the name on update', () => {
    const old = create(STS, sts({}, 'db.example')).obj;
    assert.deepEqual(
      update(
        STS,
        old,
        edit(old, (x) => {
          x.spec.replicas = 2;
        }),
      ).errors,
      [],
    );
  });

  it('checks status counters', () => {
    const next = edit(base, (x) => {
      x.status = { replicas: 1, readyReplicas: 1, availableReplicas: 2 };
    });
    assert.deepEqual(update(STS, base, next, 'status').errors, [
      'status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas',
      'status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas',
    ]);
  });
});
