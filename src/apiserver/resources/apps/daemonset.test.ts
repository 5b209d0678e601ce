import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEMPLATE_GENERATION_ANNOTATION } from './daemonset.ts';
import { create, edit, type Loose, podTemplate, update } from './testing.ts';

const DS = 'apps/daemonsets';
const CR = 'apps/controllerrevisions';

function ds(spec: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }), ...spec },
  };
}

const errorsOf = (spec: Record<string, unknown>) => create(DS, ds(spec)).errors;

describe('DaemonSet defaults', () => {
  it('fills a 1/0 rolling update, the history limit and pod defaults, and template generation 1', () => {
    const { obj, errors } = create(DS, ds());
    assert.deepEqual(errors, []);
    const spec = obj.spec as Loose;
    assert.deepEqual(spec.updateStrategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(spec.template.spec.restartPolicy, 'Always');
    assert.equal(obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');
    assert.deepEqual(obj.status, {});
  });
});

describe('DaemonSet validation', () => {
  it('needs a selector matching the template', () => {
    assert.deepEqual(errorsOf({ selector: undefined }), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"agent"}: `selector` does not match template `labels`',
    ]);
  });

  it('rejects an empty selector', () => {
    assert.deepEqual(errorsOf({ selector: {} }), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for daemonset',
    ]);
  });

  it('wants exactly one of maxUnavailable and maxSurge non-zero', () => {
    assert.deepEqual(
      errorsOf({
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } },
      }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'],
    );
    assert.deepEqual(
      errorsOf({
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } },
      }),
      [
        'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"10%"}: may not be set when maxUnavailable is non-zero',
      ],
    );
  });

  it('checks the update strategy type', () => {
    assert.deepEqual(errorsOf({ updateStrategy: { type: 'Surge' } }), [
      'spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:"Surge", RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "RollingUpdate", "OnDelete"',
    ]);
  });

  it('wants restartPolicy Always, no activeDeadlineSeconds, and non-negative counts', () => {
    assert.deepEqual(
      errorsOf({
        template: podTemplate({ app: 'agent' }, { restartPolicy: 'Never', activeDeadlineSeconds: 3 }),
        minReadySeconds: -1,
        revisionHistoryLimit: -1,
      }),
      [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported',
        'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0',
        'spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
      ],
    );
  });
});

describe('DaemonSet updates', () => {
  const base = create(DS, ds()).obj;

  it('bumps the template generation only when the template changes', () => {
    const same = update(
      DS,
      base,
      edit(base, (x) => {
        x.spec.minReadySeconds = 3;
      }),
    );
    assert.equal(same.obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');
    const changed = update(
      DS,
      base,
      edit(base, (x) => {
        x.spec.template.spec.containers[0].image = 'v2';
      }),
    );
    assert.deepEqual(changed.errors, []);
    assert.equal(changed.obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '2');
  });

  it('compares templates after defaulting', () => {
    const next = edit(base, (x) => {
      delete x.spec.template.spec.restartPolicy;
      delete x.spec.template.spec.dnsPolicy;
    });
    assert.equal(update(DS, base, next).obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');
  });

  it('makes the selector immutable', () => {
    const next = edit(base, (x) => {
      x.spec.selector = { matchLabels: { app: 'agent', v: '2' } };
      x.spec.template.metadata.labels.v = '2';
    });
    assert.deepEqual(update(DS, base, next).errors, [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"agent", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  it('checks status counters', () => {
    const next = edit(base, (x) => {
      x.status = { numberReady: -1 };
    });
    assert.deepEqual(update(DS, base, next, 'status').errors, [
      'status.numberReady: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});

describe('ControllerRevision', () => {
  it('requires data and a non-negative revision', () => {
    assert.deepEqual(create(CR, { metadata: { name: 'r' }, revision: -1 }).errors, [
      'data: Required value: data is mandatory',
      'revision: Invalid value: -1: must be greater than or equal to 0',
    ]);
    assert.deepEqual(create(CR, { metadata: { name: 'r' }, revision: 1, data: { spec: {} } }).errors, []);
  });

  it('makes data immutable', () => {
    const base = create(CR, { metadata: { name: 'r' }, revision: 1, data: { a: 1 } }).obj;
    assert.deepEqual(
      update(
        CR,
        base,
        edit(base, (x) => {
          x.revision = 2;
        }),
      ).errors,
      [],
    );
    assert.deepEqual(
      update(
        CR,
        base,
        edit(base, (x) => {
          x.data = { a: 2 };
        }),
      ).errors,
      ['data: Invalid value: {"a":2}: field is immutable'],
    );
  });
});
