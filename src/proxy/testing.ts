/**
 * A fake {@link IptablesRunner} for tests: an in-memory model of the nat and filter tables that
 * applies iptables-restore input the way `iptables-restore --noflush` does (a `:CHAIN` line creates
 * or flushes a chain; -A, -I, -D, -X; each table's section is one transaction) and fails the way it
 * does (unknown chain, unknown jump target, deleting a chain still referenced or not empty). It keeps
 * every input it was given, and every conntrack call.
 */
import { IptablesError, type IptablesRunner, type Table } from './iptables.ts';

const BUILTIN_CHAINS: Record<Table, string[]> = {
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};
const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MARK', 'MASQUERADE', 'DNAT', 'SNAT']);

type Tables = Record<Table, Map<string, string[]>>;

function emptyTables(): Tables {
  const t = { nat: new Map<string, string[]>(), filter: new Map<string, string[]>() };
  for (const table of ['nat', 'filter'] as const) for (const c of BUILTIN_CHAINS[table]) t[table].set(c, []);
  return t;
}

function targetOf(spec: string): string | undefined {
  return / -j (\S+)/.exec(` ${spec}`)?.[1];
}

export class FakeIptables implements IptablesRunner {
  tables: Tables = emptyTables();
  /** Every restore input, in order (also failed ones). */
  readonly restores: string[] = [];
  /** Every conntrack -D argument list. */
  readonly conntrackCalls: string[][] = [];
  /** Number of save() calls. */
  saves = 0;
  /** When set, the next restore fails with this message (and is not applied). */
  failNext: string | null = null;

  async restore(input: string): Promise<void> {
    this.restores.push(input);
    if (this.failNext) {
      const msg = this.failNext;
      this.failNext = null;
      throw new IptablesError('iptables-restore', 1, msg);
    }
    let table: Table | null = null;
    let work: Map<string, string[]> | null = null;
    const fail = (n: number, why: string): never => {
      throw new IptablesError('iptables-restore', 1, `line ${n}: ${why}`);
    };
    const lines = input.split('\n');
    for (const [i, raw] of lines.entries()) {
      const n = i + 1;
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        table = line.slice(1) as Table;
        if (!(table in this.tables)) fail(n, `unknown table ${table}`);
        work = new Map([...this.tables[table]].map(([k, v]) => [k, [...v]]));
        continue;
      }
      if (!table || !work) fail(n, 'no table');
      const w = work!;
      if (line === 'COMMIT') {
        this.tables[table!] = w;
        table = null;
        work = null;
        continue;
      }
      if (line.startsWith(':')) {
        const name = line.slice(1).split(' ')[0]!;
        if (!BUILTIN_CHAINS[table!].includes(name)) w.set(name, []);
        continue;
      }
      const m = /^(-[AIDX]) (\S+)(?: (.*))?$/.exec(line);
      if (!m) fail(n, `cannot parse ${line}`);
      const [, op, chain, rest = ''] = m!;
      const rules = w.get(chain!);
      if (!rules) fail(n, `chain ${chain} does not exist`);
      if (op === '-X') {
        if (BUILTIN_CHAINS[table!].includes(chain!)) fail(n, `cannot delete built-in chain ${chain}`);
        if (rules!.length) fail(n, `chain ${chain} is not empty`);
        for (const [other, rs] of w) {
          if (rs.some((r) => targetOf(r) === chain)) fail(n, `chain ${chain} is referenced from ${other}`);
        }
        w.delete(chain!);
        continue;
      }
      let spec = rest;
      let pos = 0;
      if (op === '-I') {
        const num = /^(\d+) (.*)$/.exec(rest);
        if (num) {
          pos = Number(num[1]) - 1;
          spec = num[2]!;
        }
      }
      const target = targetOf(spec);
      if (op !== '-D' && target && !BUILTIN_TARGETS.has(target) && !w.has(target)) {
        fail(n, `jump to unknown chain ${target}`);
      }
      if (op === '-A') rules!.push(spec);
      else if (op === '-I') rules!.splice(pos, 0, spec);
      else {
        const at = rules!.indexOf(spec);
        if (at < 0) fail(n, `rule not found in ${chain}: ${spec}`);
        rules!.splice(at, 1);
      }
    }
    if (table) fail(lines.length, `table ${table} not committed`);
  }

  async save(table: Table): Promise<string> {
    this.saves++;
    const out = [`*${table}`];
    for (const c of this.tables[table].keys())
      out.push(`:${c} ${BUILTIN_CHAINS[table].includes(c) ? 'ACCEPT' : '-'} [0:0]`);
    for (const [c, rules] of this.tables[table]) for (const r of rules) out.push(`-A ${c} ${r}`);
    out.push('COMMIT', '');
    return out.join('\n');
  }

  async deleteConntrack(args: string[]): Promise<void> {
    this.conntrackCalls.push(args);
  }

  /** The rules of `chain` (without `-A chain`), or undefined when it does not exist. */
  chain(table: Table, chain: string): string[] | undefined {
    return this.tables[table].get(chain);
  }

  /** Names of chains in `table` starting with `prefix`. */
  chainsWithPrefix(table: Table, prefix: string): string[] {
    return [...this.tables[table].keys()].filter((c) => c.startsWith(prefix)).sort();
  }
}
