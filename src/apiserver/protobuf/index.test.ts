import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import {
  decodeProtobufObject,
  encodeProtobufObject,
  ProtobufDecodeError,
  ProtobufEncodeError,
  UnsupportedProtobufKindError,
} from './index.ts';
import * as objects from './testdata/objects.ts';
import { Writer } from './wire.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`testdata/${name}`, import.meta.url)));
const roundTrip = (obj: Record<string, unknown>) => decodeProtobufObject(encodeProtobufObject(obj));

/** A protobuf body around a raw object message, as Go's serializer frames it. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const tm = new Writer().tag(1, 2).string(apiVersion).tag(2, 2).string(kind).finish();
  return new Writer()
    .raw(Uint8Array.of(0x6b, 0x38, 0x73, 0x00))
    .tag(1, 2)
    .bytes(tm)
    .tag(2, 2)
    .bytes(raw)
    .tag(3, 2)
    .string('')
    .tag(4, 2)
    .string('')
    .finish();
}

function helmReleaseSecret(payloadBytes: number): Record<string, unknown> {
  // helm stores base64(gzip(release JSON)) as the value; JSON carries those bytes base64-encoded again.
  const release = randomBytes(payloadBytes).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'sh.helm.release.v1.web.v3',
      namespace: 'apps',
      uid: '6f1c2b1e-0d3a-4c57-9a53-2f1e0b8f3a10',
      resourceVersion: '12345',
      generation: 1,
      creationTimestamp: '2026-03-04T05:06:07Z',
      labels: { owner: 'helm', name: 'web', status: 'deployed', version: '3', modifiedAt: '1772600767' },
      annotations: { 'meta.helm.sh/note': 'ünïcødé ✓' },
      managedFields: [
        {
          manager: 'helm',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-03-04T05:06:07Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { '.': {}, 'f:release': {} }, 'f:type': {} },
        },
      ],
    },
    data: { release: Buffer.from(release).toString('base64') },
    type: 'helm.sh/release.v1',
  };
}

describe('protobuf: bodies sent by real helm clients', () => {
  for (const [file, status] of [
    ['helm3.17-create-release.bin', 'pending-install'],
    ['helm4.1-create-release.bin', 'pending-install'],
    ['helm3.17-update-release.bin', 'uninstalling'],
    ['helm4.1-update-release.bin', 'uninstalling'],
  ] as const) {
    it(`decodes ${file} and re-encodes it byte for byte`, () => {
      const body = fixture(file);
      const obj = decodeProtobufObject(body);
      assert.equal(obj.apiVersion, 'v1');
      assert.equal(obj.kind, 'Secret');
      assert.equal(obj.type, 'helm.sh/release.v1');
      const meta = obj.metadata as Record<string, unknown>;
      assert.equal(meta.name, 'sh.helm.release.v1.tiny.v1');
      // helm leaves namespace, resourceVersion and creationTimestamp empty: none appear in JSON.
      assert.deepEqual(Object.keys(meta), ['name', 'labels']);
      const labels = meta.labels as Record<string, string>;
      assert.equal(labels.owner, 'helm');
      assert.equal(labels.name, 'tiny');
      assert.equal(labels.status, status);
      assert.equal(labels.version, '1');
      const release = Buffer.from((obj.data as Record<string, string>).release!, 'base64').toString();
      assert.match(release, /^H4sI/); // base64 of a gzip stream
      assert.deepEqual(encodeProtobufObject(obj), body);
    });
  }

  it('decodes the DeleteOptions helm uninstall sends', () => {
    const body = fixture('helm4.1-delete-options.bin');
    assert.deepEqual(decodeProtobufObject(body), { apiVersion: 'v1', kind: 'DeleteOptions' });
    assert.deepEqual(encodeProtobufObject({ apiVersion: 'v1', kind: 'DeleteOptions' }), body);
  });
});

describe('protobuf: bytes built by hand from the .proto field numbers', () => {
  const ascii = (s: string) => [...Buffer.from(s)];
  const objectMeta = [
    ...[0x0a, 0x01, ...ascii('s')], // name = 1
    ...[0x12, 0x00], // generateName = 2 (a Go string: always written)
    ...[0x1a, 0x02, ...ascii('ns')], // namespace = 3
    ...[0x22, 0x00], // selfLink = 4
    ...[0x2a, 0x00], // uid = 5
    ...[0x32, 0x00], // resourceVersion = 6
    ...[0x38, 0x00], // generation = 7 (varint)
    ...[0x42, 0x04, 0x08, 0x64, 0x10, 0x00], // creationTimestamp = 8: Time{seconds=1: 100, nanos=2: 0}
  ];
  const secret = [
    ...[0x0a, objectMeta.length, ...objectMeta], // metadata = 1
    ...[0x12, 0x06, 0x0a, 0x01, ...ascii('k'), 0x12, 0x01, ...ascii('v')], // data = 2: entry {key=1, value=2}
    ...[0x1a, 0x06, ...ascii('Opaque')], // type = 3
  ];
  const body = Uint8Array.from([
    ...[0x6b, 0x38, 0x73, 0x00], // magic "k8s\0"
    ...[0x0a, 0x0c, 0x0a, 0x02, ...ascii('v1'), 0x12, 0x06, ...ascii('Secret')], // typeMeta = 1 {apiVersion=1, kind=2}
    ...[0x12, secret.length, ...secret], // raw = 2
    ...[0x1a, 0x00], // contentEncoding = 3
    ...[0x22, 0x00], // contentType = 4
  ]);
  const json = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'ns', creationTimestamp: '1970-01-01T00:01:40Z' },
    data: { k: Buffer.from('v').toString('base64') },
    type: 'Opaque',
  };

  it('encodes a tiny Secret to exactly those bytes', () => {
    assert.equal(Buffer.from(encodeProtobufObject(json)).toString('hex'), Buffer.from(body).toString('hex'));
  });

  it('decodes those bytes to the JSON form', () => {
    assert.deepEqual(decodeProtobufObject(body), json);
  });

  it('encodes a Status as metav1.Status', () => {
    const status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
    };
    const raw = [
      ...[0x0a, 0x06, 0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00], // metadata = 1: ListMeta (selfLink, resourceVersion, continue)
      ...[0x12, 0x07, ...ascii('Failure')], // status = 2
      ...[0x1a, 0x00], // message = 3
      ...[0x22, 0x08, ...ascii('NotFound')], // reason = 4
      ...[0x30, 0x94, 0x03], // code = 6: 404
    ];
    assert.deepEqual(encodeProtobufObject(status), envelope('v1', 'Status', Uint8Array.from(raw)));
  });
});

describe('protobuf: round trips', () => {
  it('a helm release Secret with a large payload', () => {
    const secret = helmReleaseSecret(512 * 1024);
    assert.deepEqual(roundTrip(secret), secret);
  });

  it('every ObjectMeta field', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'full',
        generateName: 'full-',
        namespace: 'default',
        selfLink: '/api/v1/namespaces/default/secrets/full',
        uid: 'abc',
        resourceVersion: '99',
        generation: 7,
        creationTimestamp: '2020-02-29T23:59:59Z',
        deletionTimestamp: '2030-01-01T00:00:00Z',
        deletionGracePeriodSeconds: 0,
        labels: { a: '1', b: '' },
        annotations: { 'x/y': 'z' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u1', controller: true },
          { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u2', blockOwnerDeletion: false },
        ],
        finalizers: ['kubernetes.io/foo', 'bar'],
        managedFields: [
          { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} },
          { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status' },
        ],
      },
      stringData: { plain: 'text' },
      immutable: false,
      type: 'Opaque',
    };
    assert.deepEqual(roundTrip(secret), secret);
  });

  it('ConfigMaps with data, binaryData and immutable', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'kube-system', creationTimestamp: '2026-01-01T00:00:00Z' },
      data: { 'app.yaml': 'a: 1\nb: [x, y]\n', empty: '' },
      binaryData: { blob: Buffer.from([0, 1, 2, 255, 254]).toString('base64') },
      immutable: true,
    };
    assert.deepEqual(roundTrip(cm), cm);
    const bare = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bare' } };
    assert.deepEqual(roundTrip(bare), bare);
  });

  it('SecretList and ConfigMapList', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'SecretList',
      metadata: { resourceVersion: '500', continue: 'tok', remainingItemCount: 3 },
      items: [helmReleaseSecret(100), helmReleaseSecret(200)].map(({ apiVersion, kind, ...rest }) => rest),
    };
    assert.deepEqual(roundTrip(list), list);
    const empty = { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '1' }, items: [] };
    assert.deepEqual(roundTrip(empty), empty);
  });

  it('Status, including the ones ApiError renders', () => {
    const status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: 'Secret "x" is invalid: data[bad key]: Invalid value',
      reason: 'Invalid',
      details: {
        name: 'x',
        kind: 'Secret',
        causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value', field: 'data[bad key]' }],
        retryAfterSeconds: 2,
      },
      code: 422,
    };
    assert.deepEqual(roundTrip(status), status);
    // An empty group is left out, as Go's omitempty does.
    const rendered = ApiError.notFound({ group: '', resource: 'secrets' }, 'gone').toStatus();
    assert.deepEqual(roundTrip({ ...rendered }), { ...rendered, details: { name: 'gone', kind: 'secrets' } });
  });

  it('DeleteOptions with every field', () => {
    const opts = {
      apiVersion: 'meta.k8s.io/v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid: 'u', resourceVersion: '7' },
      orphanDependents: false,
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
      ignoreStoreReadErrorWithClusterBreakingPotential: true,
    };
    assert.deepEqual(roundTrip(opts), opts);
  });
});

describe('protobuf: decoding details', () => {
  it('skips fields it does not know, such as the removed clusterName', () => {
    const meta = new Writer()
      .tag(1, 2)
      .string('n')
      .tag(15, 2)
      .string('old-cluster')
      .tag(99, 0)
      .varint(1)
      .finish();
    const raw = new Writer().tag(1, 2).bytes(meta).finish();
    assert.deepEqual(decodeProtobufObject(envelope('v1', 'ConfigMap', raw)), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'n' },
    });
  });

  it('takes apiVersion and kind from the defaults when the envelope has none', () => {
    const body = envelope('', '', new Uint8Array(0));
    assert.deepEqual(decodeProtobufObject(body, { apiVersion: 'v1', kind: 'ConfigMap' }), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
    });
    assert.throws(() => decodeProtobufObject(body), ProtobufDecodeError);
  });

  it('keeps map keys like __proto__ as plain data', () => {
    const entry = new Writer().tag(1, 2).string('__proto__').tag(2, 2).string('x').finish();
    const meta = new Writer().tag(11, 2).bytes(entry).finish();
    const obj = decodeProtobufObject(
      envelope('v1', 'ConfigMap', new Writer().tag(1, 2).bytes(meta).finish()),
    );
    const labels = (obj.metadata as Record<string, unknown>).labels as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.entries(labels), [['__proto__', 'x']]);
  });

  it('writes map entries in UTF-8 byte order of their keys, as Go sorts them', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', data: { '😀': '1', '\uffff': '2', b: '3', a: '4' } };
    const data = roundTrip(cm).data as Record<string, string>;
    assert.deepEqual(Object.keys(data), ['a', 'b', '\uffff', '😀']);
  });

  it('keeps long and non-ASCII strings intact', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x'.repeat(253) },
      data: { long: 'línea ✓ 😀 '.repeat(1000), ascii: 'y'.repeat(70_000) },
    };
    assert.deepEqual(roundTrip(cm), cm);
  });

  it('reads negative int32 and int64 values', () => {
    const status = { apiVersion: 'v1', kind: 'Status', metadata: { remainingItemCount: -5 }, code: -1 };
    assert.deepEqual(roundTrip(status), status);
  });
});

describe('protobuf: errors', () => {
  const secretRaw = encodeProtobufObject(helmReleaseSecret(10));

  it('unknown kinds and versions are 415 on decode, 406 on encode', () => {
    for (const [apiVersion, kind] of [
      ['networking.k8s.io/v1', 'Gateway'],
      ['v1', 'Widget'],
      ['apps/v1', 'Secret'],
      ['v1', 'toString'],
    ] as const) {
      const err = (() => {
        try {
          decodeProtobufObject(envelope(apiVersion, kind, new Uint8Array(0)));
        } catch (e) {
          return e;
        }
      })();
      assert.ok(err instanceof UnsupportedProtobufKindError, `${apiVersion} ${kind}`);
      assert.equal(err.code, 415);
      assert.equal(err.toStatus().reason, 'UnsupportedMediaType');
      assert.throws(() => encodeProtobufObject({ apiVersion, kind }), { code: 406, reason: 'NotAcceptable' });
    }
  });

  it('malformed bodies are 400 ProtobufDecodeErrors', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['bad magic', Uint8Array.from([0x6b, 0x38, 0x73, 0x01, 0x0a, 0x00])],
      ['JSON', Buffer.from('{"kind":"Secret"}')],
      ['magic only', Uint8Array.from([0x6b, 0x38, 0x73, 0x00])],
      ['truncated', secretRaw.subarray(0, secretRaw.length - 10)],
      ['truncated varint', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x80])],
      ['length past the end', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f, 0x00])],
      ['typeMeta as a varint', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x08, 0x01])],
      ['metadata as a varint', envelope('v1', 'Secret', Uint8Array.from([0x08, 0x01]))],
      ['name as a varint', envelope('v1', 'Secret', Uint8Array.from([0x0a, 0x02, 0x08, 0x01]))],
      ['group wire type', envelope('v1', 'Secret', Uint8Array.from([0x0b]))],
      ['time after 9999', envelope('v1', 'Secret', metaWithTime(253402300800n))],
      ['time before year 1', envelope('v1', 'Secret', metaWithTime(-62135596801n))],
      ['bad FieldsV1 JSON', envelope('v1', 'Secret', managedFieldsWithRaw('{not json'))],
    ];
    for (const [name, body] of cases) {
      assert.throws(
        () => decodeProtobufObject(body),
        (e: unknown) => e instanceof ProtobufDecodeError && e.code === 400 && e.reason === 'BadRequest',
        name,
      );
    }
  });

  it('objects that do not fit the schema are ProtobufEncodeErrors', () => {
    const bad: Record<string, unknown>[] = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 5 } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { labels: ['a'] } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { generation: 1.5 } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { creationTimestamp: 'yesterday' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { finalizers: 'x' } },
      { apiVersion: 'v1', kind: 'Secret', immutable: 'yes' },
      { apiVersion: 'v1', kind: 'Secret', metadata: 'x' },
    ];
    for (const obj of bad)
      assert.throws(() => encodeProtobufObject(obj), ProtobufEncodeError, JSON.stringify(obj));
  });
});

function metaWithTime(seconds: bigint): Uint8Array {
  const time = new Writer().tag(1, 0).varint(seconds).finish();
  const meta = new Writer().tag(8, 2).bytes(time).finish();
  return new Writer().tag(1, 2).bytes(meta).finish();
}

function managedFieldsWithRaw(raw: string): Uint8Array {
  const fieldsV1 = new Writer().tag(1, 2).string(raw).finish();
  const entry = new Writer().tag(7, 2).bytes(fieldsV1).finish();
  const meta = new Writer().tag(17, 2).bytes(entry).finish();
  return new Writer().tag(1, 2).bytes(meta).finish();
}

describe('protobuf: fuzzing', () => {
  /** xorshift32: reproducible pseudo-random bytes. */
  function rng(seed: number) {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s;
    };
  }

  function decodesOrFailsCleanly(body: Uint8Array, label: string): void {
    try {
      const obj = decodeProtobufObject(body);
      JSON.stringify(obj);
    } catch (err) {
      if (err instanceof ProtobufDecodeError || err instanceof UnsupportedProtobufKindError) return;
      assert.fail(`${label}: ${Buffer.from(body).toString('hex')} threw ${String(err)}`);
    }
  }

  const seeds = [
    fixture('helm4.1-create-release.bin'),
    fixture('kubectl1.35/create-deployment.bin'),
    fixture('kubectl1.35/create-service-nodeport.bin'),
    encodeProtobufObject(objects.crd),
    encodeProtobufObject(objects.lease),
    encodeProtobufObject(objects.controllerRevision),
    encodeProtobufObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'x',
        creationTimestamp: '2026-01-01T00:00:00Z',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }],
        managedFields: [{ manager: 'm', fieldsV1: { 'f:a': {} }, time: '2026-01-01T00:00:00Z' }],
      },
      data: { a: 'YQ==' },
    }),
    encodeProtobufObject({
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      code: 500,
      details: { causes: [{}] },
    }),
    encodeProtobufObject({
      apiVersion: 'v1',
      kind: 'ConfigMapList',
      metadata: {},
      items: [{ data: { k: 'v' } }],
    }),
  ];

  it('random bytes after the magic never crash or hang the decoder', () => {
    const next = rng(42);
    for (let i = 0; i < 5000; i++) {
      const body = new Uint8Array(4 + (next() % 64));
      body.set([0x6b, 0x38, 0x73, 0x00]);
      for (let j = 4; j < body.length; j++) body[j] = next() & 0xff;
      decodesOrFailsCleanly(body, `random #${i}`);
    }
  });

  it('mutated valid bodies never crash or hang the decoder', () => {
    const next = rng(7);
    for (let i = 0; i < 20_000; i++) {
      const seed = seeds[i % seeds.length]!;
      let body = Uint8Array.from(seed);
      const edits = 1 + (next() % 4);
      for (let e = 0; e < edits; e++) {
        const at = 4 + (next() % (body.length - 4 || 1));
        switch (next() % 4) {
          case 0: // flip a byte
            body[at] = next() & 0xff;
            break;
          case 1: // truncate
            body = body.subarray(0, at);
            break;
          case 2: // duplicate a slice
            body = Uint8Array.from([
              ...body.subarray(0, at),
              ...body.subarray(at - (at % 8), at),
              ...body.subarray(at),
            ]);
            break;
          default: // drop a byte
            body = Uint8Array.from([...body.subarray(0, at), ...body.subarray(at + 1)]);
        }
      }
      decodesOrFailsCleanly(body, `mutation #${i}`);
    }
  });
});
