/**
 * What skiff's nftables table holds, as last written, and the transaction from there to what the
 * services want now: {@link TableState.full} (delete and recreate the table) or
 * {@link TableState.partial} (only what differs). A plan changes nothing until its `commit` is
 * called, which the caller does once the script was applied; a failed script leaves the state as it
 * was (the caller then does a full sync).
 *
 * Partial transactions, in this order: declare the chains to write (`add chain`; `flush chain` when
 * they hold rules) and flush the chains no longer wanted; delete the sets no longer wanted or
 * declared anew (after the flushes, so no rule uses them), add new ones; add the chains' rules; the
 * elements that differ: deleted, added, or deleted and re-added with their new value; last, delete
 * chains: the ones flushed now when `deleteAtOnce` (the map elements pointing to them went just
 * before), and the ones flushed by an earlier transaction that the caller says are due. Kernels
 * before 6.2 notice only a moment after a map element went that the chain it pointed to is
 * unreferenced: there, chains are flushed by one transaction and deleted by a later one (upstream
 * does the same).
 */
import { TABLE_COMMENT, type TableSkeleton } from './rules.ts';
import { type Element, NftScript, type SetDecl } from './script.ts';

/** What one service wants, merged over its ports. */
export interface ServiceWants {
  /** chain → its rules */
  chains: Map<string, readonly string[]>;
  sets: Map<string, SetDecl>;
  /** element id ({@link elementId}) → element */
  elements: Map<string, Element>;
}

export function emptyWants(): ServiceWants {
  return { chains: new Map(), sets: new Map(), elements: new Map() };
}

/** An element's identity: its set and key. */
export function elementId(e: Element): string {
  return `${e.set}\u0000${e.key}`;
}

function sameValue(a: Element, b: Element): boolean {
  return a.value === b.value && a.comment === b.comment;
}

function sameDecl(a: SetDecl | undefined, b: SetDecl): boolean {
  return a !== undefined && a.kind === b.kind && a.spec === b.spec;
}

/** A transaction and what the table holds once it is applied. */
export interface Plan {
  script: NftScript;
  /** Own chains written (declared with rules). */
  chainsWritten: number;
  /** Chains flushed because no service wants them, to be deleted by a later transaction. */
  flushed: string[];
  /** Chains deleted. */
  deleted: string[];
  /** Records what the table holds now that the script was applied (`now`: when). */
  commit(now: number): void;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s) s.add(v);
  else m.set(k, new Set([v]));
}

/** `add element` commands, one per set. */
function addElements(s: NftScript, elements: Iterable<Element>): void {
  const bySet = new Map<string, Element[]>();
  for (const e of elements) {
    const list = bySet.get(e.set) ?? [];
    if (!list.length) bySet.set(e.set, list);
    list.push(e);
  }
  for (const [set, list] of bySet) s.addElements(set, list);
}

export class TableState {
  /** Own chain → its rules. */
  #chains = new Map<string, readonly string[]>();
  /** service key → own chains. */
  #chainsBySvc = new Map<string, Set<string>>();
  /** Own set or map → its declaration. */
  #sets = new Map<string, SetDecl>();
  #setsBySvc = new Map<string, Set<string>>();
  /** Every element of shared and own sets: id → element. */
  #elements = new Map<string, Element>();
  /** service key → its elements. */
  #elementsBySvc = new Map<string, Map<string, Element>>();
  /**
   * element id → the services wanting it. Two services may want one key (an external IP and port
   * they share): the element then has one of their values, and goes only when neither wants it.
   */
  #owners = new Map<string, Set<string>>();
  /** Flushed chains waiting to be deleted → when they were flushed. */
  #stale = new Map<string, number>();

  /** Flushed chains not deleted yet, sorted. */
  get staleChains(): string[] {
    return [...this.#stale.keys()].sort();
  }

  /** Flushed chains flushed at or before `time`. */
  staleSince(time: number): string[] {
    return [...this.#stale].filter(([, at]) => at <= time).map(([c]) => c);
  }

  /**
   * The whole table from nothing: `wants` holds every service. Deleting the table first (after an
   * `add`, so that a missing table is no error) drops whatever it held.
   */
  full(wants: Map<string, ServiceWants>, skeleton: TableSkeleton): Plan {
    const s = new NftScript();
    s.addTable().deleteTable().addTable(TABLE_COMMENT);
    for (const b of skeleton.baseChains) s.addChain(b.name, b);
    for (const c of skeleton.chains) s.addChain(c);
    for (const w of wants.values()) for (const c of w.chains.keys()) s.addChain(c);
    for (const [name, d] of skeleton.sets) s.addSet(name, d);
    for (const w of wants.values()) for (const [name, d] of w.sets) s.addSet(name, d);
    for (const [c, r] of skeleton.rules) s.addRule(c, r);
    let chainsWritten = 0;
    for (const w of wants.values()) {
      for (const [c, rules] of w.chains) {
        chainsWritten++;
        for (const r of rules) s.addRule(c, r);
      }
    }
    const owners = new Map<string, Set<string>>();
    const elements = new Map<string, Element>();
    for (const [key, w] of wants) {
      for (const [id, e] of w.elements) {
        elements.set(id, e);
        addTo(owners, id, key);
      }
    }
    addElements(s, elements.values());
    return {
      script: s,
      chainsWritten,
      flushed: [],
      deleted: [],
      commit: () => {
        this.#chains = new Map();
        this.#chainsBySvc = new Map();
        this.#sets = new Map();
        this.#setsBySvc = new Map();
        this.#elementsBySvc = new Map();
        this.#stale = new Map();
        this.#recordServices(wants);
        this.#elements = elements;
        this.#owners = owners;
      },
    };
  }

  /**
   * What differs for the services in `wants` (each service not in it is unchanged). `repair`: also
   * rewrite the fixed chains (and re-add the fixed sets) of this skeleton; it fails if the table is
   * gone, rather than recreating it half-empty. `deleteAtOnce`: delete chains no longer wanted in
   * this transaction rather than a later one. `dueStale`: chains flushed earlier to delete now.
   */
  partial(
    wants: Map<string, ServiceWants>,
    opts: { repair?: TableSkeleton | null; deleteAtOnce: boolean; dueStale?: readonly string[] },
  ): Plan {
    const repair = opts.repair ?? null;
    const s = new NftScript();
    const write = new Map<string, readonly string[]>();
    const flush: string[] = [];
    const addSets = new Map<string, SetDecl>();
    const deleteSets = new Map<string, SetDecl>();
    for (const [key, want] of wants) {
      // A set declared anew (its timeout changed) is deleted first, so every chain using it is
      // rewritten (flushed) in this transaction.
      const redeclared: string[] = [];
      for (const [name, d] of want.sets) {
        const had = this.#sets.get(name);
        if (sameDecl(had, d)) continue;
        if (had) {
          deleteSets.set(name, had);
          redeclared.push(name);
        }
        addSets.set(name, d);
      }
      for (const name of this.#setsBySvc.get(key) ?? [])
        if (!want.sets.has(name)) deleteSets.set(name, this.#sets.get(name)!);
      for (const [c, rules] of want.chains) {
        const usesRedeclared = redeclared.some((n) => rules.some((r) => r.includes(`@${n}`)));
        if (!sameRules(this.#chains.get(c), rules) || usesRedeclared) write.set(c, rules);
      }
      for (const c of this.#chainsBySvc.get(key) ?? []) if (!want.chains.has(c)) flush.push(c);
    }
    if (repair) {
      for (const b of repair.baseChains) s.addChain(b.name, b).flushChain(b.name);
      for (const c of repair.chains) s.addChain(c).flushChain(c);
      for (const [name, d] of repair.sets) s.addSet(name, d);
    }
    for (const c of write.keys()) {
      s.addChain(c);
      // A chain never written, or one flushed and waiting for deletion, is empty already.
      if (this.#chains.has(c)) s.flushChain(c);
    }
    for (const c of flush) s.flushChain(c);
    for (const [name, d] of deleteSets) s.deleteSet(name, d.kind);
    for (const [name, d] of addSets) s.addSet(name, d);
    if (repair) for (const [c, r] of repair.rules) s.addRule(c, r);
    for (const [c, rules] of write) for (const r of rules) s.addRule(c, r);

    // Elements of the changed services: what each id should be now (null: none).
    const owners = new Map<string, Set<string>>(); // staged copies of changed owner sets
    const ownersOf = (id: string) => {
      const o = owners.get(id) ?? new Set(this.#owners.get(id));
      owners.set(id, o);
      return o;
    };
    const target = new Map<string, Element | null>();
    for (const [key, want] of wants) {
      for (const id of this.#elementsBySvc.get(key)?.keys() ?? []) {
        if (want.elements.has(id)) continue;
        const o = ownersOf(id);
        o.delete(key);
        if (!target.has(id) || target.get(id) === null) {
          // Another service wanting it keeps it, with its value.
          let other: Element | null = null;
          for (const k of o)
            other = wants.get(k)?.elements.get(id) ?? this.#elementsBySvc.get(k)?.get(id) ?? null;
          target.set(id, other);
        }
      }
      for (const [id, e] of want.elements) {
        ownersOf(id).add(key);
        target.set(id, e);
      }
    }
    // A deleted set takes its elements along; a set declared anew starts empty.
    const changes: [string, Element | null][] = [];
    const removes = new Map<string, string[]>();
    const adds: Element[] = [];
    for (const [id, e] of target) {
      const had = this.#elements.get(id);
      const present = had !== undefined && !deleteSets.has(had.set);
      if (present && e && sameValue(had, e)) continue;
      if (present) {
        const keys = removes.get(had.set) ?? [];
        if (!keys.length) removes.set(had.set, keys);
        keys.push(had.key);
      }
      if (e) adds.push(e);
      changes.push([id, e]);
    }
    for (const [set, keys] of removes) s.deleteElements(set, keys);
    addElements(s, adds);
    // A stale chain wanted again was rewritten above: not deleted.
    const deleted = [
      ...(opts.deleteAtOnce ? flush : []),
      ...(opts.dueStale ?? []).filter((c) => !write.has(c)),
    ];
    for (const c of deleted) s.deleteChain(c);
    const flushed = opts.deleteAtOnce ? [] : flush;
    return {
      script: s,
      chainsWritten: write.size,
      flushed,
      deleted,
      commit: (now) => {
        for (const [key, want] of wants) {
          for (const c of this.#chainsBySvc.get(key) ?? []) if (!want.chains.has(c)) this.#chains.delete(c);
          for (const name of this.#setsBySvc.get(key) ?? [])
            if (!want.sets.has(name)) this.#sets.delete(name);
        }
        this.#recordServices(wants);
        for (const c of deleted) this.#stale.delete(c);
        for (const c of flushed) this.#stale.set(c, now);
        for (const [id, o] of owners) {
          if (o.size) this.#owners.set(id, o);
          else this.#owners.delete(id);
        }
        for (const [id, e] of changes) {
          if (e) this.#elements.set(id, e);
          else this.#elements.delete(id);
        }
        for (const [id, e] of this.#elements)
          if (deleteSets.has(e.set) && !addSets.has(e.set)) this.#elements.delete(id);
      },
    };
  }

  /** Records the chains, sets and elements of the services in `wants` as written. */
  #recordServices(wants: Map<string, ServiceWants>): void {
    for (const [key, want] of wants) {
      for (const [c, rules] of want.chains) {
        this.#chains.set(c, rules);
        this.#stale.delete(c);
      }
      for (const [name, d] of want.sets) this.#sets.set(name, d);
      if (want.chains.size) this.#chainsBySvc.set(key, new Set(want.chains.keys()));
      else this.#chainsBySvc.delete(key);
      if (want.sets.size) this.#setsBySvc.set(key, new Set(want.sets.keys()));
      else this.#setsBySvc.delete(key);
      if (want.elements.size) this.#elementsBySvc.set(key, want.elements);
      else this.#elementsBySvc.delete(key);
    }
  }
}
