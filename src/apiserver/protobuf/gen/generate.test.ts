/**
 * The committed schema table against its source: regenerated from the helm 4 binary it was made
 * from, it must be identical; and the reader of Go struct tags must agree with the .proto
 * descriptors that helm 3.17 (k8s.io/api 0.32) still embeds. The binaries come from npm packages
 * (the 1.32 one is a devDependency): a test whose package is missing is skipped.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { CLIENT_PACKAGES, type ClientVersion, ensureClient } from '../../../cli/tools.ts';
import { protoPackage, tagValue } from './build.ts';
import { extractDescriptors, PROTO_TYPE, parseFileDescriptor } from './descriptors.ts';
import {
  canFormatTable,
  checkAgainstDescriptors,
  formatTable,
  GENERATED_SCHEMA,
  generateTable,
  selfCheck,
} from './generate.ts';
import type { SchemaTable } from './table.ts';

const require = createRequire(import.meta.url);

function installed(version: ClientVersion): string | undefined {
  try {
    return require.resolve(`${CLIENT_PACKAGES[version]}/package.json`);
  } catch {
    return undefined;
  }
}

const committed = JSON.parse(readFileSync(GENERATED_SCHEMA, 'utf8')) as SchemaTable;

describe('protobuf schema generator', () => {
  it('regenerates the committed table byte for byte from helm 4 (k8s.io/api 0.35)', {
    skip: !installed('1.35') || !canFormatTable(),
  }, async () => {
    const pkgJson = installed('1.35')!;
    const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
    assert.equal(
      version,
      committed.source.packageVersion,
      'the table was generated from another package version',
    );
    const table = generateTable({
      path: await ensureClient('helm', '1.35'),
      package: CLIENT_PACKAGES['1.35'],
      packageVersion: version,
      binary: 'helm/helm',
    });
    assert.equal(table.source.sha256, committed.source.sha256);
    assert.equal(formatTable(table), readFileSync(GENERATED_SCHEMA, 'utf8'));
  });

  it('reads struct tags that agree exactly with the .proto descriptors of helm 3.17', {
    skip: !installed('1.32'),
  }, async () => {
    const helm = await ensureClient('helm', '1.32');
    const self = selfCheck(helm);
    assert.ok(self.fields > 1000, `only ${self.fields} fields compared`);
    assert.deepEqual(self.problems, []);
    assert.deepEqual(self.additions, []);
    // The 0.35 table only adds to 0.32: no number, type or pointer-ness changed.
    const cross = checkAgainstDescriptors(committed.messages, readFileSync(helm));
    assert.deepEqual(cross.problems, []);
    assert.ok(cross.additions.some((a) => a.startsWith('k8s.io.api.core.v1.PodSpec.hostnameOverride = 41')));
  });

  it('the check catches a wrong number, type, pointer-ness or map-ness', {
    skip: !installed('1.32'),
  }, async () => {
    const helm = readFileSync(await ensureClient('helm', '1.32'));
    const messages = structuredClone(committed.messages);
    const field = (msg: string, json: string) => messages[msg]!.find((f) => f.json === json)!;
    field('k8s.io.api.apps.v1.DeploymentSpec', 'replicas').type = 'int64';
    field('k8s.io.api.core.v1.ServicePort', 'port').no = 33;
    delete field('k8s.io.api.core.v1.ServicePort', 'targetPort').omitempty;
    field('k8s.io.api.core.v1.ServicePort', 'targetPort').ptr = true;
    delete field('k8s.io.api.core.v1.ResourceRequirements', 'limits').map;
    const { problems } = checkAgainstDescriptors(messages, helm);
    assert.equal(problems.length, 5, problems.join('\n'));
  });
});

describe('protobuf schema generator: pieces', () => {
  it('reads struct tags as reflect.StructTag.Get does', () => {
    const tag = 'json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata" yaml:"x\\"y"';
    assert.equal(tagValue(tag, 'json'), 'metadata,omitempty');
    assert.equal(tagValue(tag, 'protobuf'), 'bytes,1,opt,name=metadata');
    assert.equal(tagValue(tag, 'yaml'), 'x"y');
    assert.equal(tagValue(tag, 'xml'), undefined);
  });

  it('names proto packages as go-to-protobuf does', () => {
    assert.equal(protoPackage('k8s.io/api/core/v1'), 'k8s.io.api.core.v1');
    assert.equal(
      protoPackage('k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1'),
      'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1',
    );
  });

  it('parses FileDescriptorProtos with gogo options and finds them gzipped inside a binary', async () => {
    const { gzipSync } = await import('node:zlib');
    const { Writer } = await import('../wire.ts');
    // message M { optional string name = 1 [(gogoproto.nullable) = false]; map<string,string> labels = 2; }
    const opts = new Writer().tag(65001, 0).varint(0).finish();
    const f1 = new Writer()
      .tag(1, 2)
      .string('name')
      .tag(3, 0)
      .varint(1)
      .tag(4, 0)
      .varint(1)
      .tag(5, 0)
      .varint(9)
      .tag(8, 2)
      .bytes(opts)
      .finish();
    const entry = new Writer()
      .tag(1, 2)
      .string('LabelsEntry')
      .tag(2, 2)
      .bytes(new Writer().tag(1, 2).string('key').tag(3, 0).varint(1).tag(5, 0).varint(9).finish())
      .tag(2, 2)
      .bytes(new Writer().tag(1, 2).string('value').tag(3, 0).varint(2).tag(5, 0).varint(9).finish())
      .tag(7, 2)
      .bytes(new Writer().tag(7, 0).varint(1).finish())
      .finish();
    const f2 = new Writer()
      .tag(1, 2)
      .string('labels')
      .tag(3, 0)
      .varint(2)
      .tag(4, 0)
      .varint(3)
      .tag(5, 0)
      .varint(11)
      .tag(6, 2)
      .string('.p.M.LabelsEntry')
      .finish();
    const msg = new Writer()
      .tag(1, 2)
      .string('M')
      .tag(2, 2)
      .bytes(f1)
      .tag(2, 2)
      .bytes(f2)
      .tag(3, 2)
      .bytes(entry)
      .finish();
    const file = new Writer()
      .tag(1, 2)
      .string('k8s.io/x/generated.proto')
      .tag(2, 2)
      .string('p')
      .tag(4, 2)
      .bytes(msg)
      .finish();
    const parsed = parseFileDescriptor(file);
    assert.equal(parsed.package, 'p');
    const m = parsed.messages.find((x) => x.fullName === 'p.M')!;
    assert.deepEqual(
      m.fields.map((f) => [f.name, f.number, f.repeated, f.type, f.typeName, f.nullable]),
      [
        ['name', 1, false, PROTO_TYPE.string, '', false],
        ['labels', 2, true, PROTO_TYPE.message, 'p.M.LabelsEntry', true],
      ],
    );
    assert.ok(parsed.messages.find((x) => x.fullName === 'p.M.LabelsEntry')?.mapEntry);
    // gzip as Go writes it (header bytes 8-9: best compression, unknown OS), amid other bytes.
    const gz = gzipSync(file, { level: 9 });
    gz[8] = 2;
    gz[9] = 0xff;
    const binary = Buffer.concat([Buffer.from('junk\x1f\x8b\x08 more junk'), gz, Buffer.alloc(64)]);
    const found = extractDescriptors(binary, (n) => n.startsWith('k8s.io/'));
    assert.deepEqual([...found.keys()], ['k8s.io/x/generated.proto']);
  });
});
