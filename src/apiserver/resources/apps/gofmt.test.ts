import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldPath } from '../../../api/errors.ts';
import {
  goIntOrString,
  goInvalid,
  goLabelSelector,
  goNotSupported,
  goStringMap,
  goStringSlice,
} from './gofmt.ts';

describe('Go %#v rendering', () => {
  it('prints maps sorted, and nil maps and slices', () => {
    assert.equal(goStringMap({ b: '2', a: '1' }), 'map[string]string{"a":"1", "b":"2"}');
    assert.equal(goStringMap(undefined), 'map[string]string(nil)');
    assert.equal(goStringMap({}), 'map[string]string{}');
    assert.equal(goStringSlice(['x', 'y']), '[]string{"x", "y"}');
    assert.equal(goStringSlice(null), '[]string(nil)');
  });

  it('prints label selectors and IntOrStrings', () => {
    assert.equal(
      goLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Exists' }] }),
      'v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"k", Operator:"Exists", Values:[]string(nil)}}}',
    );
    assert.equal(goLabelSelector(null), 'null');
    assert.equal(goIntOrString('5%'), 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"5%"}');
    assert.equal(goIntOrString(5), 'intstr.IntOrString{Type:0, IntVal:5, StrVal:""}');
  });

  it('builds field errors that print the Go rendering and keep the JSON value', () => {
    const e = goInvalid(new FieldPath('spec.x'), { a: 'b' }, goStringMap({ a: 'b' }), 'bad');
    assert.equal(String(e), 'spec.x: Invalid value: map[string]string{"a":"b"}: bad');
    assert.equal(e.detailMessage(), 'Invalid value: map[string]string{"a":"b"}: bad');
    assert.deepEqual(e.value, { a: 'b' });
    assert.equal(e.type, 'FieldValueInvalid');
    const n = goNotSupported(new FieldPath('spec.y'), {}, 'T{}', ['A', 'B']);
    assert.equal(String(n), 'spec.y: Unsupported value: T{}: supported values: "A", "B"');
  });
});
