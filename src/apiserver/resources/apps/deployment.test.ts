import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, type Loose, podTemplate, update } from './testing.ts';

const D = 'apps/deployments';
const RS = 'apps/replicasets';

function deployment(spec: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }), ...spec },
  };
}

function errorsOf(spec: Record<string, unknown>, key = D): string[] {
  return create(key, deployment(spec)).errors;
}

describe('Deployment defaults', () => {
  it('fills replicas, a 25%/25% rolling update, history limit, progress deadline and pod defaults', () => {
    const { obj, errors } = create(D, deployment());
    assert.deepEqual(errors, []);
    const spec = obj.spec as Loose;
    assert.equal(spec.replicas, 1);
    assert.deepEqual(spec.strategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
    });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(spec.progressDeadlineSeconds, 600);
    assert.equal(spec.template.spec.restartPolicy, 'Always');
  });

  it('keeps what is set, and gives Recreate no rollingUpdate', () => {
    const spec = create(
      D,
      deployment({ replicas: 0, strategy: { type: 'Recreate' }, revisionHistoryLimit: 0 }),
    ).obj.spec as Loose;
    assert.equal(spec.replicas, 0);
    assert.deepEqual(spec.strategy, { type: 'Recreate' });
    assert.equal(spec.revisionHistoryLimit, 0);
  });

  it('fills a partly given rolling update', () => {
    const spec = create(D, deployment({ strategy: { rollingUpdate: { maxSurge: 1 } } })).obj.spec as Loose;
    assert.deepEqual(spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: '25%' });
  });
});

describe('Deployment validation', () => {
  it('requires a selector, which must then match the template', () => {
    assert.deepEqual(errorsOf({ selector: undefined }), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
  });

  it('rejects an empty selector', () => {
    assert.deepEqual(errorsOf({ selector: {} }), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
  });

  it('reports a selector that does not match the template labels', () => {
    assert.deepEqual(errorsOf({ selector: { matchLabels: { app: 'api' } } }), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
  });

  it('checks the selector itself', () => {
    assert.deepEqual(
      errorsOf({
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: [] }],
        },
      }),
      [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"In", Values:[]string{}}}}: invalid label selector',
      ],
    );
  });

  it('rejects negative replicas, minReadySeconds and revisionHistoryLimit', () => {
    assert.deepEqual(errorsOf({ replicas: -1, minReadySeconds: -2, revisionHistoryLimit: -3 }), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0',
      'spec.revisionHistoryLimit: Invalid value: -3: must be greater than or equal to 0',
    ]);
  });

  it('does not allow maxUnavailable and maxSurge both 0', () => {
    assert.deepEqual(errorsOf({ strategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } } }), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]);
  });

  it('checks percent strings and the 100% limit', () => {
    assert.deepEqual(errorsOf({ strategy: { rollingUpdate: { maxUnavailable: '150%', maxSurge: '25' } } }), [
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"25\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
    ]);
  });

  it('rejects negative ints in a rolling update', () => {
    assert.deepEqual(errorsOf({ strategy: { rollingUpdate: { maxUnavailable: -1, maxSurge: 1 } } }), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  it('forbids rollingUpdate with Recreate', () => {
    assert.deepEqual(errorsOf({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }), [
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]);
  });

  it('rejects an unknown strategy type', () => {
    assert.deepEqual(errorsOf({ strategy: { type: 'BlueGreen' } }), [
      'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"',
    ]);
  });

  it('wants progressDeadlineSeconds above minReadySeconds', () => {
    assert.deepEqual(errorsOf({ minReadySeconds: 600 }), [
      'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds',
    ]);
  });

  it('wants restartPolicy Always and no activeDeadlineSeconds', () => {
    assert.deepEqual(
      errorsOf({
        template: podTemplate({ app: 'web' }, { restartPolicy: 'OnFailure', activeDeadlineSeconds: 5 }),
      }),
      [
        'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
        'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
      ],
    );
  });

  it('validates the pod template through the pod helpers', () => {
    assert.deepEqual(errorsOf({ template: { metadata: { labels: { app: 'web' } } } }), [
      'spec.template.spec.containers: Required value',
    ]);
  });

  it('reports wrong JSON types without crashing', () => {
    assert.deepEqual(
      errorsOf({ replicas: 'two', selector: 5, strategy: { rollingUpdate: { maxSurge: true } } }),
      [
        'spec.replicas: Invalid value: "two": must be of type integer',
        'spec.selector: Invalid value: 5: must be of type object',
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: true: must be of type integer or string',
      ],
    );
    assert.deepEqual(create(D, { metadata: { name: 'x' }, spec: 'nope' }).errors, [
      'spec: Invalid value: "nope": must be of type object',
    ]);
  });
});

describe('Deployment updates', () => {
  const base = create(D, deployment()).obj;

  it('allows spec changes that keep the selector', () => {
    assert.deepEqual(
      update(
        D,
        base,
        edit(base, (x) => {
          x.spec.replicas = 5;
        }),
      ).errors,
      [],
    );
  });

  it('makes the selector immutable', () => {
    const next = edit(base, (x) => {
      x.spec.selector = { matchLabels: { app: 'api' } };
      x.spec.template.metadata.labels = { app: 'api' };
    });
    assert.deepEqual(update(D, base, next).errors, [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"api"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  it('bumps the generation when annotations change', () => {
    const next = edit(base, (x) => {
      x.metadata.annotations = { note: 'x' };
    });
    assert.equal(update(D, base, next).obj.metadata.generation, 2);
    assert.equal(
      update(
        D,
        base,
        edit(base, () => {}),
      ).obj.metadata.generation,
      1,
    );
    const empty = edit(base, (x) => {
      x.metadata.annotations = {};
    });
    assert.equal(update(D, base, empty).obj.metadata.generation, 1);
  });

  it('checks only status through /status', () => {
    const bad = edit(base, (x) => {
      x.spec.replicas = -5;
      x.status = { replicas: 1, readyReplicas: 2, availableReplicas: 1 };
    });
    assert.deepEqual(update(D, base, bad, 'status').errors, [
      'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
    ]);
  });

  it('does not let status.collisionCount go down', () => {
    const old = edit(base, (x) => {
      x.status = { collisionCount: 3 };
    });
    const next = edit(base, (x) => {
      x.status = { collisionCount: 1 };
    });
    assert.deepEqual(update(D, old, next, 'status').errors, [
      'status.collisionCount: Invalid value: 1: cannot be decremented',
    ]);
    const removed = edit(base, (x) => {
      x.status = {};
    });
    assert.deepEqual(update(D, old, removed, 'status').errors, [
      'status.collisionCount: Invalid value: 0: cannot be decremented',
    ]);
  });

  it('checks available against ready replicas', () => {
    const next = edit(base, (x) => {
      x.status = { replicas: 3, readyReplicas: 1, availableReplicas: 2 };
    });
    assert.deepEqual(update(D, base, next, 'status').errors, [
      'status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas',
    ]);
  });
});

describe('ReplicaSet', () => {
  const rs = (spec: Record<string, unknown> = {}) => deployment(spec);

  it('defaults replicas to 1 and the pod template', () => {
    const spec = create(RS, rs()).obj.spec as Loose;
    assert.equal(spec.replicas, 1);
    assert.equal(spec.template.spec.restartPolicy, 'Always');
    assert.equal(spec.strategy, undefined);
  });

  it('uses the deployment wording for an empty selector, as Kubernetes does', () => {
    assert.deepEqual(errorsOf({ selector: { matchLabels: {} } }, RS), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
  });

  it('validates replicas and minReadySeconds', () => {
    assert.deepEqual(errorsOf({ replicas: -1, minReadySeconds: -1 }, RS), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  it('makes the selector immutable', () => {
    const base = create(RS, rs()).obj;
    const next = edit(base, (x) => {
      x.spec.selector.matchLabels.tier = 'a';
      x.spec.template.metadata.labels.tier = 'a';
    });
    assert.match(
      update(RS, base, next).errors[0] ?? '',
      /^spec\.selector: Invalid value: .*: field is immutable$/,
    );
  });

  it('checks status counters', () => {
    const base = create(RS, rs()).obj;
    const next = edit(base, (x) => {
      x.status = { replicas: 1, fullyLabeledReplicas: 2, observedGeneration: -1 };
    });
    assert.deepEqual(update(RS, base, next, 'status').errors, [
      'status.observedGeneration: Invalid value: -1: must be greater than or equal to 0',
      'status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas',
    ]);
  });
});
