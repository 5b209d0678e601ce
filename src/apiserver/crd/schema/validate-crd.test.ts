import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cronTabCrd } from './testdata.ts';
import type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps } from './types.ts';
import { applyCrdDefaults, validateCrd, validateCrdUpdate } from './validate-crd.ts';

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const ROOT = 'spec.validation.openAPIV3Schema';

type Crd = CustomResourceDefinition & {
  spec: NonNullable<CustomResourceDefinition['spec']> & { versions: CustomResourceDefinitionVersion[] };
};

/** The CronTab CRD after `edit`, validated. */
function errors(edit: (crd: Crd, schema: JSONSchemaProps) => void): string[] {
  const crd = cronTabCrd() as Crd;
  edit(crd, crd.spec.versions[0]?.schema?.openAPIV3Schema as JSONSchemaProps);
  return validateCrd(crd).map(String);
}

/** The `spec` property of the CronTab schema. */
function specOf(schema: JSONSchemaProps): JSONSchemaProps {
  return schema.properties?.spec as JSONSchemaProps;
}

describe('the CronTab CRD', () => {
  test('is valid', () => {
    assert.deepEqual(
      errors(() => {}),
      [],
    );
  });

  test('singular, listKind and conversion are defaulted before validation', () => {
    const crd = cronTabCrd();
    delete crd.spec?.names?.singular;
    assert.deepEqual(validateCrd(crd), []);
    applyCrdDefaults(crd);
    assert.equal(crd.spec?.names?.singular, 'crontab');
    assert.equal(crd.spec?.names?.listKind, 'CronTabList');
    assert.deepEqual(crd.spec?.conversion, { strategy: 'None' });
    assert.deepEqual(crd.status?.storedVersions, ['v1']);
  });
});

describe('group and scope', () => {
  test('group is required and a domain with a dot', () => {
    assert.deepEqual(
      errors((c) => delete c.spec.group),
      ['spec.group: Required value'],
    );
    assert.deepEqual(
      errors((c) => {
        c.spec.group = 'example';
      }),
      ['spec.group: Invalid value: "example": should be a domain with at least one dot'],
    );
    const [bad] = errors((c) => {
      c.spec.group = 'Example.com';
    });
    assert.match(bad ?? '', /^spec\.group: Invalid value: "Example\.com": a lowercase RFC 1123 subdomain/);
  });

  test('scope is Namespaced or Cluster', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.scope = 'Global';
      }),
      ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'],
    );
    assert.deepEqual(
      errors((c) => delete c.spec.scope),
      ['spec.scope: Required value'],
    );
  });

  test('groups under k8s.io need the API approval annotation', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.group = 'stable.k8s.io';
      }),
      [
        'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
      ],
    );
    assert.deepEqual(
      errors((c) => {
        c.spec.group = 'stable.k8s.io';
        c.metadata = {
          ...c.metadata,
          annotations: { 'api-approved.kubernetes.io': 'unapproved, testing only' },
        };
      }),
      [],
    );
  });
});

describe('names', () => {
  test('plural, kind (and so singular and listKind) are required', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.names = {};
      }),
      [
        'spec.names.plural: Required value',
        'spec.names.singular: Required value',
        'spec.names.kind: Required value',
        'spec.names.listKind: Required value',
      ],
    );
  });

  test('DNS-1035 labels; kinds may have mixed case', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.names = { plural: 'CronTabs', singular: 'crontab', kind: 'Cron_Tab', shortNames: ['c t'] };
      }),
      [
        `spec.names.plural: Invalid value: "CronTabs": ${DNS1035}`,
        `spec.names.kind: Invalid value: "Cron_Tab": may have mixed case, but should otherwise match: ${DNS1035}`,
        `spec.names.listKind: Invalid value: "Cron_TabList": may have mixed case, but should otherwise match: ${DNS1035}`,
        `spec.names.shortNames[0]: Invalid value: "c t": ${DNS1035}`,
      ],
    );
  });

  test('kind and listKind differ', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.names = { ...c.spec.names, listKind: 'CronTab' };
      }),
      ['spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same'],
    );
  });
});

describe('versions', () => {
  test('names are DNS-1035 labels (also reported as the internal spec.version)', () => {
    assert.deepEqual(
      errors((c) => {
        (c.spec.versions[0] as CustomResourceDefinitionVersion).name = 'V1';
      }),
      [
        `spec.versions[0].name: Invalid value: "V1": ${DNS1035}`,
        `spec.version: Invalid value: "V1": ${DNS1035}`,
      ],
    );
  });

  test('exactly one storage version', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.versions = [];
      }),
      ['spec.versions: Invalid value: []: must have exactly one version marked as storage version'],
    );
    const none = errors((c) => {
      (c.spec.versions[0] as CustomResourceDefinitionVersion).storage = false;
    });
    assert.equal(none.length, 1);
    assert.match(
      none[0] ?? '',
      /^spec\.versions: Invalid value: \[.*\]: must have exactly one version marked as storage version$/,
    );
  });

  test('unique names', () => {
    const errs = errors((c) => {
      c.spec.versions.push({ ...(c.spec.versions[0] as CustomResourceDefinitionVersion), storage: false });
    });
    assert.equal(errs.length, 1);
    assert.match(errs[0] ?? '', /: must contain unique version names$/);
  });

  test('every version needs a schema', () => {
    assert.deepEqual(
      errors((c) => delete (c.spec.versions[0] as CustomResourceDefinitionVersion).schema),
      ['spec.versions[0].schema.openAPIV3Schema: Required value'],
    );
  });

  test('a schema shared by all versions is reported at spec.validation, differing ones per version', () => {
    assert.deepEqual(
      errors((_, s) => {
        delete specOf(s).type;
      }),
      [`${ROOT}.properties[spec].type: Required value: must not be empty for specified object fields`],
    );
    assert.deepEqual(
      errors((c) => {
        const v2 = structuredClone(c.spec.versions[0] as CustomResourceDefinitionVersion);
        v2.name = 'v2';
        v2.storage = false;
        delete specOf(v2.schema?.openAPIV3Schema as JSONSchemaProps).type;
        c.spec.versions.push(v2);
      }),
      [
        'spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
      ],
    );
  });

  test('deprecationWarning only on deprecated versions', () => {
    assert.deepEqual(
      errors((c) => {
        (c.spec.versions[0] as CustomResourceDefinitionVersion).deprecationWarning = 'use v2';
      }),
      [
        'spec.versions[0].deprecationWarning: Invalid value: "use v2": can only be set for deprecated versions',
      ],
    );
  });
});

describe('subresources', () => {
  test('scale paths are simple JSON paths under .spec and .status', () => {
    assert.deepEqual(
      errors((c) => {
        (c.spec.versions[0] as CustomResourceDefinitionVersion).subresources = {
          scale: {
            specReplicasPath: 'spec.replicas',
            statusReplicasPath: '.spec.replicas',
            labelSelectorPath: '.metadata.labels',
          },
        };
      }),
      [
        'spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with .',
        'spec.subresources.scale.statusReplicasPath: Invalid value: ".spec.replicas": should be a json path under .status',
        'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under either .spec or .status',
      ],
    );
    assert.deepEqual(
      errors((c) => {
        (c.spec.versions[0] as CustomResourceDefinitionVersion).subresources = { scale: {} };
      }),
      [
        'spec.subresources.scale.specReplicasPath: Required value',
        'spec.subresources.scale.statusReplicasPath: Required value',
      ],
    );
  });

  test('with the status subresource the root schema is an object with few fields', () => {
    assert.deepEqual(
      errors((_, s) => {
        s.type = 'array';
        s.items = { type: 'string' };
      }),
      [
        `${ROOT}.type: Invalid value: "array": only "object" is allowed as the type at the root of the schema if the status subresource is enabled`,
        `${ROOT}.type: Invalid value: "array": must be object at the root`,
      ],
    );
    const [e] = errors((_, s) => {
      s.default = {};
    });
    assert.match(
      e ?? '',
      /^spec\.validation\.openAPIV3Schema: Invalid value: \{.*\}: only \[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations\] fields are allowed at the root of the schema if the status subresource is enabled$/,
    );
  });
});

describe('additionalPrinterColumns', () => {
  test('name, type, format and JSONPath', () => {
    assert.deepEqual(
      errors((c) => {
        (c.spec.versions[0] as CustomResourceDefinitionVersion).additionalPrinterColumns = [
          { name: '', type: 'float', format: 'x', jsonPath: 'spec' },
          {},
        ];
      }),
      [
        'spec.additionalPrinterColumns[0].name: Required value',
        'spec.additionalPrinterColumns[0].type: Invalid value: "float": must be one of boolean,date,integer,number,string',
        'spec.additionalPrinterColumns[0].format: Invalid value: "x": must be one of byte,date,date-time,double,float,int32,int64,password',
        'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec": must be a simple json path starting with .',
        'spec.additionalPrinterColumns[1].name: Required value',
        'spec.additionalPrinterColumns[1].type: Required value: must be one of boolean,date,integer,number,string',
        'spec.additionalPrinterColumns[1].JSONPath: Required value',
      ],
    );
  });
});

describe('schema', () => {
  const at = (s: string) => `${ROOT}.properties[spec].${s}`;

  test('additionalProperties and properties are mutually exclusive', () => {
    assert.deepEqual(
      errors((_, s) => {
        specOf(s).additionalProperties = { type: 'string' };
      }),
      [`${at('additionalProperties')}: Forbidden: additionalProperties and properties are mutual exclusive`],
    );
    assert.deepEqual(
      errors((_, s) => {
        specOf(s).additionalProperties = true;
      }),
      [],
    );
  });

  test('unsupported OpenAPI features', () => {
    assert.deepEqual(
      errors((_, s) => {
        (specOf(s).properties as Record<string, JSONSchemaProps>).image = { $ref: '#/definitions/image' };
      }),
      [
        `${at('properties[image].type')}: Required value: must not be empty for specified object fields`,
        `${at('properties[image].$ref')}: Forbidden: $ref is not supported`,
      ],
    );
    assert.deepEqual(
      errors((_, s) => {
        (specOf(s).properties as Record<string, JSONSchemaProps>).tags = {
          type: 'array',
          items: [{ type: 'string' }],
        };
      }),
      [`${at('properties[tags].items')}: Forbidden: items must be a schema object and not an array`],
    );
    assert.deepEqual(
      errors((_, s) => {
        (specOf(s).properties as Record<string, JSONSchemaProps>).tags = {
          type: 'array',
          items: { type: 'string' },
          uniqueItems: true,
        };
      }),
      [
        `${at('properties[tags].uniqueItems')}: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
      ],
    );
  });

  test('types are OpenAPI v3 types, never null', () => {
    assert.deepEqual(
      errors((_, s) => {
        (specOf(s).properties?.image as JSONSchemaProps).type = 'null';
      }),
      [
        `${at('properties[image].type')}: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
        `${at('properties[image].type')}: Forbidden: type cannot be set to null, use nullable as an alternative`,
      ],
    );
  });

  test('an invalid pattern is reported with the Go regexp error', () => {
    assert.deepEqual(
      errors((_, s) => {
        (specOf(s).properties?.image as JSONSchemaProps).pattern = '^(?!latest)';
      }),
      [
        `${at('properties[image].pattern')}: Invalid value: "^(?!latest)": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: \`(?!\``,
      ],
    );
  });

  test('defaults must validate and be pruned', () => {
    assert.deepEqual(
      errors((_, s) => {
        (specOf(s).properties?.replicas as JSONSchemaProps).default = 20;
      }),
      [
        `${at('properties[replicas].default')}: Invalid value: 20:  in body should be less than or equal to 10`,
      ],
    );
    assert.deepEqual(
      errors((_, s) => {
        specOf(s).default = { image: 'nginx', bogus: true };
      }),
      [`${at('default')}: Invalid value: {"image":"nginx","bogus":true}: must not have unknown fields`],
    );
    assert.deepEqual(
      errors((_, s) => {
        specOf(s).default = { image: 'nginx', replicas: 2 };
      }),
      [],
    );
  });

  test('no defaults in top-level metadata, and no preserveUnknownFields with defaults', () => {
    assert.deepEqual(
      errors((_, s) => {
        (s.properties as Record<string, JSONSchemaProps>).metadata = { type: 'object', default: {} };
      }),
      [`${ROOT}.properties[metadata].default: Forbidden: must not be set in top-level metadata`],
    );
    assert.deepEqual(
      errors((c, s) => {
        c.spec.preserveUnknownFields = true;
        (specOf(s).properties?.replicas as JSONSchemaProps).default = 1;
      }),
      [
        'spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema',
        'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
      ],
    );
  });

  test('x-kubernetes-preserve-unknown-fields is true or absent', () => {
    assert.deepEqual(
      errors((_, s) => {
        specOf(s)['x-kubernetes-preserve-unknown-fields'] = false;
      }),
      [`${at('x-kubernetes-preserve-unknown-fields')}: Invalid value: false: must be true or undefined`],
    );
  });

  test('x-kubernetes-validations rules are checked for shape only', () => {
    assert.deepEqual(
      errors((_, s) => {
        specOf(s)['x-kubernetes-validations'] = [
          { rule: '' },
          { rule: 'self.replicas <= 5', reason: 'Bogus' },
        ];
      }),
      [
        `${at('x-kubernetes-validations[0].rule')}: Required value: rule is not specified`,
        `${at('x-kubernetes-validations[1].reason')}: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
      ],
    );
  });
});

describe('list and map types', () => {
  const at = (s: string) => `${ROOT}.properties[spec].properties[ports].${s}`;
  const ports = (s: JSONSchemaProps, ps: JSONSchemaProps) => {
    (specOf(s).properties as Record<string, JSONSchemaProps>).ports = ps;
  };

  test('a map list needs keys that are scalar item properties, required or defaulted', () => {
    assert.deepEqual(
      errors((_, s) =>
        ports(s, {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          items: { type: 'object', properties: { name: { type: 'string' } } },
        }),
      ),
      [
        `${at('x-kubernetes-list-map-keys')}: Required value: must not be empty if x-kubernetes-list-type is map`,
      ],
    );
    assert.deepEqual(
      errors((_, s) =>
        ports(s, {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name', 'nope', 'sub'],
          items: {
            type: 'object',
            required: ['name', 'sub'],
            properties: { name: { type: 'string' }, sub: { type: 'object' } },
          },
        }),
      ),
      [
        `${at('x-kubernetes-list-map-keys')}: Invalid value: ["name","nope","sub"]: entries must all be names of item properties`,
        `${at('items.properties[sub].type')}: Invalid value: "object": must be a scalar type if parent array's x-kubernetes-list-type is map`,
      ],
    );
    assert.deepEqual(
      errors((_, s) =>
        ports(s, {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string', nullable: true } } },
        }),
      ),
      [
        `${at('items.properties[name].default')}: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
        `${at('items.properties[name].nullable')}: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable`,
      ],
    );
  });

  test('list-map-keys need list-type map; list-type needs an array', () => {
    assert.deepEqual(
      errors((_, s) =>
        ports(s, {
          type: 'array',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        }),
      ),
      [
        `${at('x-kubernetes-list-type')}: Required value: must be map if x-kubernetes-list-map-keys is non-empty`,
      ],
    );
    assert.deepEqual(
      errors((_, s) => ports(s, { type: 'string', 'x-kubernetes-list-type': 'set' })),
      [`${at('type')}: Invalid value: "string": must be array if x-kubernetes-list-type is specified`],
    );
    assert.deepEqual(
      errors((_, s) =>
        ports(s, { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'bag' }),
      ),
      [`${at('x-kubernetes-list-type')}: Unsupported value: "bag": supported values: "atomic", "set", "map"`],
    );
  });

  test('items of a set are atomic', () => {
    assert.deepEqual(
      errors((_, s) =>
        ports(s, { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'set' }),
      ),
      [
        `${at('items.x-kubernetes-map-type')}: Invalid value: "null": must be atomic as item of a list with x-kubernetes-list-type=set`,
      ],
    );
  });
});

describe('conversion', () => {
  test('a webhook needs a client config and review versions', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.conversion = { strategy: 'Webhook' };
      }),
      [
        'spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook',
        'spec.conversion.conversionReviewVersions: Required value',
      ],
    );
    assert.deepEqual(
      errors((c) => {
        c.spec.conversion = {
          strategy: 'Webhook',
          webhook: {
            clientConfig: { url: 'http://convert.example.com/crontab' },
            conversionReviewVersions: ['v2'],
          },
        };
      }),
      [
        `spec.conversion.webhookClientConfig.url: Invalid value: "http://convert.example.com/crontab": 'https' is the only allowed URL scheme`,
        'spec.conversion.conversionReviewVersions: Invalid value: ["v2"]: must include at least one of v1, v1beta1',
      ],
    );
    assert.deepEqual(
      errors((c) => {
        c.spec.conversion = {
          strategy: 'Webhook',
          webhook: {
            clientConfig: { service: { name: 'conv', namespace: 'system' } },
            conversionReviewVersions: ['v1'],
          },
        };
      }),
      [],
    );
  });

  test('strategy is None or Webhook', () => {
    assert.deepEqual(
      errors((c) => {
        c.spec.conversion = { strategy: 'Magic' };
      }),
      ['spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"'],
    );
  });
});

describe('update', () => {
  test('group and names.plural are immutable; scope and kind once Established', () => {
    const old = cronTabCrd();
    const next = cronTabCrd();
    if (next.spec?.names) next.spec.names.plural = 'crons';
    if (next.spec) next.spec.scope = 'Cluster';
    assert.deepEqual(validateCrdUpdate(next, old).map(String), [
      'spec.names.plural: Invalid value: "crons": field is immutable',
    ]);
    old.status = { conditions: [{ type: 'Established', status: 'True' }], storedVersions: ['v1'] };
    assert.deepEqual(validateCrdUpdate(next, old).map(String), [
      'spec.scope: Invalid value: "Cluster": field is immutable',
      'spec.names.plural: Invalid value: "crons": field is immutable',
    ]);
  });

  test('stored versions stay in spec.versions', () => {
    const old = cronTabCrd();
    const next = cronTabCrd();
    const v = next.spec?.versions?.[0] as CustomResourceDefinitionVersion;
    v.name = 'v2';
    next.status = { storedVersions: ['v1', 'v2'] };
    assert.deepEqual(validateCrdUpdate(next, old).map(String), [
      'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions',
    ]);
  });
});

test('input that is not a CRD yields errors, not exceptions', () => {
  const errs = validateCrd({ spec: { versions: 'v1', names: 7, conversion: 'x' } }).map(String);
  assert.ok(errs.includes('spec.group: Required value'));
  assert.deepEqual(validateCrd([]).map(String).slice(0, 2), [
    'spec.group: Required value',
    'spec.scope: Required value',
  ]);
});
