import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkDefaultFieldLabels,
  checkFieldLabels,
  escapeFieldValue,
  FieldLabelNotSupportedError,
  FieldSelector,
  FieldSelectorParseError,
  parseFieldSelector,
  unescapeFieldValue,
  unsupportedFieldLabels,
} from './fields.ts';

function parseError(s: string): string {
  try {
    parseFieldSelector(s);
  } catch (e) {
    assert.ok(e instanceof FieldSelectorParseError);
    return e.message;
  }
  assert.fail(`${JSON.stringify(s)} parsed`);
}

test('terms parse with =, == and != and print sorted, == as =', () => {
  const s = parseFieldSelector('status.phase!=Running,metadata.name==x');
  assert.deepEqual(s.requirements, [
    { field: 'metadata.name', operator: '==', value: 'x' },
    { field: 'status.phase', operator: '!=', value: 'Running' },
  ]);
  assert.equal(s.toString(), 'metadata.name=x,status.phase!=Running');
  assert.equal(parseFieldSelector('a=b').toString(), 'a=b');
});

test('a term splits at its first operator', () => {
  assert.deepEqual(parseFieldSelector('a=!b').requirements, [{ field: 'a', operator: '=', value: '!b' }]);
  // "a!==b" splits as a != "=b", and the unescaped '=' in the value is an error.
  assert.equal(parseError('a!==b'), 'invalid field selector: unescaped character in value: 61');
});

test('matching: absent fields are the empty string', () => {
  const s = parseFieldSelector('metadata.name=x,status.phase!=Running');
  assert.ok(s.matches({ 'metadata.name': 'x', 'status.phase': 'Pending' }));
  assert.ok(s.matches({ 'metadata.name': 'x' }));
  assert.ok(!s.matches({ 'metadata.name': 'x', 'status.phase': 'Running' }));
  assert.ok(!s.matches({}));
  assert.ok(parseFieldSelector('spec.nodeName=').matches({}));
  assert.ok(parseFieldSelector('').matches({}));
  assert.ok(parseFieldSelector('constructor=').matches({}), 'no prototype fields');
});

test('values are unescaped; an escaped comma does not split terms', () => {
  const s = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,x=y');
  assert.deepEqual(s.requirements[0], { field: 'metadata.name', operator: '=', value: 'a,b=c\\d' });
  assert.equal(s.toString(), 'metadata.name=a\\,b\\=c\\\\d,x=y');
  assert.equal(escapeFieldValue('a,b=c\\d'), 'a\\,b\\=c\\\\d');
  assert.equal(unescapeFieldValue('plain'), 'plain');
});

test('bad escapes and unescaped , or = in values are errors with Kubernetes messages', () => {
  assert.equal(parseError('a=b\\c'), 'invalid field selector: invalid escape sequence: \\c');
  assert.equal(parseError('a=b\\'), 'invalid field selector: invalid escape sequence: \\');
  // Go prints the rune with %v, i.e. its number: '=' is 61.
  assert.equal(parseError('a=b=c'), 'invalid field selector: unescaped character in value: 61');
  assert.equal(parseError('a'), "invalid selector: 'a'; can't understand 'a'");
  assert.equal(parseError('a=b,c'), "invalid selector: 'a=b,c'; can't understand 'c'");
});

test('empty terms are skipped; a bare = is dropped', () => {
  assert.ok(parseFieldSelector(',,').isEmpty());
  assert.ok(parseFieldSelector('=').isEmpty());
  assert.equal(parseFieldSelector('=,a=b').toString(), 'a=b');
  assert.deepEqual(parseFieldSelector('=x').requirements, [{ field: '', operator: '=', value: 'x' }]);
});

test('requiresExactMatch and transform', () => {
  const s = parseFieldSelector('spec.nodeName=n1,metadata.name!=x');
  assert.equal(s.requiresExactMatch('spec.nodeName'), 'n1');
  assert.equal(s.requiresExactMatch('metadata.name'), undefined);
  const t = s.transform((f, v) => (f === 'metadata.name' ? ['', ''] : [f.toUpperCase(), v]));
  assert.equal(t.toString(), 'SPEC.NODENAME=n1');
  assert.ok(FieldSelector.everything().isEmpty());
});

test('unsupported field labels are reported in the Kubernetes message form', () => {
  const s = parseFieldSelector('spec.foo=1,metadata.name=x,spec.bar=2');
  assert.deepEqual(unsupportedFieldLabels(s, ['metadata.name']), ['spec.bar', 'spec.foo']);
  assert.throws(
    () => checkFieldLabels(s, ['metadata.name', 'metadata.namespace']),
    (e: unknown) =>
      e instanceof FieldLabelNotSupportedError &&
      e.message === 'field label not supported: spec.bar' &&
      e.label === 'spec.bar',
  );
  checkFieldLabels(parseFieldSelector('metadata.name=x'), ['metadata.name']);
  assert.throws(
    () => checkDefaultFieldLabels(parseFieldSelector('spec.foo=1')),
    (e: unknown) =>
      e instanceof FieldLabelNotSupportedError &&
      e.message === '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
  const status = new FieldLabelNotSupportedError('spec.foo').toApiError().toStatus();
  assert.equal(status.code, 400);
  assert.equal(status.message, 'field label not supported: spec.foo');
});

test('spaces are not trimmed: the field label keeps them', () => {
  assert.deepEqual(unsupportedFieldLabels(parseFieldSelector('metadata.name = x'), ['metadata.name']), [
    'metadata.name ',
  ]);
});
