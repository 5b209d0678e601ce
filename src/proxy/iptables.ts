/**
 * Running iptables: the {@link IptablesRunner} contract the proxier writes through, and its real
 * implementation over `iptables-restore` / `iptables-save` / `conntrack` (nft backend; never
 * iptables-legacy), optionally inside a network namespace (`ip netns exec NAME ...`), which is how
 * tests and benchmarks keep the host's rules untouched.
 */
import { deleteConntrackFlows, inNetns, runCommand as run } from './exec.ts';

/** An iptables or conntrack command failed. */
export class IptablesError extends Error {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(command: string, exitCode: number | null, stderr: string) {
    super(`${command} failed (exit ${exitCode}): ${stderr.trim()}`);
    this.name = 'IptablesError';
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export type Table = 'nat' | 'filter';

/** What the proxier needs from iptables. Implementations must be safe to call one at a time. */
export interface IptablesRunner {
  /**
   * Applies `input` with `iptables-restore --noflush`: one atomic transaction per table; chains
   * not named in `input` are left alone. Rejects with {@link IptablesError} when it fails (nothing
   * of that table was applied).
   */
  restore(input: string): Promise<void>;
  /** `iptables-save -t table`. */
  save(table: Table): Promise<string>;
  /**
   * `conntrack -D args...`: deletes matching flows. Finding none is not an error.
   */
  deleteConntrack(args: string[]): Promise<void>;
}

export interface ExecRunnerOptions {
  /** Run every command inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Binaries, default from PATH. */
  iptablesRestore?: string;
  iptablesSave?: string;
  conntrack?: string;
  /**
   * Inputs declaring at least this many chains are restored with {@link withListCommands}
   * (default 1,000).
   */
  bulkChainThreshold?: number;
}

function countChainLines(input: string): number {
  let n = 0;
  for (let i = input.indexOf('\n:'); i >= 0; i = input.indexOf('\n:', i + 2)) n++;
  return n;
}

/**
 * `input` with a `-S` (list the table) in each table's section, after its `-I`/`-D` lines if any
 * (they may need the table's built-in chains created first), else right after `*table`.
 *
 * iptables-nft 1.8.x with --noflush records every chain a command names in a sorted linked list
 * (nft-cache.c, cache_chain_list_insert) to fetch only those chains: O(n) per command, O(n²) per
 * restore — 11,000 chains and 32,000 rules take ~20 s instead of ~1 s. A command naming no chain
 * (here the read-only `-S`) makes it fetch all chains instead and skip that list. The listing costs
 * a dump of the table, so it is only worth it for big inputs.
 */
export function withListCommands(input: string): string {
  const lines = input.split('\n');
  const out: string[] = [];
  let section: string[] = [];
  const flush = () => {
    let at = 1;
    for (const [i, l] of section.entries()) if (l.startsWith('-I ') || l.startsWith('-D ')) at = i + 1;
    out.push(...section.slice(0, at), '-S', ...section.slice(at));
    section = [];
  };
  for (const l of lines) {
    if (l.startsWith('*')) section = [l];
    else if (section.length && l === 'COMMIT') {
      section.push(l);
      flush();
    } else if (section.length) section.push(l);
    else out.push(l);
  }
  return out.join('\n');
}

/** The real runner. */
export class ExecIptablesRunner implements IptablesRunner {
  readonly #o: ExecRunnerOptions;

  constructor(opts: ExecRunnerOptions = {}) {
    this.#o = opts;
  }

  #argv(cmd: string, args: string[]): string[] {
    return inNetns(this.#o.netns, [cmd, ...args]);
  }

  async restore(input: string): Promise<void> {
    const argv = this.#argv(this.#o.iptablesRestore ?? 'iptables-restore', ['-w', '--noflush']);
    if (countChainLines(input) >= (this.#o.bulkChainThreshold ?? 1000)) {
      // See withListCommands: much faster for big inputs; if it fails (e.g. a table whose built-in
      // chains do not exist yet), the plain input is tried.
      const r = await run(argv, withListCommands(input), true);
      if (r.code === 0) return;
    }
    const r = await run(argv, input);
    if (r.code !== 0) throw new IptablesError(argv.join(' '), r.code, r.stderr);
  }

  async save(table: Table): Promise<string> {
    const argv = this.#argv(this.#o.iptablesSave ?? 'iptables-save', ['-t', table]);
    const r = await run(argv);
    if (r.code !== 0) throw new IptablesError(argv.join(' '), r.code, r.stderr);
    return r.stdout;
  }

  async deleteConntrack(args: string[]): Promise<void> {
    const { argv, failed } = await deleteConntrackFlows(
      this.#o.netns,
      this.#o.conntrack ?? 'conntrack',
      args,
    );
    if (failed) throw new IptablesError(argv.join(' '), failed.code, failed.stderr);
  }
}

/** A table as iptables-save shows it: chain names (in order) and the rules (`-A ...` lines). */
export interface SavedTable {
  chains: string[];
  rules: string[];
}

/** Parses the `*table` section of iptables-save output. */
export function parseSave(text: string, table: Table): SavedTable {
  const out: SavedTable = { chains: [], rules: [] };
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      inTable = line === `*${table}`;
      continue;
    }
    if (!inTable || !line || line.startsWith('#')) continue;
    if (line === 'COMMIT') {
      inTable = false;
      continue;
    }
    if (line.startsWith(':')) out.chains.push(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) out.rules.push(line);
  }
  return out;
}
