/**
 * Running the proxy's command-line tools (iptables-restore, nft, conntrack): a command fed `input`
 * on stdin, optionally inside a network namespace (`ip netns exec NAME ...`), which is how
 * tests and benchmarks keep the host's rules untouched.
 */
import { defaultRunner } from '../util/exec/index.ts';

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
 * Runs `argv` with `input` on stdin through the shared command runner (which forks from a small
 * helper shell, not from this process); resolves with its exit code and output, never rejects for a
 * non-zero exit (a command that is not installed gives 127, as in a shell). `discardStdout` drops
 * stdout.
 */
export async function runCommand(argv: string[], input?: string, discardStdout = false): Promise<RunResult> {
  const r = await defaultRunner().run(argv[0]!, argv.slice(1), input === undefined ? {} : { input });
  return { code: r.code, stdout: discardStdout ? '' : r.stdout, stderr: r.stderr };
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
