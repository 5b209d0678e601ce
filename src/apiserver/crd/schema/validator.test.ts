import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSchema } from './compile.ts';
import { CRON_SPEC_PATTERN, cronTab, cronTabSchema } from './testdata.ts';
import type { JSONSchemaProps } from './types.ts';

/** Validates `{spec: {x: value}}` against `{spec: {x: schema}}` and returns the messages. */
function check(schema: JSONSchemaProps, value: unknown): string[] {
  const root: JSONSchemaProps = {
    type: 'object',
    properties: { spec: { type: 'object', properties: { x: schema } } },
  };
  return compileSchema(root)
    .validate({ spec: { x: value } })
    .map(String);
}

describe('CronTab', () => {
  const crontab = compileSchema(cronTabSchema());

  test('a valid object has no errors', () => {
    assert.deepEqual(crontab.validate(cronTab()), []);
  });

  test('type mismatch, as kube-openapi words it', () => {
    assert.deepEqual(crontab.validate(cronTab({ replicas: 'string' })).map(String), [
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    ]);
  });

  test('maximum and minimum', () => {
    assert.deepEqual(crontab.validate(cronTab({ replicas: 11 })).map(String), [
      'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
    ]);
    assert.deepEqual(crontab.validate(cronTab({ replicas: 0 })).map(String), [
      'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
    ]);
  });

  test('pattern', () => {
    assert.deepEqual(crontab.validate(cronTab({ cronSpec: '* * * *' })).map(String), [
      `spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '${CRON_SPEC_PATTERN}'`,
    ]);
  });

  test('field errors carry the reason a Status cause shows', () => {
    const [e] = crontab.validate(cronTab({ replicas: 'string' }));
    assert.equal(e?.type, 'FieldValueTypeInvalid');
    assert.equal(e?.field, 'spec.replicas');
  });
});

describe('types', () => {
  test('each JSON type is named by kube-openapi', () => {
    assert.deepEqual(check({ type: 'string' }, 1), [
      'spec.x: Invalid value: "integer": spec.x in body must be of type string: "integer"',
    ]);
    assert.deepEqual(check({ type: 'integer' }, 1.5), [
      'spec.x: Invalid value: "number": spec.x in body must be of type integer: "number"',
    ]);
    assert.deepEqual(check({ type: 'boolean' }, 'true'), [
      'spec.x: Invalid value: "string": spec.x in body must be of type boolean: "string"',
    ]);
    assert.deepEqual(check({ type: 'array', items: { type: 'string' } }, {}), [
      'spec.x: Invalid value: "object": spec.x in body must be of type array: "object"',
    ]);
    assert.deepEqual(check({ type: 'object' }, []), [
      'spec.x: Invalid value: "array": spec.x in body must be of type object: "array"',
    ]);
  });

  test('an integer is a number, an integral number is an integer', () => {
    assert.deepEqual(check({ type: 'number' }, 3), []);
    assert.deepEqual(check({ type: 'number' }, 3.5), []);
    assert.deepEqual(check({ type: 'integer' }, 3), []);
  });

  test('null: rejected unless nullable', () => {
    assert.deepEqual(check({ type: 'string' }, null), [
      'spec.x: Invalid value: "null": spec.x in body must be of type string: "null"',
    ]);
    assert.deepEqual(check({ type: 'string', nullable: true }, null), []);
  });

  test('x-kubernetes-int-or-string accepts both and names both', () => {
    const s: JSONSchemaProps = { 'x-kubernetes-int-or-string': true };
    assert.deepEqual(check(s, 5), []);
    assert.deepEqual(check(s, '50%'), []);
    assert.deepEqual(check(s, true), [
      'spec.x: Invalid value: "boolean": spec.x in body must be of type integer,string: "boolean"',
    ]);
  });

  test('x-kubernetes-preserve-unknown-fields without a type accepts anything', () => {
    assert.deepEqual(check({ 'x-kubernetes-preserve-unknown-fields': true }, [1, 'a']), []);
  });

  // kube-openapi names the root "", so its messages start with a blank: "… :  in body …".
  test('a problem with the whole object is reported at <nil>, or under a given path', () => {
    const s = compileSchema({ type: 'object', minProperties: 1 });
    assert.deepEqual(s.validate([]).map(String), [
      '<nil>: Invalid value: "array":  in body must be of type object: "array"',
    ]);
    assert.deepEqual(s.validate({}, 'spec.template').map(String), [
      'spec.template: Invalid value: 0:  in body should have at least 1 properties',
    ]);
  });
});

describe('objects', () => {
  test('required', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      required: ['name', 'port'],
      properties: { name: { type: 'string' } },
    };
    assert.deepEqual(check(s, { name: 'a' }), ['spec.x.port: Required value']);
    const root = compileSchema({ type: 'object', required: ['spec'] });
    assert.deepEqual(root.validate({}).map(String), ['spec: Required value']);
  });

  test('minProperties and maxProperties', () => {
    assert.deepEqual(
      check({ type: 'object', minProperties: 2, additionalProperties: { type: 'string' } }, { a: 'b' }),
      ['spec.x: Invalid value: 1: spec.x in body should have at least 2 properties'],
    );
    assert.deepEqual(
      check(
        { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } },
        { a: 'b', c: 'd' },
      ),
      ['spec.x: Too many: 2: must have at most 1 item'],
    );
  });

  test('additionalProperties as a schema validates each value, named with a dot', () => {
    assert.deepEqual(
      check({ type: 'object', additionalProperties: { type: 'integer' } }, { a: 1, b: 'two' }),
      ['spec.x.b: Invalid value: "string": spec.x.b in body must be of type integer: "string"'],
    );
  });

  test('additionalProperties: false forbids other keys', () => {
    assert.deepEqual(check({ type: 'object', additionalProperties: false }, { a: 1 }), [
      'spec.x: Invalid value: "a": spec.x.a in body is a forbidden property',
    ]);
  });
});

describe('strings', () => {
  test('maxLength counts characters and reports Too long', () => {
    assert.deepEqual(check({ type: 'string', maxLength: 3 }, 'héé'), []);
    assert.deepEqual(check({ type: 'string', maxLength: 3 }, 'abcd'), [
      'spec.x: Too long: may not be more than 3 bytes',
    ]);
  });

  test('minLength', () => {
    assert.deepEqual(check({ type: 'string', minLength: 3 }, 'ab'), [
      'spec.x: Invalid value: "ab": spec.x in body should be at least 3 chars long',
    ]);
  });

  test('enum is an Unsupported value with the allowed ones', () => {
    assert.deepEqual(check({ type: 'string', enum: ['small', 'large'] }, 'huge'), [
      'spec.x: Unsupported value: "huge": supported values: "small", "large"',
    ]);
    assert.deepEqual(check({ type: 'integer', enum: [1, 2] }, 3), [
      'spec.x: Unsupported value: 3: supported values: "1", "2"',
    ]);
    assert.deepEqual(check({ type: 'string', enum: ['a'], nullable: true }, null), [
      'spec.x: Unsupported value: "null": supported values: "a"',
    ]);
  });

  test('only the first string failure is reported', () => {
    assert.deepEqual(check({ type: 'string', maxLength: 2, pattern: '^[0-9]+$' }, 'abc'), [
      'spec.x: Too long: may not be more than 2 bytes',
    ]);
  });
});

describe('numbers', () => {
  test('exclusive bounds', () => {
    assert.deepEqual(check({ type: 'integer', maximum: 10, exclusiveMaximum: true }, 10), [
      'spec.x: Invalid value: 10: spec.x in body should be less than 10',
    ]);
    assert.deepEqual(check({ type: 'integer', minimum: 0, exclusiveMinimum: true }, 0), [
      'spec.x: Invalid value: 0: spec.x in body should be greater than 0',
    ]);
  });

  test('bounds of a float print like Go (%v)', () => {
    assert.deepEqual(check({ type: 'number', maximum: 1000000 }, 1000000.5), [
      'spec.x: Invalid value: 1000000.5: spec.x in body should be less than or equal to 1e+06',
    ]);
    assert.deepEqual(check({ type: 'number', minimum: 0.5 }, 0.25), [
      'spec.x: Invalid value: 0.25: spec.x in body should be greater than or equal to 0.5',
    ]);
  });

  test('multipleOf', () => {
    assert.deepEqual(check({ type: 'integer', multipleOf: 5 }, 12), [
      'spec.x: Invalid value: 12: spec.x in body should be a multiple of 5',
    ]);
    assert.deepEqual(check({ type: 'number', multipleOf: 0.5 }, 1.5), []);
    assert.deepEqual(check({ type: 'number', multipleOf: 0.5 }, 1.25), [
      'spec.x: Invalid value: 1.25: spec.x in body should be a multiple of 0.5',
    ]);
  });

  test('format int32 only constrains the type', () => {
    assert.deepEqual(check({ type: 'integer', format: 'int32' }, 2 ** 40), []);
    assert.deepEqual(check({ type: 'integer', format: 'int32' }, 'a'), [
      'spec.x: Invalid value: "string": spec.x in body must be of type integer: "string"',
    ]);
  });
});

describe('arrays', () => {
  test('items are validated with their index', () => {
    assert.deepEqual(check({ type: 'array', items: { type: 'string' } }, ['a', 2]), [
      'spec.x[1]: Invalid value: "integer": spec.x[1] in body must be of type string: "integer"',
    ]);
  });

  test('minItems and maxItems', () => {
    assert.deepEqual(check({ type: 'array', items: { type: 'string' }, minItems: 2 }, ['a']), [
      'spec.x: Invalid value: 1: spec.x in body should have at least 2 items',
    ]);
    assert.deepEqual(check({ type: 'array', items: { type: 'string' }, maxItems: 2 }, ['a', 'b', 'c']), [
      'spec.x: Too many: 3: must have at most 2 items',
    ]);
  });

  test('uniqueItems', () => {
    assert.deepEqual(
      check({ type: 'array', items: { type: 'object' }, uniqueItems: true }, [{ a: 1 }, { a: 1 }]),
      [`spec.x: Invalid value: "": spec.x in body shouldn't contain duplicates`],
    );
  });

  test('x-kubernetes-list-type set: Duplicate value at the repetition', () => {
    const s: JSONSchemaProps = { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' };
    assert.deepEqual(check(s, ['a', 'b', 'a', 'a']), ['spec.x[2]: Duplicate value: "a"']);
    const intOrString: JSONSchemaProps = { ...s, items: { 'x-kubernetes-int-or-string': true } };
    assert.deepEqual(check(intOrString, [1, '1']), [], 'different JSON types are different values');
  });

  test('x-kubernetes-list-type map: keys are unique', () => {
    const s: JSONSchemaProps = {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name', 'protocol'],
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          protocol: { type: 'string', default: 'TCP' },
          port: { type: 'integer' },
        },
      },
    };
    const ports = [
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: 'http', protocol: 'UDP', port: 80 },
      { name: 'http', protocol: 'TCP', port: 8080 },
    ];
    assert.deepEqual(check(s, ports), ['spec.x[2]: Duplicate value: {"name":"http","protocol":"TCP"}']);
    assert.deepEqual(check(s, ['a']), [
      'spec.x[0]: Invalid value: "string": spec.x[0] in body must be of type object: "string"',
      'spec.x[0]: Invalid value: "a": must be an object for an array of list-type map',
    ]);
  });

  test('list types are checked inside map values too', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
    };
    assert.deepEqual(check(s, { a: ['x', 'x'] }), ['spec.x[a][1]: Duplicate value: "x"']);
  });
});

describe('junctors', () => {
  test('anyOf: the failure at <nil>, then the closest branch’s errors', () => {
    const s: JSONSchemaProps = { type: 'string', anyOf: [{ maxLength: 2 }, { pattern: '^a' }] };
    assert.deepEqual(check(s, 'abc'), []);
    assert.deepEqual(check(s, 'bcd'), [
      '<nil>: Invalid value: "": "spec.x" must validate at least one schema (anyOf)',
      'spec.x: Too long: may not be more than 2 bytes',
    ]);
  });

  test('oneOf: exactly one', () => {
    const s: JSONSchemaProps = {
      'x-kubernetes-int-or-string': true,
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    };
    assert.deepEqual(check(s, 3), []);
    const both: JSONSchemaProps = { type: 'string', oneOf: [{ minLength: 1 }, { maxLength: 5 }] };
    assert.deepEqual(check(both, 'abc'), [
      '<nil>: Invalid value: "": "spec.x" must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ]);
  });

  test('allOf: all of them', () => {
    const s: JSONSchemaProps = { type: 'string', allOf: [{ minLength: 2 }, { pattern: '^a' }] };
    assert.deepEqual(check(s, 'b'), [
      'spec.x: Invalid value: "b": spec.x in body should be at least 2 chars long',
      `spec.x: Invalid value: "b": spec.x in body should match '^a'`,
      '<nil>: Invalid value: "": "spec.x" must validate all the schemas (allOf). None validated',
    ]);
  });

  test('not', () => {
    const s: JSONSchemaProps = { type: 'string', not: { enum: ['root'] } };
    assert.deepEqual(check(s, 'alice'), []);
    assert.deepEqual(check(s, 'root'), [
      '<nil>: Invalid value: "": "spec.x" must not validate the schema (not)',
    ]);
  });
});

describe('formats', () => {
  const cases: [string, string, string][] = [
    ['date-time', '2024-02-29T12:30:00Z', '2024-02-30T12:30:00Z'],
    ['date', '2024-02-29', '2023-02-29'],
    ['uuid', '123e4567-e89b-12d3-a456-426614174000', 'not-a-uuid'],
    ['email', 'jane@example.com', 'jane'],
    ['hostname', 'my-host.example.com', 'my_host'],
    ['ipv4', '10.0.0.1', '10.0.0.256'],
    ['ipv6', 'fd00::1', '10.0.0.1'],
    ['cidr', '10.0.0.0/8', '10.0.0.0/33'],
    ['byte', 'aGVsbG8=', 'hello!'],
    ['duration', '1h30m', '90 parsecs'],
    ['uri', 'https://example.com/path', 'example.com'],
    ['mac', '01:23:45:67:89:ab', '01:23:45'],
    ['quantity', '500Mi', '5 apples'],
    ['k8s-short-name', 'my-name', 'My-Name'],
  ];
  for (const [format, good, bad] of cases) {
    test(format, () => {
      assert.deepEqual(check({ type: 'string', format }, good), [], good);
      assert.deepEqual(check({ type: 'string', format }, bad), [
        `spec.x: Invalid value: ${JSON.stringify(bad)}: spec.x in body must be of type ${format}: ${JSON.stringify(bad)}`,
      ]);
    });
  }

  test('an unsupported format is ignored', () => {
    assert.deepEqual(check({ type: 'string', format: 'color' }, 'anything'), []);
  });

  test('a string format on a non-string value is a type error on the format', () => {
    assert.deepEqual(check({ type: 'string', format: 'date' }, 5), [
      'spec.x: Invalid value: "int64": spec.x in body must be of type date: "int64"',
    ]);
  });
});
