/**
 * Running nft: the {@link NftRunner} contract the nftables proxier writes through, and its real
 * implementation over `nft -f -` and `conntrack`, optionally inside a network namespace.
 */
import { deleteConntrackFlows, inNetns, runCommand } from '../exec.ts';

/** An nft or conntrack command failed. */
export class NftError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(command: string, exitCode: number | null, stderr: string) {
    super(`${command} failed (exit ${exitCode}): ${stderr.trim().slice(0, 2000)}`);
    this.name = 'NftError';
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** What the nftables proxier needs. Implementations must be safe to call one at a time. */
export interface NftRunner {
  /**
   * Applies `script` (`nft -f -`) as one transaction: all of it or, on failure, none of it (rejects
   * with {@link NftError}).
   */
  apply(script: string): Promise<void>;
  /**
   * The table `family name` as `nft -t list table` prints it (declarations and rules, no set
   * elements), or null when there is no such table (also when nft is not installed: then nothing
   * can have made it).
   */
  listTable(family: string, name: string): Promise<string | null>;
  /** `conntrack -D args...`: deletes matching flows. Finding none is not an error. */
  deleteConntrack(args: string[]): Promise<void>;
}

export interface ExecNftRunnerOptions {
  /** Run every command inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Binaries, default from PATH. */
  nft?: string;
  conntrack?: string;
}

/** The real runner. */
export class ExecNftRunner implements NftRunner {
  readonly #o: ExecNftRunnerOptions;

  constructor(opts: ExecNftRunnerOptions = {}) {
    this.#o = opts;
  }

  async apply(script: string): Promise<void> {
    const argv = inNetns(this.#o.netns, [this.#o.nft ?? 'nft', '-f', '-']);
    const r = await runCommand(argv, script, true);
    if (r.code !== 0) throw new NftError(argv.join(' '), r.code, r.stderr);
  }

  async listTable(family: string, name: string): Promise<string | null> {
    const argv = inNetns(this.#o.netns, [this.#o.nft ?? 'nft', '-t', 'list', 'table', family, name]);
    const r = await runCommand(argv);
    if (r.code === 127) return null; // no nft on this machine: no table either
    if (r.code === 0) return r.stdout;
    if (/No such file or directory/.test(r.stderr)) return null;
    throw new NftError(argv.join(' '), r.code, r.stderr);
  }

  async deleteConntrack(args: string[]): Promise<void> {
    const { argv, failed } = await deleteConntrackFlows(
      this.#o.netns,
      this.#o.conntrack ?? 'conntrack',
      args,
    );
    if (failed) throw new NftError(argv.join(' '), failed.code, failed.stderr);
  }
}

/** Names of the chains in `nft -t list table` output. */
export function chainsOfListing(text: string): string[] {
  return [...text.matchAll(/^\s*chain (\S+) \{/gm)].map((m) => m[1]!);
}
