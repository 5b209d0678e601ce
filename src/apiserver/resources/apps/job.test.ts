import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../object.ts';
import { jobPrepareForCreate } from './index.ts';
import { create, edit, type Loose, update } from './testing.ts';

const J = 'batch/jobs';

function job(
  spec: Record<string, unknown> = {},
  podSpec: Record<string, unknown> = {},
  labels?: Record<string, string>,
) {
  return {
    metadata: { name: 'pi' },
    spec: {
      template: {
        ...(labels ? { metadata: { labels } } : {}),
        spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never', ...podSpec },
      },
      ...spec,
    },
  };
}

const errorsOf = (spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}) =>
  create(J, job(spec, podSpec)).errors;

describe('Job defaults and generated selector', () => {
  it('generates the selector and template labels from name and uid, and copies them to the Job', () => {
    const { obj, errors } = create(J, job());
    assert.deepEqual(errors, []);
    const spec = obj.spec as Loose;
    const generated = {
      'job-name': 'pi',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': 'uid-1',
      'batch.kubernetes.io/controller-uid': 'uid-1',
    };
    assert.deepEqual(spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-1' } });
    assert.deepEqual(spec.template.metadata.labels, generated);
    assert.deepEqual(obj.metadata.labels, generated);
    assert.deepEqual(obj.status, {});
  });

  it('fills completions, parallelism, backoffLimit, completionMode, suspend, podReplacementPolicy, manualSelector', () => {
    const spec = create(J, job()).obj.spec as Loose;
    assert.equal(spec.completions, 1);
    assert.equal(spec.parallelism, 1);
    assert.equal(spec.backoffLimit, 6);
    assert.equal(spec.completionMode, 'NonIndexed');
    assert.equal(spec.suspend, false);
    assert.equal(spec.podReplacementPolicy, 'TerminatingOrFailed');
    assert.equal(spec.manualSelector, false);
  });

  it('leaves completions unset when only parallelism is given', () => {
    const spec = create(J, job({ parallelism: 3 })).obj.spec as Loose;
    assert.equal(spec.completions, undefined);
    assert.equal(spec.parallelism, 3);
  });

  it('uses MaxInt32 backoffLimit with backoffLimitPerIndex, and Failed replacement with a pod failure policy', () => {
    const spec = create(
      J,
      job({
        completions: 2,
        completionMode: 'Indexed',
        backoffLimitPerIndex: 1,
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
      }),
    ).obj.spec as Loose;
    assert.equal(spec.backoffLimit, 2147483647);
    assert.equal(spec.podReplacementPolicy, 'Failed');
    assert.equal(spec.podFailurePolicy.rules[0].onPodConditions[0].status, 'True');
  });

  it('keeps the Job labels a user gave', () => {
    const body = job();
    (body.metadata as Loose).labels = { team: 'a' };
    assert.deepEqual(create(J, body).obj.metadata.labels, { team: 'a' });
  });

  it('does not generate anything with manualSelector', () => {
    const { obj, errors } = create(
      J,
      job({ manualSelector: true, selector: { matchLabels: { app: 'pi' } } }, {}, { app: 'pi' }),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual((obj.spec as Loose).template.metadata.labels, { app: 'pi' });
  });

  it('jobPrepareForCreate is exported and total', () => {
    const o = { metadata: { name: 'n', uid: 'u' }, spec: 'weird' } as unknown as KubeObject;
    jobPrepareForCreate(o);
    assert.equal(o.spec, 'weird');
  });
});

describe('Job validation', () => {
  it('requires restartPolicy OnFailure or Never', () => {
    assert.deepEqual(errorsOf({}, { restartPolicy: 'Always' }), [
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
    assert.deepEqual(errorsOf({}, { restartPolicy: 'Sometimes' }), [
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ]);
  });

  it('rejects negative counts', () => {
    assert.deepEqual(
      errorsOf({
        parallelism: -1,
        completions: -1,
        backoffLimit: -1,
        activeDeadlineSeconds: -1,
        ttlSecondsAfterFinished: -1,
      }),
      [
        'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
        'spec.completions: Invalid value: -1: must be greater than or equal to 0',
        'spec.activeDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
        'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
        'spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0',
      ],
    );
  });

  it('rejects a selector that is not the generated one', () => {
    assert.deepEqual(create(J, job({ selector: { matchLabels: { app: 'pi' } } }, {}, { app: 'pi' })).errors, [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"pi", "batch.kubernetes.io/controller-uid":"uid-1"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated',
    ]);
  });

  it('checks user-set generated labels', () => {
    const errors = create(J, job({}, {}, { 'controller-uid': 'other' })).errors;
    assert.deepEqual(errors, [
      'spec.template.metadata.labels[controller-uid]: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"uid-1", "batch.kubernetes.io/job-name":"pi", "controller-uid":"other", "job-name":"pi"}: must be \'uid-1\'',
    ]);
  });

  it('requires a selector with manualSelector', () => {
    assert.deepEqual(create(J, job({ manualSelector: true }, {}, { app: 'pi' })).errors, [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"pi"}: `selector` does not match template `labels`',
    ]);
  });

  it('checks Indexed jobs', () => {
    assert.deepEqual(errorsOf({ completionMode: 'Indexed', completions: null, parallelism: 200000 }), [
      'spec.completions: Required value: when completion mode is Indexed',
      'spec.parallelism: Invalid value: 200000: must be less than or equal to 100000 when completion mode is Indexed',
    ]);
    assert.deepEqual(errorsOf({ completionMode: 'Random' }), [
      'spec.completionMode: Unsupported value: "Random": supported values: "NonIndexed", "Indexed"',
    ]);
    assert.deepEqual(errorsOf({ backoffLimitPerIndex: 1 }), [
      'spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode',
    ]);
    assert.deepEqual(errorsOf({ completionMode: 'Indexed', completions: 3, maxFailedIndexes: 1 }), [
      'spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified',
    ]);
  });

  it('makes room for Indexed pod hostnames', () => {
    const body = job({ completionMode: 'Indexed', completions: 10 });
    body.metadata.name = 'a'.repeat(62);
    assert.deepEqual(create(J, body).errors, [
      `metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-9`,
    ]);
  });

  it('checks the pod failure policy', () => {
    const policy = (rule: Record<string, unknown>) => ({ podFailurePolicy: { rules: [rule] } });
    assert.deepEqual(errorsOf(policy({ action: 'Retry', onExitCodes: { operator: 'In', values: [1] } })), [
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
    ]);
    assert.deepEqual(errorsOf(policy({ action: 'FailJob' })), [
      'spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required',
    ]);
    assert.deepEqual(
      errorsOf(
        policy({ action: 'FailJob', onExitCodes: { operator: 'In', values: [3, 0, 3], containerName: 'x' } }),
      ),
      [
        'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "x": must be one of the container or initContainer names in the pod template',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3',
        'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 0, 3}: must be ordered',
      ],
    );
    assert.deepEqual(
      errorsOf(policy({ action: '', onPodConditions: [{ type: 'DisruptionTarget', status: 'Maybe' }] })),
      [
        'spec.podFailurePolicy.rules[0].action: Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
        'spec.podFailurePolicy.rules[0].onPodConditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      ],
    );
    assert.deepEqual(
      errorsOf(policy({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }), {
        restartPolicy: 'OnFailure',
      }),
      [
        'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
      ],
    );
  });

  it('checks the pod replacement policy', () => {
    assert.deepEqual(errorsOf({ podReplacementPolicy: 'Never' }), [
      'spec.podReplacementPolicy: Unsupported value: "Never": supported values: "Failed", "TerminatingOrFailed"',
    ]);
  });

  it('checks the success policy', () => {
    assert.deepEqual(errorsOf({ successPolicy: { rules: [{ succeededCount: 1 }] } }), [
      'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode',
    ]);
    assert.deepEqual(
      errorsOf({
        completionMode: 'Indexed',
        completions: 3,
        successPolicy: { rules: [{ succeededIndexes: '0-1,5', succeededCount: 4 }] },
      }),
      [
        'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0-1,5": error parsing succeededIndexes: too large index: "5"',
        'spec.successPolicy.rules[0].succeededCount: Invalid value: 4: must be less than or equal to 3 (the number of specified completions)',
        'spec.successPolicy.rules[0].succeededCount: Invalid value: 4: must be less than or equal to 0 (the number of indexes in the specified succeededIndexes field)',
      ],
    );
  });

  it('checks managedBy', () => {
    assert.deepEqual(errorsOf({ managedBy: 'kueue' }), [
      'spec.managedBy: Invalid value: "kueue": must be a domain-prefixed path (such as "acme.io/foo")',
    ]);
    assert.deepEqual(errorsOf({ managedBy: 'kueue.x-k8s.io/multikueue' }), []);
  });
});

describe('Job updates', () => {
  const base = create(J, job()).obj;

  it('allows changing parallelism and suspend', () => {
    const next = edit(base, (x) => {
      x.spec.parallelism = 4;
      x.spec.suspend = true;
    });
    assert.deepEqual(update(J, base, next).errors, []);
  });

  it('makes completions, selector and the template immutable', () => {
    const next = edit(base, (x) => {
      x.spec.completions = 2;
      x.spec.template.spec.containers[0].image = 'perl:2';
    });
    const errors = update(J, base, next).errors;
    assert.equal(errors[0], 'spec.completions: Invalid value: 2: field is immutable');
    assert.match(errors[1] ?? '', /^spec\.template: Invalid value: .*: field is immutable$/);
    assert.equal(errors.length, 2);
  });

  it('lets an Indexed job scale completions together with parallelism', () => {
    const indexed = create(J, job({ completionMode: 'Indexed', completions: 2, parallelism: 2 })).obj;
    assert.deepEqual(
      update(
        J,
        indexed,
        edit(indexed, (x) => {
          x.spec.completions = 4;
          x.spec.parallelism = 4;
        }),
      ).errors,
      [],
    );
    assert.deepEqual(
      update(
        J,
        indexed,
        edit(indexed, (x) => {
          x.spec.completions = 4;
        }),
      ).errors,
      ['spec.completions: Invalid value: 4: can only be modified in tandem with spec.parallelism'],
    );
  });

  it('lets a suspended, never-started job change scheduling directives only', () => {
    const suspended = create(J, job({ suspend: true })).obj;
    const ok = edit(suspended, (x) => {
      x.spec.template.spec.nodeSelector = { zone: 'a' };
      x.spec.template.spec.tolerations = [{ key: 'k', operator: 'Exists' }];
      x.spec.template.metadata.annotations = { a: 'b' };
    });
    assert.deepEqual(update(J, suspended, ok).errors, []);
    const started = edit(suspended, (x) => {
      x.status = { startTime: '2025-01-01T00:00:00Z' };
    });
    assert.equal(update(J, started, ok).errors.length, 1);
    const image = edit(suspended, (x) => {
      x.spec.template.spec.containers[0].image = 'other';
    });
    assert.equal(update(J, suspended, image).errors.length, 1);
  });

  it('makes completionMode immutable', () => {
    assert.deepEqual(
      update(
        J,
        base,
        edit(base, (x) => {
          x.spec.completionMode = 'Indexed';
        }),
      ).errors,
      ['spec.completionMode: Invalid value: "Indexed": field is immutable'],
    );
  });

  it('checks status counters and uncounted pods', () => {
    const next = edit(base, (x) => {
      x.status = { active: -1, uncountedTerminatedPods: { succeeded: ['a', ''], failed: ['a'] } };
    });
    assert.deepEqual(update(J, base, next, 'status').errors, [
      'status.active: Invalid value: -1: must be greater than or equal to 0',
      'status.uncountedTerminatedPods.succeeded[1]: Invalid value: "": must not be empty',
      'status.uncountedTerminatedPods.failed[0]: Duplicate value: "a"',
    ]);
  });
});
