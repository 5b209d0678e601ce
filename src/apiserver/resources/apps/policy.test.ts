import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, update } from './testing.ts';

const PDB = 'policy/poddisruptionbudgets';

const pdb = (spec: Record<string, unknown>) => ({ metadata: { name: 'p' }, spec });

describe('PodDisruptionBudget', () => {
  it('accepts minAvailable or maxUnavailable as an int or a percentage', () => {
    assert.deepEqual(
      create(PDB, pdb({ minAvailable: 2, selector: { matchLabels: { app: 'a' } } })).errors,
      [],
    );
    assert.deepEqual(create(PDB, pdb({ maxUnavailable: '50%' })).errors, []);
  });

  it('does not allow both', () => {
    assert.deepEqual(create(PDB, pdb({ minAvailable: 1, maxUnavailable: 1 })).errors, [
      'spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc000000000), Selector:(*v1.LabelSelector)(nil), MaxUnavailable:(*intstr.IntOrString)(0xc000000000), UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)(nil)}: minAvailable and maxUnavailable cannot be both set',
    ]);
  });

  it('checks the values', () => {
    assert.deepEqual(create(PDB, pdb({ minAvailable: -1 })).errors, [
      'spec.minAvailable: Invalid value: -1: must be greater than or equal to 0',
    ]);
    assert.deepEqual(create(PDB, pdb({ maxUnavailable: '120%' })).errors, [
      'spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"120%"}: must not be greater than 100%',
    ]);
  });

  it('checks the selector and unhealthyPodEvictionPolicy', () => {
    assert.deepEqual(
      create(
        PDB,
        pdb({
          selector: { matchExpressions: [{ key: 'a', operator: 'Has' }] },
          unhealthyPodEvictionPolicy: 'Never',
        }),
      ).errors,
      [
        'spec.selector.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator',
        'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
      ],
    );
  });

  it('allows spec updates', () => {
    const base = create(PDB, pdb({ minAvailable: 1 })).obj;
    assert.deepEqual(
      update(
        PDB,
        base,
        edit(base, (x) => {
          x.spec.minAvailable = '50%';
        }),
      ).errors,
      [],
    );
  });

  it('checks status conditions and counters through /status', () => {
    const base = create(PDB, pdb({ minAvailable: 1 })).obj;
    const next = edit(base, (x) => {
      x.status = {
        disruptionsAllowed: -1,
        conditions: [
          {
            type: 'DisruptionAllowed',
            status: 'Yes',
            reason: 'Sufficient Pods',
            lastTransitionTime: '2025-01-01T00:00:00Z',
          },
          { type: 'DisruptionAllowed', status: 'True', reason: 'OK' },
        ],
      };
    });
    assert.deepEqual(update(PDB, base, next, 'status').errors, [
      'status.conditions[0].status: Unsupported value: "Yes": supported values: "False", "True", "Unknown"',
      "status.conditions[0].reason: Invalid value: \"Sufficient Pods\": a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'ResourceReason',  or 'Resource_Reason', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
      'status.conditions[1].type: Duplicate value: "DisruptionAllowed"',
      'status.conditions[1].lastTransitionTime: Required value: must be set',
      'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});
