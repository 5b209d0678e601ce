/**
 * A fake {@link NftRunner} for tests: an in-memory model of nftables tables that applies the
 * commands {@link NftScript} writes, as one transaction (a failing command leaves everything as it
 * was), failing where the kernel does: a command on a table, chain or set that does not exist; a
 * jump, goto or `@set` to something that does not exist; `vmap @m` on a map of data, `map @m` on a
 * verdict map, a verdict in a map of data or data in a verdict map; deleting a chain another chain's
 * rule or a map element refers to (its own rules go with it), or a set a rule uses; a map element
 * whose key exists with another value; deleting an element that is not there; re-declaring a set or
 * base chain differently. It keeps every script it was given, and every conntrack call.
 */
import { NftError, type NftRunner } from './runner.ts';

export interface FakeChain {
  /** The base chain declaration (`type ... hook ... priority ...`), if attached to a hook. */
  base?: string;
  rules: string[];
}

export interface FakeSet {
  kind: 'set' | 'map';
  spec: string;
  /** key → value ('' in a set). */
  elements: Map<string, string>;
}

export interface FakeTable {
  chains: Map<string, FakeChain>;
  sets: Map<string, FakeSet>;
}

type Tables = Map<string, FakeTable>;

function clone(tables: Tables): Tables {
  const out: Tables = new Map();
  for (const [name, t] of tables) {
    out.set(name, {
      chains: new Map([...t.chains].map(([k, c]) => [k, { ...c, rules: [...c.rules] }])),
      sets: new Map([...t.sets].map(([k, s]) => [k, { ...s, elements: new Map(s.elements) }])),
    });
  }
  return out;
}

/** Chains a rule body or verdict jumps or goes to. */
function chainRefs(text: string): string[] {
  return [...text.matchAll(/\b(?:jump|goto) ([^\s,{}]+)/g)].map((m) => m[1]!);
}

/** Sets a rule body uses (`@name`). */
function setRefs(text: string): string[] {
  return [...text.matchAll(/@([^\s,{}]+)/g)].map((m) => m[1]!);
}

/** Maps a rule body uses as verdict maps (`vmap @name`) and as data maps (`map @name`). */
function mapRefs(text: string): { verdict: string[]; data: string[] } {
  const refs = [...text.matchAll(/\b(v?)map @([^\s,{}]+)/g)];
  return {
    verdict: refs.filter((m) => m[1]).map((m) => m[2]!),
    data: refs.filter((m) => !m[1]).map((m) => m[2]!),
  };
}

/** Whether a map's declaration (`... : verdict ;`) makes it a verdict map. */
function isVerdictMap(set: FakeSet): boolean {
  return set.kind === 'map' && /: verdict ;/.test(set.spec);
}

const VERDICT = /^(?:accept|drop|continue|return|(?:jump|goto) \S+)$/;

/** Splits `a, b comment "x, y" : c` at top-level commas (not inside quotes or braces). */
function splitElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '{') depth++;
    else if (!quoted && ch === '}') depth--;
    if (ch === ',' && !quoted && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** `key [comment "..."] [: value]` → key and value. */
function parseElement(text: string): { key: string; value?: string } {
  const m = /^(.*?)(?: comment "[^"]*")?(?: : (.*))?$/.exec(text)!;
  return { key: m[1]!.trim(), ...(m[2] !== undefined ? { value: m[2].trim() } : {}) };
}

export class FakeNft implements NftRunner {
  /** `family name` → table. */
  tables: Tables = new Map();
  /** Every script, in order (also failed ones). */
  readonly scripts: string[] = [];
  /** Every conntrack -D argument list. */
  readonly conntrackCalls: string[][] = [];
  /** When set, the next apply fails with this message (and is not applied). */
  failNext: string | null = null;

  async apply(script: string): Promise<void> {
    this.scripts.push(script);
    if (this.failNext) {
      const msg = this.failNext;
      this.failNext = null;
      throw new NftError('nft -f -', 1, msg);
    }
    const work = clone(this.tables);
    for (const [i, raw] of script.split('\n').entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      try {
        this.#command(work, line);
      } catch (err) {
        throw new NftError('nft -f -', 1, `line ${i + 1}: ${(err as Error).message}: ${line}`);
      }
    }
    this.tables = work;
  }

  #command(work: Tables, line: string): void {
    const m = /^(add|delete|flush) (table|chain|rule|set|map|element) (\S+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) throw new Error('cannot parse');
    const [, verb, what, family, name, rest = ''] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const id = `${family} ${name}`;
    if (what === 'table') {
      if (verb === 'add') {
        if (!work.has(id)) work.set(id, { chains: new Map(), sets: new Map() });
      } else if (verb === 'delete') {
        if (!work.delete(id)) throw new Error('No such file or directory (table)');
      } else throw new Error('unsupported');
      return;
    }
    const t = work.get(id);
    if (!t) throw new Error('No such file or directory (table)');
    const [obj = '', body = ''] = /^(\S+)(?: (.*))?$/.exec(rest)?.slice(1) ?? [];
    const needChain = (c: string) => {
      if (!t.chains.has(c)) throw new Error(`No such file or directory (chain ${c})`);
    };
    const needSet = (s: string) => {
      if (!t.sets.has(s)) throw new Error(`No such file or directory (set ${s})`);
    };
    switch (`${verb} ${what}`) {
      case 'add chain': {
        const base = /^\{ (.*) ; \}$/.exec(body)?.[1];
        const have = t.chains.get(obj);
        if (have && (have.base ?? '') !== (base ?? ''))
          throw new Error(`chain ${obj} exists, declared otherwise`);
        if (!have) t.chains.set(obj, { ...(base ? { base } : {}), rules: [] });
        return;
      }
      case 'flush chain':
        needChain(obj);
        t.chains.get(obj)!.rules = [];
        return;
      case 'delete chain': {
        needChain(obj);
        // Its own rules go with it; a reference from elsewhere keeps it.
        for (const [c, ch] of t.chains)
          if (c !== obj && ch.rules.some((r) => chainRefs(r).includes(obj)))
            throw new Error(`Device or resource busy (chain ${obj} is referenced from ${c})`);
        for (const [s, set] of t.sets)
          for (const v of set.elements.values())
            if (chainRefs(v).includes(obj))
              throw new Error(`Device or resource busy (chain ${obj} is referenced from map ${s})`);
        t.chains.delete(obj);
        return;
      }
      case 'add rule':
        needChain(obj);
        if (!body) throw new Error('empty rule');
        for (const c of chainRefs(body)) needChain(c);
        for (const s of setRefs(body)) needSet(s);
        {
          const { verdict, data } = mapRefs(body);
          for (const m of verdict)
            if (!isVerdictMap(t.sets.get(m)!)) throw new Error(`datatype mismatch (${m} is no verdict map)`);
          for (const m of data) {
            const set = t.sets.get(m)!;
            if (set.kind !== 'map' || isVerdictMap(set))
              throw new Error(`datatype mismatch (${m} is no map of data)`);
          }
        }
        t.chains.get(obj)!.rules.push(body);
        return;
      case 'add set':
      case 'add map': {
        const spec = /^\{ (.*) \}$/.exec(body)?.[1];
        if (!spec) throw new Error('set without declaration');
        const have = t.sets.get(obj);
        if (have && (have.kind !== what || have.spec !== spec))
          throw new Error(`File exists (${obj} declared otherwise)`);
        if (!have) t.sets.set(obj, { kind: what as FakeSet['kind'], spec, elements: new Map() });
        return;
      }
      case 'delete set':
      case 'delete map': {
        needSet(obj);
        if (t.sets.get(obj)!.kind !== what) throw new Error(`${obj} is not a ${what}`);
        for (const [c, ch] of t.chains)
          if (ch.rules.some((r) => setRefs(r).includes(obj)))
            throw new Error(`Device or resource busy (${obj} is used in chain ${c})`);
        t.sets.delete(obj);
        return;
      }
      case 'add element':
      case 'delete element': {
        needSet(obj);
        const set = t.sets.get(obj)!;
        const inner = /^\{ (.*) \}$/.exec(body)?.[1];
        if (inner === undefined) throw new Error('elements without braces');
        for (const text of splitElements(inner)) {
          const { key, value } = parseElement(text);
          if (verb === 'delete') {
            if (!set.elements.delete(key)) throw new Error(`No such file or directory (element ${key})`);
            continue;
          }
          if ((set.kind === 'map') !== (value !== undefined))
            throw new Error(`element ${key} of the wrong kind`);
          if (value !== undefined && VERDICT.test(value) !== isVerdictMap(set))
            throw new Error(`element ${key}: value of the wrong type for ${obj}`);
          for (const c of chainRefs(value ?? '')) needChain(c);
          const had = set.elements.get(key);
          if (had !== undefined && had !== (value ?? ''))
            throw new Error(`File exists (element ${key} has another value)`);
          set.elements.set(key, value ?? '');
        }
        return;
      }
      default:
        throw new Error('unsupported');
    }
  }

  async listTable(family: string, name: string): Promise<string | null> {
    const t = this.tables.get(`${family} ${name}`);
    if (!t) return null;
    const out = [`table ${family} ${name} {`];
    for (const [s, set] of t.sets) out.push(`\t${set.kind} ${s} {`, `\t\t${set.spec}`, '\t}');
    for (const [c, ch] of t.chains) {
      out.push(`\tchain ${c} {`);
      if (ch.base) out.push(`\t\t${ch.base};`);
      for (const r of ch.rules) out.push(`\t\t${r}`);
      out.push('\t}');
    }
    out.push('}', '');
    return out.join('\n');
  }

  async deleteConntrack(args: string[]): Promise<void> {
    this.conntrackCalls.push(args);
  }

  /** The table (default skiff's), or undefined. */
  table(id = 'ip skiff-proxy'): FakeTable | undefined {
    return this.tables.get(id);
  }

  /** The rules of a chain of skiff's table, or undefined when it does not exist. */
  chain(name: string): string[] | undefined {
    return this.table()?.chains.get(name)?.rules;
  }

  /** The elements of a set or map of skiff's table (key → value), or undefined. */
  elements(set: string): Map<string, string> | undefined {
    return this.table()?.sets.get(set)?.elements;
  }

  /** Names of chains of skiff's table starting with `prefix`, sorted. */
  chainsWithPrefix(prefix: string): string[] {
    return [...(this.table()?.chains.keys() ?? [])].filter((c) => c.startsWith(prefix)).sort();
  }

  /** Names of sets and maps of skiff's table starting with `prefix`, sorted. */
  setsWithPrefix(prefix: string): string[] {
    return [...(this.table()?.sets.keys() ?? [])].filter((s) => s.startsWith(prefix)).sort();
  }
}
