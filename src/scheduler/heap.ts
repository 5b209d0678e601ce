/**
 * A binary heap with keyed lookup, update and removal in O(log n) (the scheduler queue's heap).
 */
export class KeyedHeap<T> {
  readonly #items: T[] = [];
  readonly #index = new Map<string, number>();
  readonly #key: (item: T) => string;
  readonly #less: (a: T, b: T) => boolean;

  constructor(key: (item: T) => string, less: (a: T, b: T) => boolean) {
    this.#key = key;
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i];
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds, or replaces the item with the same key and restores order. */
  addOrUpdate(item: T): void {
    const key = this.#key(item);
    const i = this.#index.get(key);
    if (i !== undefined) {
      this.#items[i] = item;
      this.#fix(i);
      return;
    }
    this.#items.push(item);
    this.#index.set(key, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    if (this.#items.length === 0) return undefined;
    const top = this.#items[0]!;
    this.#removeAt(0);
    return top;
  }

  delete(key: string): T | undefined {
    const i = this.#index.get(key);
    if (i === undefined) return undefined;
    const item = this.#items[i]!;
    this.#removeAt(i);
    return item;
  }

  /** The items in heap (not sorted) order. */
  values(): readonly T[] {
    return this.#items;
  }

  #removeAt(i: number): void {
    const last = this.#items.length - 1;
    this.#index.delete(this.#key(this.#items[i]!));
    if (i !== last) {
      this.#items[i] = this.#items[last]!;
      this.#index.set(this.#key(this.#items[i]!), i);
    }
    this.#items.pop();
    if (i < this.#items.length) this.#fix(i);
  }

  #fix(i: number): void {
    if (!this.#down(i)) this.#up(i);
  }

  #swap(i: number, j: number): void {
    const a = this.#items[i]!;
    const b = this.#items[j]!;
    this.#items[i] = b;
    this.#items[j] = a;
    this.#index.set(this.#key(b), i);
    this.#index.set(this.#key(a), j);
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(this.#items[i]!, this.#items[p]!)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i0: number): boolean {
    let i = i0;
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      if (l + 1 < n && this.#less(this.#items[l + 1]!, this.#items[l]!)) c = l + 1;
      if (!this.#less(this.#items[c]!, this.#items[i]!)) break;
      this.#swap(i, c);
      i = c;
    }
    return i > i0;
  }
}
