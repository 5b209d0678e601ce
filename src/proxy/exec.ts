/**
 * Running the proxy's command-line tools (iptables-restore, nft, conntrack): a child process fed
 * `input` on stdin, optionally inside a network namespace (`ip netns exec NAME ...`), which is how
 * tests and benchmarks keep the host's rules untouched.
 */
import { spawn } from 'node:child_process';

/** What a command did. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `argv` prefixed with `ip netns exec NAME` when `netns` is given. */
export function inNetns(netns: string | undefined, argv: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

/**
 * Runs `argv` with `input` on stdin; resolves with its exit code and output (never rejects for a
 * non-zero exit; rejects only when it cannot be started). `discardStdout` drops stdout unread.
 */
export function runCommand(argv: string[], input?: string, discardStdout = false): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', discardStdout ? 'ignore' : 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin!.on('error', () => {});
    child.stdin!.end(input ?? '');
  });
}

/**
 * `conntrack -D args...` (in `netns`): resolves when it deleted flows or found none to delete;
 * otherwise resolves with the failed run (the caller throws its own error type).
 */
export async function deleteConntrackFlows(
  netns: string | undefined,
  binary: string,
  args: string[],
): Promise<{ argv: string[]; failed: RunResult | null }> {
  const argv = inNetns(netns, [binary, '-D', ...args]);
  const r = await runCommand(argv);
  // conntrack exits 1 with "0 flow entries have been deleted" when nothing matched.
  return { argv, failed: r.code !== 0 && !/0 flow entries/.test(r.stderr) ? r : null };
}
