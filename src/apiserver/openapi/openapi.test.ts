import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openApiData, type Schema } from './data.ts';
import { buildOpenApiData, NameResolver, parseDeclaration, typeToSchema } from './generate.ts';
import { groupPathOf, type OpenApiResource, OpenApiService, refsOf } from './index.ts';

const REF = '#/components/schemas/';

const CRONTAB_SCHEMA = {
  type: 'object',
  description: 'A cron tab.',
  properties: {
    spec: {
      type: 'object',
      description: 'The desired state.',
      properties: { cronSpec: { type: 'string', description: 'When to run, in cron syntax.' } },
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

function resources(): OpenApiResource[] {
  return [
    {
      group: '',
      version: 'v1',
      resource: 'pods',
      kind: 'Pod',
      namespaced: true,
      subresources: [
        'status',
        'log',
        'exec',
        'attach',
        'portforward',
        'binding',
        'eviction',
        'ephemeralcontainers',
      ],
    },
    {
      group: '',
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespaced: true,
      subresources: [],
    },
    {
      group: '',
      version: 'v1',
      resource: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      subresources: ['status'],
    },
    {
      group: '',
      version: 'v1',
      resource: 'services',
      kind: 'Service',
      namespaced: true,
      subresources: ['status', 'proxy'],
    },
    {
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespaced: true,
      subresources: ['status', 'scale'],
    },
    {
      group: 'batch',
      version: 'v1',
      resource: 'jobs',
      kind: 'Job',
      namespaced: true,
      subresources: ['status'],
    },
    {
      group: 'stable.example.com',
      version: 'v1',
      resource: 'crontabs',
      kind: 'CronTab',
      namespaced: true,
      subresources: ['status', 'scale'],
      custom: true,
      schema: CRONTAB_SCHEMA,
    },
  ];
}

interface Param {
  name: string;
  in: string;
}
interface Operation {
  parameters?: Param[];
  requestBody?: unknown;
  operationId?: string;
  [key: string]: unknown;
}
interface PathItem {
  parameters?: Param[];
  get?: Operation;
  put?: Operation;
  post?: Operation;
  patch?: Operation;
  delete?: Operation;
}

function doc(svc: OpenApiService, groupPath: string) {
  const d = svc.v3Document(groupPath);
  assert.ok(d, `no document for ${groupPath}`);
  return JSON.parse(d.body.toString('utf8')) as {
    openapi: string;
    paths: Record<string, PathItem>;
    components: { schemas: Record<string, Schema> };
  };
}

describe('OpenAPI v3 index', () => {
  it('lists every served group-version with the hash of its document', () => {
    const svc = new OpenApiService(resources);
    const index = svc.v3Index();
    assert.deepEqual(Object.keys(index.paths), [
      'api/v1',
      'apis/apps/v1',
      'apis/batch/v1',
      'apis/stable.example.com/v1',
    ]);
    for (const [groupPath, entry] of Object.entries(index.paths)) {
      const d = svc.v3Document(groupPath)!;
      assert.match(d.etag, /^[0-9A-F]{128}$/);
      assert.equal(entry.serverRelativeURL, `/openapi/v3/${groupPath}?hash=${d.etag}`);
    }
  });

  it('serves no document for a group-version that is not served', () => {
    const svc = new OpenApiService(resources);
    assert.equal(svc.v3Document('apis/apps/v2'), null);
    assert.equal(svc.v3Document('apis/nope/v1'), null);
  });

  it('names the core group api/v1 and the others apis/<group>/<version>', () => {
    assert.equal(groupPathOf('', 'v1'), 'api/v1');
    assert.equal(groupPathOf('apps', 'v1'), 'apis/apps/v1');
  });
});

describe('OpenAPI v3 documents', () => {
  it('carry the real Kubernetes schemas with their descriptions and extensions', () => {
    const d = doc(new OpenApiService(resources), 'api/v1');
    assert.equal(d.openapi, '3.0.0');
    const container = d.components.schemas['io.k8s.api.core.v1.Container']!;
    assert.match(container.description!, /single application container/);
    assert.deepEqual(container.required, ['name']);
    const props = container.properties!;
    assert.match(props.image!.description!, /Container image name/);
    assert.deepEqual(props.imagePullPolicy!.enum, ['Always', 'IfNotPresent', 'Never']);
    assert.equal(props.ports!.type, 'array');
    assert.equal(props.ports!['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.deepEqual(props.ports!['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    // A field newer than the base release, with its description, from the overlay.
    assert.match(props.restartPolicyRules!.description!, /rules/);
    assert.deepEqual(props.lifecycle!.allOf, [{ $ref: `${REF}io.k8s.api.core.v1.Lifecycle` }]);

    const podSpec = d.components.schemas['io.k8s.api.core.v1.PodSpec']!.properties!;
    assert.equal(podSpec.containers!['x-kubernetes-list-type'], 'map');
    assert.equal(podSpec.containers!['x-kubernetes-patch-strategy'], 'merge');
    assert.ok(podSpec.resources, 'PodSpec.resources (1.32+) is there');

    const pod = d.components.schemas['io.k8s.api.core.v1.Pod']!;
    assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    const cm = d.components.schemas['io.k8s.api.core.v1.ConfigMap']!;
    assert.equal(cm.properties!.data!['x-kubernetes-map-type'], undefined);
    assert.equal(
      d.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']!.properties!.labels!.type,
      'object',
    );
    const intOrString = d.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'];
    assert.deepEqual(intOrString?.oneOf, [{ type: 'integer' }, { type: 'string' }]);
  });

  it('resolve every reference within the document', () => {
    const svc = new OpenApiService(resources);
    for (const groupPath of Object.keys(svc.v3Index().paths)) {
      const d = doc(svc, groupPath);
      const missing = refsOf(d).filter((name) => !d.components.schemas[name]);
      assert.deepEqual(missing, [], `${groupPath} refers to missing schemas`);
    }
  });

  it('give every PATCH operation the kind and a fieldValidation parameter, as kubectl looks for', () => {
    const d = doc(new OpenApiService(resources), 'api/v1');
    const item = d.paths['/api/v1/namespaces/{namespace}/pods/{name}']!;
    const patch = item.patch!;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
    assert.equal(patch['x-kubernetes-action'], 'patch');
    assert.equal(patch.operationId, 'patchCoreV1NamespacedPod');
    const names = patch.parameters!.map((p) => p.name);
    for (const name of ['dryRun', 'fieldManager', 'fieldValidation', 'force'])
      assert.ok(names.includes(name), name);
    assert.ok(patch.parameters!.every((p) => p.in === 'query'));
    const body = patch.requestBody as { content: Record<string, { schema: Schema }>; required: boolean };
    assert.deepEqual(Object.keys(body.content), [
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    assert.deepEqual(
      item.parameters!.map((p) => p.name),
      ['name', 'namespace', 'pretty'],
    );

    for (const groupPath of ['api/v1', 'apis/apps/v1', 'apis/stable.example.com/v1']) {
      for (const [path, ops] of Object.entries(doc(new OpenApiService(resources), groupPath).paths)) {
        // Connect operations (proxy) carry the options kind (ServiceProxyOptions), not the object's.
        if (!ops.patch || ops.patch['x-kubernetes-action'] === 'connect') continue;
        assert.ok(ops.patch['x-kubernetes-group-version-kind'], `${path} PATCH has a kind`);
        assert.ok(
          ops.patch.parameters!.some((p) => p.name === 'fieldValidation'),
          `${path} PATCH takes fieldValidation`,
        );
      }
    }
  });

  it('have the operations of every verb, on collections, items and subresources', () => {
    const d = doc(new OpenApiService(resources), 'apis/apps/v1');
    const collection = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments']!;
    assert.deepEqual(Object.keys(collection).sort(), ['delete', 'get', 'parameters', 'post']);
    assert.equal(collection.get!.operationId, 'listAppsV1NamespacedDeployment');
    assert.ok(collection.post!.parameters!.some((p) => p.name === 'fieldValidation'));
    const item = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!;
    assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
    assert.ok(d.paths['/apis/apps/v1/deployments']?.get, 'list across namespaces');
    const status = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status']!;
    assert.deepEqual(status.patch!['x-kubernetes-group-version-kind'], {
      group: 'apps',
      kind: 'Deployment',
      version: 'v1',
    });
    const scale = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']!;
    assert.deepEqual(scale.put!['x-kubernetes-group-version-kind'], {
      group: 'autoscaling',
      kind: 'Scale',
      version: 'v1',
    });
    assert.ok(d.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
    assert.ok(d.components.schemas['io.k8s.api.apps.v1.DeploymentList']);

    const core = doc(new OpenApiService(resources), 'api/v1');
    assert.ok(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log']!.get);
    assert.ok(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec']!.post);
    assert.equal(
      (
        core.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction']!.post![
          'x-kubernetes-group-version-kind'
        ] as {
          kind: string;
        }
      ).kind,
      'Eviction',
    );
    assert.ok(core.paths['/api/v1/namespaces/{name}']?.patch, 'cluster-scoped items have no namespace');
    assert.equal(core.paths['/api/v1/namespaces/{namespace}/namespaces'], undefined);
  });

  it('leave out the operations of verbs a resource does not have', () => {
    const svc = new OpenApiService(() => [
      {
        group: '',
        version: 'v1',
        resource: 'bindings',
        kind: 'Binding',
        namespaced: true,
        subresources: [],
        verbs: ['create'],
      },
    ]);
    const d = doc(svc, 'api/v1');
    assert.deepEqual(Object.keys(d.paths), ['/api/v1/namespaces/{namespace}/bindings']);
    assert.deepEqual(Object.keys(d.paths['/api/v1/namespaces/{namespace}/bindings']!).sort(), [
      'parameters',
      'post',
    ]);
  });

  it('include custom resources from their CRD schema', () => {
    const d = doc(new OpenApiService(resources), 'apis/stable.example.com/v1');
    const crontab = d.components.schemas['com.example.stable.v1.CronTab']!;
    assert.deepEqual(crontab['x-kubernetes-group-version-kind'], [
      { group: 'stable.example.com', kind: 'CronTab', version: 'v1' },
    ]);
    assert.equal(crontab.description, 'A cron tab.');
    assert.equal(crontab.properties!.spec!.properties!.cronSpec!.description, 'When to run, in cron syntax.');
    assert.deepEqual(crontab.properties!.metadata!.allOf, [
      { $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` },
    ]);
    assert.equal(crontab.properties!.apiVersion!.type, 'string');
    assert.ok(
      d.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'],
      'ObjectMeta comes along',
    );
    const list = d.components.schemas['com.example.stable.v1.CronTabList']!;
    assert.deepEqual(list.properties!.items!.items, { $ref: `${REF}com.example.stable.v1.CronTab` });
    assert.deepEqual(list['x-kubernetes-group-version-kind'], [
      { group: 'stable.example.com', kind: 'CronTabList', version: 'v1' },
    ]);
    assert.deepEqual(CRONTAB_SCHEMA.properties.spec.properties, {
      cronSpec: { type: 'string', description: 'When to run, in cron syntax.' },
    });
    assert.equal('apiVersion' in CRONTAB_SCHEMA.properties, false, 'the given schema is not modified');

    const patch = d.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}']!.patch!;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], {
      group: 'stable.example.com',
      kind: 'CronTab',
      version: 'v1',
    });
    const types = Object.keys((patch.requestBody as { content: object }).content);
    assert.ok(!types.includes('application/strategic-merge-patch+json'), 'no strategic merge patch for CRs');
    assert.ok(types.includes('application/apply-patch+yaml'));
  });

  it('accept any object for a kind without a schema', () => {
    const svc = new OpenApiService(() => [
      {
        group: 'x.io',
        version: 'v1alpha1',
        resource: 'things',
        kind: 'Thing',
        namespaced: false,
        subresources: [],
      },
    ]);
    const thing = doc(svc, 'apis/x.io/v1alpha1').components.schemas['io.x.v1alpha1.Thing']!;
    assert.equal(thing['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(thing['x-kubernetes-group-version-kind'], [
      { group: 'x.io', kind: 'Thing', version: 'v1alpha1' },
    ]);
  });

  it('are cached, and change (with their hash) when the resources change', () => {
    let list = resources();
    const svc = new OpenApiService(() => list);
    const first = svc.v3Document('apis/apps/v1')!;
    assert.equal(svc.v3Document('apis/apps/v1'), first, 'the same document object while nothing changed');
    const core = svc.v3Document('api/v1')!;
    list = [
      ...list,
      {
        group: 'apps',
        version: 'v1',
        resource: 'replicasets',
        kind: 'ReplicaSet',
        namespaced: true,
        subresources: ['status', 'scale'],
      },
    ];
    const second = svc.v3Document('apis/apps/v1')!;
    assert.notEqual(second.etag, first.etag);
    assert.equal(svc.v3Document('api/v1'), core, 'other group-versions are kept');
    assert.ok(svc.v3Index().paths['apis/apps/v1']!.serverRelativeURL.endsWith(second.etag));
    assert.ok(JSON.parse(second.body.toString()).components.schemas['io.k8s.api.apps.v1.ReplicaSet']);
  });
});

describe('OpenAPI data', () => {
  it('is what scripts/gen-openapi.ts builds from the pinned packages', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
    const fresh = buildOpenApiData(root);
    // Compared as text: a structural diff of a few megabytes would drown the message.
    assert.ok(
      JSON.stringify(fresh) === JSON.stringify(openApiData()),
      'data/kubernetes.json.gz is stale: run node_modules/.bin/node scripts/gen-openapi.ts',
    );
  });

  it('parses type declarations into schemas', () => {
    const names = new NameResolver([
      'io.k8s.api.core.v1.Pod',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    ]);
    assert.equal(
      names.resolve('IoK8sApiCoreV1ContainerRestartRule'),
      'io.k8s.api.core.v1.ContainerRestartRule',
    );
    assert.equal(
      names.resolve('IoK8sApiResourceV1beta2DeviceClass'),
      'io.k8s.api.resource.v1beta2.DeviceClass',
    );
    assert.equal(
      names.resolve('IoK8sApimachineryPkgApisMetaV1Time'),
      'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
    );
    assert.deepEqual(typeToSchema('Array<IIoK8sApiCoreV1Pod>', names), {
      type: 'array',
      items: { $ref: `${REF}io.k8s.api.core.v1.Pod` },
    });
    assert.deepEqual(typeToSchema('{\n [key: string]: string;\n }', names), {
      type: 'object',
      additionalProperties: { type: 'string' },
    });
    assert.deepEqual(typeToSchema('"A" | "B"', names), { type: 'string', enum: ['A', 'B'] });

    const text = `import { X } from "y";
/**
 * Thing is a "thing"; it has {braces}.
 */
export interface IThing {
    /**
     * The name: "quoted" and; with a semicolon.
     */
    "name": string;
    "labels"?: {
        [key: string]: string;
    };
    "children"?: Array<IThing>;
}
export type { IThing as IIoK8sApiCoreV1Thing, Thing as IoK8sApiCoreV1Thing };
`;
    const d = parseDeclaration(text, names)!;
    assert.equal(d.name, 'io.k8s.api.core.v1.Thing');
    assert.equal(d.description, 'Thing is a "thing"; it has {braces}.');
    assert.deepEqual([...d.fields.keys()], ['name', 'labels', 'children']);
    assert.deepEqual(d.fields.get('name'), {
      description: 'The name: "quoted" and; with a semicolon.',
      optional: false,
      type: 'string',
    });
    assert.equal(d.fields.get('children')!.type, 'Array<IIoK8sApiCoreV1Thing>');
  });
});
