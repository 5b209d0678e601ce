import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, update } from './testing.ts';

const SC = 'storage.k8s.io/storageclasses';

const sc = (extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'fast' },
  provisioner: 'rancher.io/local-path',
  ...extra,
});

describe('StorageClass', () => {
  it('defaults reclaimPolicy and volumeBindingMode', () => {
    const { obj, errors } = create(SC, sc(), '');
    assert.deepEqual(errors, []);
    assert.equal(obj.reclaimPolicy, 'Delete');
    assert.equal(obj.volumeBindingMode, 'Immediate');
  });

  it('requires a provisioner that is a qualified name', () => {
    assert.deepEqual(create(SC, sc({ provisioner: '' }), '').errors, ['provisioner: Required value']);
    assert.match(
      create(SC, sc({ provisioner: 'a/b/c' }), '').errors[0] ?? '',
      /^provisioner: Invalid value: "a\/b\/c": a valid label key/,
    );
  });

  it('checks reclaimPolicy, volumeBindingMode and parameters', () => {
    assert.deepEqual(
      create(SC, sc({ reclaimPolicy: 'Recycle', volumeBindingMode: 'Later', parameters: { '': 'x' } }), '')
        .errors,
      [
        'parameters: Invalid value: "": field can not be empty.',
        'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
        'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
      ],
    );
  });

  it('checks allowed topologies', () => {
    const allowedTopologies = [
      {
        matchLabelExpressions: [
          { key: 'zone', values: ['a', 'a'] },
          { key: 'zone', values: [] },
        ],
      },
      { matchLabelExpressions: [] },
    ];
    assert.deepEqual(create(SC, sc({ allowedTopologies }), '').errors, [
      'allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "a"',
      'allowedTopologies[0].matchLabelExpressions[1].values: Required value',
      'allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "zone"',
      'allowedTopologies[1].matchLabelExpressions: Duplicate value: ""',
    ]);
  });

  it('forbids changing parameters, provisioner, reclaimPolicy and volumeBindingMode', () => {
    const base = create(SC, sc({ parameters: { a: 'b' } }), '').obj;
    assert.deepEqual(
      update(
        SC,
        base,
        edit(base, (x) => {
          x.allowVolumeExpansion = true;
        }),
      ).errors,
      [],
    );
    const next = edit(base, (x) => {
      x.parameters = { a: 'c' };
      x.provisioner = 'other.io/p';
      x.reclaimPolicy = 'Retain';
      x.volumeBindingMode = 'WaitForFirstConsumer';
    });
    assert.deepEqual(update(SC, base, next).errors, [
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
      'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]);
  });
});
