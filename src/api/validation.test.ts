import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from './errors.ts';
import {
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isLabelValue,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
  validateAnnotations,
  validateFinalizers,
  validateLabels,
  validateObjectMeta,
  validateOwnerReferences,
} from './validation.ts';

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const KEY_NAME =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const strings = (errs: { toString(): string }[]) => errs.map((e) => e.toString());

test('DNS-1123 subdomain: the message from the Kubernetes docs, and the 253 limit', () => {
  assert.deepEqual(isDNS1123Subdomain('example.com'), []);
  assert.deepEqual(isDNS1123Subdomain('a'.repeat(253)), []);
  assert.deepEqual(isDNS1123Subdomain('Example'), [SUBDOMAIN]);
  assert.deepEqual(isDNS1123Subdomain('a..b'), [SUBDOMAIN]);
  assert.deepEqual(isDNS1123Subdomain('-a'), [SUBDOMAIN]);
  assert.deepEqual(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
});

test('DNS-1123 label: 63 limit, and dots get their own message', () => {
  assert.deepEqual(isDNS1123Label('my-name'), []);
  assert.deepEqual(isDNS1123Label('123-abc'), []);
  assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
  assert.deepEqual(isDNS1123Label('A'), [LABEL]);
  assert.deepEqual(isDNS1123Label(''), [LABEL]);
  assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
});

test('DNS-1035 label must start with a letter', () => {
  assert.deepEqual(isDNS1035Label('abc-123'), []);
  assert.deepEqual(isDNS1035Label('1abc'), [DNS1035]);
  assert.deepEqual(isDNS1035Label('a'.repeat(64)), ['must be no more than 63 characters']);
});

test('qualified names (label keys): optional subdomain prefix, name ≤ 63 bytes', () => {
  for (const ok of [
    'simple',
    'now-with-dashes',
    '1-starts-with-num',
    'a.b_c-d',
    'example.com/MyName',
    'a/b',
    'A',
  ]) {
    assert.deepEqual(isQualifiedName(ok), [], ok);
  }
  assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
  assert.deepEqual(isQualifiedName('a/'), ['name part must be non-empty', KEY_NAME]);
  assert.deepEqual(isQualifiedName(''), ['name part must be non-empty', KEY_NAME]);
  assert.deepEqual(isQualifiedName('Example.com/a'), [`prefix part ${SUBDOMAIN}`]);
  assert.deepEqual(isQualifiedName(`${'a'.repeat(254)}/a`), ['prefix part must be no more than 253 bytes']);
  assert.deepEqual(isQualifiedName('a'.repeat(64)), ['name part must be no more than 63 bytes']);
  assert.deepEqual(isQualifiedName('_a'), [KEY_NAME]);
  assert.equal(isQualifiedName('a/b/c').length, 1);
  assert.match(
    isQualifiedName('a/b/c')[0] as string,
    /^a valid label key must consist .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/,
  );
  // Length is in UTF-8 bytes, as Go's len().
  assert.deepEqual(isLabelValue('é'.repeat(32)), [
    'must be no more than 63 bytes',
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]);
});

test('label values may be empty', () => {
  assert.deepEqual(isLabelValue(''), []);
  assert.deepEqual(isLabelValue('a'.repeat(63)), []);
  assert.deepEqual(isLabelValue('a'.repeat(64)), ['must be no more than 63 bytes']);
});

test('ports: numbers 1–65535 and IANA_SVC_NAME names', () => {
  assert.deepEqual(isValidPortNum(1), []);
  assert.deepEqual(isValidPortNum(65535), []);
  assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
  assert.deepEqual(isValidPortNum(65536), ['must be between 1 and 65535, inclusive']);
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('h-t-t-p'), []);
  assert.deepEqual(isValidPortName('80'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPortName('a--b'), ['must not contain consecutive hyphens']);
  assert.deepEqual(isValidPortName('-ab'), ['must not begin or end with a hyphen']);
  assert.deepEqual(isValidPortName('HTTP'), [
    'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'must contain at least one letter (a-z)',
  ]);
  assert.deepEqual(isValidPortName('abcdefghijklmnop'), ['must be no more than 15 characters']);
  assert.deepEqual(isValidPortName(''), [
    'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'must contain at least one letter (a-z)',
  ]);
});

test('identifiers, env var names and ConfigMap keys', () => {
  assert.deepEqual(isCIdentifier('_MY_VAR1'), []);
  assert.equal(isCIdentifier('1a').length, 1);
  assert.deepEqual(isEnvVarName('my.env-name'), []);
  assert.deepEqual(isEnvVarName('..a'), ["must not start with '..'"]);
  assert.equal(isEnvVarName('1a').length, 1);
  // Relaxed (current Kubernetes): any printable ASCII except '='.
  assert.deepEqual(isRelaxedEnvVarName('1 weird:name!'), []);
  assert.deepEqual(isRelaxedEnvVarName(''), ['environment variable name must be non-empty']);
  assert.deepEqual(isRelaxedEnvVarName('A=B'), [
    "a valid environment variable name must consist only of printable ASCII characters other than '='",
  ]);
  assert.equal(isRelaxedEnvVarName('é').length, 1);
  assert.equal(isRelaxedEnvVarName('a\tb').length, 1);
  assert.deepEqual(isConfigMapKey('key.name'), []);
  assert.deepEqual(isConfigMapKey('..'), ["must not be '..'"]);
  assert.equal(isConfigMapKey('a/b').length, 1);
});

test('generateName masks a trailing dash the way Kubernetes does', () => {
  assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
  assert.deepEqual(nameIsDNSSubdomain('web-', false), [SUBDOMAIN]);
  // The last two characters become "a": "a.-" → "aa" (valid), "-a-" → "-a" (invalid).
  assert.deepEqual(nameIsDNSSubdomain('a.-', true), []);
  assert.deepEqual(nameIsDNSSubdomain('-a-', true), [SUBDOMAIN]);
});

test('labels and annotations report at the map path, not per key', () => {
  const path = new FieldPath('metadata.labels');
  assert.deepEqual(strings(validateLabels({ 'a b': 'x', ok: 'bad value' }, path)), [
    `metadata.labels: Invalid value: "a b": ${KEY_NAME}`,
    "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]);
  const ann = new FieldPath('metadata.annotations');
  assert.deepEqual(validateAnnotations({ 'Example.COM/Key': 'v' }, ann), [], 'keys are lower-cased first');
  assert.deepEqual(strings(validateAnnotations({ 'a b': '' }, ann)), [
    `metadata.annotations: Invalid value: "a b": ${KEY_NAME}`,
  ]);
  assert.deepEqual(validateAnnotations({ k: 'x'.repeat(256 * 1024 - 1) }, ann), []);
  assert.deepEqual(strings(validateAnnotations({ k: 'x'.repeat(256 * 1024) }, ann)), [
    'metadata.annotations: Too long: may not be more than 262144 bytes',
  ]);
});

test('owner references: required fields, banned Event owner, one controller', () => {
  const path = new FieldPath('metadata.ownerReferences');
  assert.deepEqual(
    validateOwnerReferences(
      [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }],
      path,
    ),
    [],
  );
  assert.deepEqual(
    strings(validateOwnerReferences([{ apiVersion: 'apps/', kind: '', name: '', uid: '' }], path)),
    [
      'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ],
  );
  assert.match(
    strings(
      validateOwnerReferences([{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }], path),
    )[0] as string,
    /: \/v1, Kind=Event is disallowed from being an owner$/,
  );
  const two = validateOwnerReferences(
    [
      { apiVersion: 'v1', kind: 'A', name: 'a', uid: '1', controller: true },
      { apiVersion: 'v1', kind: 'B', name: 'b', uid: '2', controller: true },
    ],
    path,
  );
  assert.equal(two.length, 1);
  assert.match(
    two[0]?.toString() ?? '',
    /Only one reference can have Controller set to true\. Found "true" in references for A\/a and B\/b$/,
  );
});

test('finalizers are qualified names; orphan and foregroundDeletion exclude each other', () => {
  const path = new FieldPath('metadata.finalizers');
  assert.deepEqual(validateFinalizers(['kubernetes.io/pv-protection', 'orphan'], path), []);
  assert.deepEqual(strings(validateFinalizers(['bad/name/x'], path)).length, 1);
  const both = validateFinalizers(['orphan', 'foregroundDeletion'], path);
  assert.equal(both.length, 1);
  assert.equal(both[0]?.detail, 'finalizer orphan and foregroundDeletion cannot be both set');
});

test('object metadata: name rules, namespace scope, and order of errors', () => {
  const ns = { namespaced: true, nameFn: nameIsDNSSubdomain };
  assert.deepEqual(validateObjectMeta({ name: 'web', namespace: 'default', labels: { app: 'web' } }, ns), []);
  assert.deepEqual(strings(validateObjectMeta({}, ns)), [
    'metadata.name: Required value: name or generateName is required',
    'metadata.namespace: Required value',
  ]);
  assert.deepEqual(strings(validateObjectMeta({ name: 'Web', namespace: 'a.b', generation: -1 }, ns)), [
    `metadata.name: Invalid value: "Web": ${SUBDOMAIN}`,
    'metadata.namespace: Invalid value: "a.b": must not contain dots',
    'metadata.generation: Invalid value: -1: must be greater than or equal to 0',
  ]);
  assert.deepEqual(
    strings(
      validateObjectMeta(
        { generateName: 'Web-', name: 'Web-x1' },
        { namespaced: false, nameFn: nameIsDNSSubdomain },
      ),
    ),
    [
      `metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN}`,
      `metadata.name: Invalid value: "Web-x1": ${SUBDOMAIN}`,
    ],
  );
  assert.deepEqual(
    strings(
      validateObjectMeta(
        { name: 'n', namespace: 'default' },
        { namespaced: false, nameFn: nameIsDNSSubdomain },
      ),
    ),
    ['metadata.namespace: Forbidden: not allowed on this type'],
  );
  const errs = validateObjectMeta(
    {
      name: 'n',
      namespace: 'default',
      labels: { 'a b': 'x' },
      annotations: { 'c d': '' },
      finalizers: ['x/y/z'],
    },
    ns,
    new FieldPath('metadata'),
  );
  assert.deepEqual(
    errs.map((e) => e.field),
    ['metadata.labels', 'metadata.annotations', 'metadata.finalizers'],
  );
});

test('lengths are UTF-8 bytes at the limits, multi-byte characters included', () => {
  const e = 'é'; // 2 bytes
  assert.deepEqual(isLabelValue(`a${'b'.repeat(61)}c`), []);
  assert.equal(isLabelValue(`a${'b'.repeat(62)}c`)[0], 'must be no more than 63 bytes');
  // 21 characters, 41 bytes: short enough; 32 'é' are 64 bytes: too long (and not matching the pattern).
  assert.deepEqual(isLabelValue(`a${e.repeat(20)}`).slice(0, 1), [isLabelValue('é')[0]]);
  assert.equal(isLabelValue(e.repeat(32))[0], 'must be no more than 63 bytes');
  assert.equal(isLabelValue(e.repeat(31)).length, 1);
  assert.equal(isDNS1123Label('a'.repeat(63)).length, 0);
  assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  assert.equal(
    isDNS1123Subdomain(`${'a'.repeat(126)}${e.repeat(64)}`)[0],
    'must be no more than 253 characters',
  );
  assert.equal(isDNS1123Subdomain(`${'a'.repeat(125)}${e.repeat(64)}`).length, 1);
  assert.deepEqual(isQualifiedName(`p/${'a'.repeat(63)}`), []);
  assert.equal(
    isQualifiedName(`p/${'a'.repeat(31)}${e.repeat(17)}`)[0],
    'name part must be no more than 63 bytes',
  );
});

test('qualified names: prefix and name split at the one slash', () => {
  assert.deepEqual(isQualifiedName('example.com/name'), []);
  assert.deepEqual(isQualifiedName('/name'), ['prefix part must be non-empty']);
  assert.equal(isQualifiedName('example.com/')[0], 'name part must be non-empty');
  assert.equal(
    isQualifiedName('Example.com/name')[0]?.startsWith('prefix part a lowercase RFC 1123 subdomain'),
    true,
  );
  assert.equal(isQualifiedName('a/b/c').length, 1);
  assert.equal(isQualifiedName('a/b/c')[0]?.startsWith('a valid label key must consist of'), true);
  assert.equal(isQualifiedName('//').length, 1);
  assert.deepEqual(isQualifiedName('/'), [
    'prefix part must be non-empty',
    'name part must be non-empty',
    isQualifiedName('-')[0],
  ]);
});
