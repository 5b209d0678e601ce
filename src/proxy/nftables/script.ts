/**
 * An nft transaction as text for `nft -f -`: one command per line, all on skiff's table, applied
 * atomically (all or nothing). Rule bodies and element keys/values are nft syntax, passed through.
 */
import { type BaseChain, FAMILY, TABLE } from './names.ts';

/** What a named set or map is: `set` or `map`, and its declaration (the inside of `{ ... }`). */
export interface SetDecl {
  kind: 'set' | 'map';
  /** e.g. `type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ;` */
  spec: string;
}

/** An element of a set (no value) or a map. */
export interface Element {
  /** The set or map. */
  set: string;
  /** e.g. `10.43.0.10 . tcp . 80` */
  key: string;
  /** e.g. `goto service-...`; absent in a set. */
  value?: string;
  comment?: string;
}

/** nft comments: double-quoted, no double quotes inside, at most 128 bytes. */
export function quote(text: string): string {
  return `"${text.replaceAll('"', '').slice(0, 127)}"`;
}

/** A rule body with its comment (if any) at the end, as nft wants it. */
export function withComment(rule: string, comment: string | undefined): string {
  return comment ? `${rule} comment ${quote(comment)}` : rule;
}

function renderElement(e: Element): string {
  const c = e.comment ? ` comment ${quote(e.comment)}` : '';
  return e.value === undefined ? `${e.key}${c}` : `${e.key}${c} : ${e.value}`;
}

/** Builds the text of one transaction. */
export class NftScript {
  readonly #lines: string[] = [];
  readonly #t = `${FAMILY} ${TABLE}`;

  /** `add table` (a no-op when it exists). */
  addTable(comment?: string): this {
    this.#lines.push(`add table ${this.#t}${comment ? ` { comment ${quote(comment)} ; }` : ''}`);
    return this;
  }

  /** `delete table`: fails when it does not exist (add it first to make that a no-op). */
  deleteTable(): this {
    this.#lines.push(`delete table ${this.#t}`);
    return this;
  }

  /** `add chain` (a no-op for a chain that exists), attached to a hook when `base` is given. */
  addChain(name: string, base?: BaseChain): this {
    this.#lines.push(
      base
        ? `add chain ${this.#t} ${name} { type ${base.type} hook ${base.hook} priority ${base.priority} ; }`
        : `add chain ${this.#t} ${name}`,
    );
    return this;
  }

  /** Removes every rule of the chain. */
  flushChain(name: string): this {
    this.#lines.push(`flush chain ${this.#t} ${name}`);
    return this;
  }

  /** Deletes an empty, unreferenced chain. */
  deleteChain(name: string): this {
    this.#lines.push(`delete chain ${this.#t} ${name}`);
    return this;
  }

  addRule(chain: string, rule: string): this {
    this.#lines.push(`add rule ${this.#t} ${chain} ${rule}`);
    return this;
  }

  /** `add set` / `add map` (a no-op when it exists with the same declaration). */
  addSet(name: string, decl: SetDecl): this {
    this.#lines.push(`add ${decl.kind} ${this.#t} ${name} { ${decl.spec} }`);
    return this;
  }

  /** Deletes a set or map no rule refers to. */
  deleteSet(name: string, kind: SetDecl['kind']): this {
    this.#lines.push(`delete ${kind} ${this.#t} ${name}`);
    return this;
  }

  /** Adds elements, all to `set` (one command; nothing for none). */
  addElements(set: string, elements: readonly Element[]): this {
    if (elements.length)
      this.#lines.push(`add element ${this.#t} ${set} { ${elements.map(renderElement).join(', ')} }`);
    return this;
  }

  /** Deletes elements of `set` by key (one command; nothing for none). */
  deleteElements(set: string, keys: readonly string[]): this {
    if (keys.length) this.#lines.push(`delete element ${this.#t} ${set} { ${keys.join(', ')} }`);
    return this;
  }

  /** Number of commands. */
  get length(): number {
    return this.#lines.length;
  }

  /** The script (newline-terminated; '' when empty). */
  text(): string {
    return this.#lines.length ? `${this.#lines.join('\n')}\n` : '';
  }
}
