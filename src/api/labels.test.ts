import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from './errors.ts';
import {
  type LabelSelector,
  LabelSelectorParseError,
  labelSelectorAsSelector,
  newRequirement,
  parseSelector,
  Selector,
  selectorFromSet,
  selectorToString,
  validateLabelSelector,
} from './labels.ts';

const KEY_NAME_REGEX =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function parseError(s: string): string {
  try {
    parseSelector(s);
  } catch (e) {
    assert.ok(e instanceof LabelSelectorParseError);
    return e.message;
  }
  assert.fail(`${JSON.stringify(s)} parsed`);
}

test('every operator of the string form parses and prints back', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['a in (x,y)', 'a in (x,y)'],
    ['a notin (x)', 'a notin (x)'],
    ['a', 'a'],
    ['!a', '!a'],
    ['a>1', 'a>1'],
    ['a<10', 'a<10'],
    ['k8s.io/app=web', 'k8s.io/app=web'],
  ];
  for (const [input, out] of cases) assert.equal(parseSelector(input).toString(), out, input);
});

test('requirements are sorted by key; value sets are sorted and de-duplicated', () => {
  const s = parseSelector('z=1,a in (z,a,m,a),m');
  assert.equal(selectorToString(s), 'a in (a,m,z),m,z=1');
  assert.deepEqual(s.requirements[0], { key: 'a', operator: 'in', values: ['a', 'm', 'z'] });
});

test('whitespace separates tokens: spaces, tabs, CR and LF', () => {
  assert.equal(parseSelector(' a = b ,\tc\n, d  in ( x , y ) ').toString(), 'a=b,c,d in (x,y)');
});

test('empty values: x=, x in (), and empty entries in a set', () => {
  assert.equal(parseSelector('x in (foo,,baz),y,z notin ()').toString(), 'x in (,baz,foo),y,z notin ()');
  assert.deepEqual(parseSelector('a in (,)').requirements[0]?.values, ['']);
  assert.deepEqual(parseSelector('a in (x,)').requirements[0]?.values, ['', 'x']);
  assert.deepEqual(
    parseSelector('a=,b').requirements.map((r) => r.values),
    [[''], []],
  );
  assert.deepEqual(parseSelector('a==').requirements[0]?.values, ['']);
});

test('in and notin are plain values where a value is expected', () => {
  assert.equal(parseSelector('in in (in)').toString(), 'in in (in)');
  assert.equal(parseSelector('a=notin').toString(), 'a=notin');
});

test('syntax errors carry Kubernetes messages', () => {
  const cases: [string, string][] = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    [
      'a<x',
      "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
  ];
  for (const [input, message] of cases) assert.equal(parseError(input), message, input);
});

test('invalid keys report a <nil> path, invalid values values[i][key]', () => {
  assert.equal(
    parseError('-a=b'),
    `unable to parse requirement: <nil>: Invalid value: "-a": name part ${KEY_NAME_REGEX}`,
  );
  assert.equal(
    parseError('a/b/c'),
    `unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key ${KEY_NAME_REGEX} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
  );
  assert.equal(
    parseError('a=b@c'),
    `unable to parse requirement: values[0][a]: Invalid value: "b@c": ${VALUE_REGEX}`,
  );
  assert.equal(
    parseError(`a=${'x'.repeat(64)}`),
    `unable to parse requirement: values[0][a]: Invalid value: "${'x'.repeat(64)}": must be no more than 63 bytes`,
  );
  // Several messages for one value are joined with "; ".
  assert.equal(
    parseError(`a=-${'x'.repeat(63)}`),
    `unable to parse requirement: values[0][a]: Invalid value: "-${'x'.repeat(63)}": must be no more than 63 bytes; ${VALUE_REGEX}`,
  );
});

test('matching follows Requirement.Matches', () => {
  const m = (sel: string, labels: Record<string, string> | undefined) => parseSelector(sel).matches(labels);
  assert.ok(m('', undefined));
  assert.ok(m('a=b', { a: 'b' }));
  assert.ok(!m('a=b', {}));
  assert.ok(m('a!=b', {}), 'missing key satisfies !=');
  assert.ok(m('a notin (b)', {}), 'missing key satisfies notin');
  assert.ok(!m('a notin (b)', { a: 'b' }));
  assert.ok(m('a in (b,c)', { a: 'c' }));
  assert.ok(m('a', { a: '' }));
  assert.ok(!m('!a', { a: '' }));
  assert.ok(m('a in ()', { a: '' }), 'the empty value');
  assert.ok(m('a>1', { a: '2' }));
  assert.ok(!m('a>1', { a: 'x' }), 'a non-integer label never compares');
  assert.ok(!m('a<1', {}));
  assert.ok(m('a=b,c', { a: 'b', c: 'x' }));
  assert.ok(!m('a=b,c', { a: 'b' }));
  assert.ok(!m('toString', {}), 'no prototype keys');
});

test('metav1.LabelSelector: null matches nothing, {} matches everything', () => {
  assert.ok(!labelSelectorAsSelector(null).matches({}));
  assert.ok(labelSelectorAsSelector(null).matchesNothing());
  assert.ok(labelSelectorAsSelector({}).matches({ any: 'thing' }));
  assert.ok(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).isEmpty());
});

test('metav1.LabelSelector converts to the same selector form', () => {
  const ps: LabelSelector = {
    matchLabels: { b: '1', a: '2' },
    matchExpressions: [
      { key: 'c', operator: 'In', values: ['y', 'x'] },
      { key: 'd', operator: 'NotIn', values: ['z'] },
      { key: 'e', operator: 'Exists' },
      { key: 'f', operator: 'DoesNotExist' },
    ],
  };
  const s = labelSelectorAsSelector(ps);
  assert.equal(s.toString(), 'a=2,b=1,c in (x,y),d notin (z),e,!f');
  assert.ok(s.matches({ a: '2', b: '1', c: 'x', e: '' }));
  assert.ok(!s.matches({ a: '2', b: '1', c: 'x', e: '', f: '' }));
});

test('metav1.LabelSelector conversion errors match NewRequirement', () => {
  const err = (ps: LabelSelector) => {
    try {
      labelSelectorAsSelector(ps);
    } catch (e) {
      assert.ok(e instanceof LabelSelectorParseError);
      return e.message;
    }
    assert.fail('converted');
  };
  assert.equal(
    err({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }),
    '"Foo" is not a valid label selector operator',
  );
  assert.equal(
    err({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
  );
  assert.equal(
    err({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x', 'y'] }] }),
    'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist',
  );
  assert.equal(
    err({ matchExpressions: [{ key: '-a', operator: 'In', values: ['b@'] }] }),
    `[key: Invalid value: "-a": name part ${KEY_NAME_REGEX}, values[0][-a]: Invalid value: "b@": ${VALUE_REGEX}]`,
  );
  assert.throws(
    () => newRequirement('a', '=', ['x', 'y']),
    /exact-match compatibility requires one single value/,
  );
});

test('validateLabelSelector reports FieldErrors under the selector path', () => {
  const path = new FieldPath('spec.selector');
  const errs = validateLabelSelector(
    {
      matchLabels: { 'bad key': 'v' },
      matchExpressions: [
        { key: 'a', operator: 'In', values: [] },
        { key: 'b', operator: 'Exists', values: ['x'] },
        { key: 'c', operator: 'Gt', values: ['1'] },
        { key: 'd', operator: 'In', values: ['ok', 'not ok'] },
      ],
    },
    path,
  );
  assert.deepEqual(
    errs.map((e) => e.toString()),
    [
      `spec.selector.matchLabels: Invalid value: "bad key": name part ${KEY_NAME_REGEX}`,
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.selector.matchExpressions[2].operator: Invalid value: "Gt": not a valid selector operator',
      `spec.selector.matchExpressions[3].values[1]: Invalid value: "not ok": ${VALUE_REGEX}`,
    ],
  );
  assert.deepEqual(validateLabelSelector(null, path), []);
  assert.equal(
    validateLabelSelector({ matchExpressions: [{ key: 'd', operator: 'In', values: ['not ok'] }] }, path, {
      allowInvalidLabelValueInSelector: true,
    }).length,
    0,
  );
});

test('helpers: selectorFromSet, requiresExactMatch, everything/nothing', () => {
  assert.equal(selectorFromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
  assert.ok(selectorFromSet({}).isEmpty());
  assert.equal(parseSelector('a in (x),b=y').requiresExactMatch('a'), 'x');
  assert.equal(parseSelector('a in (x,z)').requiresExactMatch('a'), undefined);
  assert.equal(parseSelector('a!=x').requiresExactMatch('a'), undefined);
  assert.ok(Selector.everything().matches(undefined));
  assert.ok(!Selector.nothing().matches({}));
  assert.equal(Selector.nothing().toString(), '');
});

test('parse errors become 400 BadRequest', () => {
  try {
    parseSelector('a b');
  } catch (e) {
    assert.ok(e instanceof LabelSelectorParseError);
    const status = e.toApiError().toStatus();
    assert.equal(status.code, 400);
    assert.equal(status.reason, 'BadRequest');
    return;
  }
  assert.fail('parsed');
});
