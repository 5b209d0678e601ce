/**
 * `skiff images import FILE…`: imports image archives (docker-archive or oci-archive) into this
 * node's containerd, for air-gapped use — the same import the kubelet does at start for the
 * archives in DATA_DIR/agent/images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importImageFile } from '../kubelet/images/import.ts';
import { type NodeRecord, nodeRecordPath } from '../kubelet/kubelet.ts';
import { containerdPaths } from '../kubelet/runtime/config.ts';
import { DEFAULT_DATA_DIR } from './defaults.ts';

export const imagesHelp = `Usage: skiff images import FILE... [--data-dir DIR]

Imports image archives (docker-archive or oci-archive tar files, e.g. from 'docker save' or
'skopeo copy') into the containerd of the node whose data dir is DIR (default ${DEFAULT_DATA_DIR}); the
node must be running. To have a node import archives at every start, put them in
DIR/agent/images.`;

export async function runImages(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'data-dir': { type: 'string', default: DEFAULT_DATA_DIR } },
    allowPositionals: true,
    strict: true,
  });
  const [verb, ...files] = positionals;
  if (verb !== 'import' || files.length === 0) {
    process.stderr.write(`${imagesHelp}\n`);
    return 2;
  }
  const dataDir = values['data-dir'];
  const record = nodeRecordPath(dataDir);
  const socket = existsSync(record)
    ? (JSON.parse(readFileSync(record, 'utf8')) as NodeRecord).socket
    : containerdPaths(dataDir).socket;
  if (!existsSync(socket)) {
    throw new Error(
      `no containerd socket at ${socket}: is the node (skiff server or skiff agent) running with --data-dir ${dataDir}?`,
    );
  }
  for (const file of files) {
    const names = await importImageFile(socket, file);
    for (const name of names) process.stdout.write(`imported ${name}\n`);
  }
  return 0;
}
