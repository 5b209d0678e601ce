/**
 * The protobuf bodies real kubectl 1.35 and 1.32 send for their typed `create` commands (captured
 * by scripts/capture-kubectl-protobuf.ts), against the JSON the same commands print with
 * `--dry-run=client -o json`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeProtobufObject, encodeProtobufObject } from './index.ts';

const testdata = new URL('testdata/', import.meta.url);

/** Go prints nil pointers, nil slices and zero Times as null; skiff leaves them out. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== null)
        .map(([k, x]) => [k, dropNulls(x)]),
    );
  }
  return v;
}

for (const version of ['1.35', '1.32']) {
  const dir = new URL(`kubectl${version}/`, testdata);
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => f.slice(0, -4));

  describe(`protobuf: bodies sent by kubectl ${version}`, () => {
    it('has the fixtures', () => {
      assert.ok(names.includes('create-namespace') && names.includes('create-deployment'), names.join(' '));
      assert.ok(names.length >= 20);
    });

    for (const name of names) {
      const body = new Uint8Array(readFileSync(new URL(`${name}.bin`, dir)));
      const jsonFile = new URL(`${name}.json`, dir);

      it(`${name}: decodes, re-encodes byte for byte${existsSync(jsonFile) ? ', equals the dry-run JSON' : ''}`, () => {
        const obj = decodeProtobufObject(body);
        assert.deepEqual(encodeProtobufObject(obj), body);
        if (existsSync(jsonFile)) {
          const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as unknown;
          assert.deepEqual(dropNulls(obj), dropNulls(json));
        }
      });
    }

    it('create deployment: the full object', () => {
      const obj = decodeProtobufObject(new Uint8Array(readFileSync(new URL('create-deployment.bin', dir))));
      assert.deepEqual(obj, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: {} },
              ],
            },
          },
          strategy: {},
        },
        status: {},
      });
    });

    it('create namespace, service (targetPort number and name), quota, pdb, token', () => {
      const read = (n: string) =>
        decodeProtobufObject(new Uint8Array(readFileSync(new URL(`${n}.bin`, dir))));
      assert.deepEqual(read('create-namespace'), {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'demo' },
        spec: {},
        status: {},
      });
      const ports = (n: string) => (read(n).spec as { ports: unknown[] }).ports[0] as Record<string, unknown>;
      assert.deepEqual(ports('create-service-clusterip'), {
        name: '80-8080',
        protocol: 'TCP',
        port: 80,
        targetPort: 8080,
      });
      assert.deepEqual(ports('create-service-nodeport'), {
        name: '80-http',
        protocol: 'TCP',
        port: 80,
        targetPort: 'http',
        nodePort: 30080,
      });
      assert.deepEqual((read('create-quota').spec as Record<string, unknown>).hard, {
        cpu: '1500m',
        memory: '1Gi',
        pods: '10',
      });
      assert.equal((read('create-poddisruptionbudget').spec as Record<string, unknown>).minAvailable, '50%');
      assert.deepEqual(read('create-token'), {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: {},
        spec: { audiences: ['api'], expirationSeconds: 600 },
        status: { token: '' },
      });
    });
  });
}
