/**
 * Regenerates src/apiserver/openapi/data/kubernetes.json.gz, the Kubernetes schemas behind /openapi/v3,
 * from the devDependencies `@kubev2v/types` and `kubernetes-models` (see
 * src/apiserver/openapi/generate.ts). Deterministic: the same packages give the same bytes.
 * Usage: node_modules/.bin/node scripts/gen-openapi.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DATA_FILE } from '../src/apiserver/openapi/data.ts';
import { buildOpenApiData } from '../src/apiserver/openapi/generate.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = buildOpenApiData(root);
const json = JSON.stringify(data);
const out = fileURLToPath(DATA_FILE);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(json, { level: 9 }));
process.stdout.write(
  `${out}: ${Object.keys(data.schemas).length} schemas, ${Object.keys(data.parameters).length} parameters, ` +
    `${json.length} bytes of JSON\n`,
);
