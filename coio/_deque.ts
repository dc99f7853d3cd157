/**
 * A double-ended queue on a growable ring buffer: O(1) push and shift at both
 * ends without the O(n) `Array.prototype.shift`. Used for channel buffers,
 * waiter queues and `Queue`.
 */
export class Deque<T> implements Iterable<T> {
  #items: (T | undefined)[] = new Array(8).fill(undefined);
  #mask = 7;
  #head = 0;
  #length = 0;

  /** Creates a deque holding `items`, front to back. */
  constructor(items?: Iterable<T>) {
    if (items !== undefined) { for (const item of items) this.push(item); }
  }

  /** Number of items. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item` at the back. */
  push(item: T): void {
    if (this.#length > this.#mask) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  /** Prepends `item` at the front. */
  unshift(item: T): void {
    if (this.#length > this.#mask) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Removes and returns the front item (`undefined` when empty). */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return item;
  }

  /** Removes and returns the back item (`undefined` when empty). */
  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    const index = (this.#head + this.#length) & this.#mask;
    const item = this.#items[index];
    this.#items[index] = undefined;
    return item;
  }

  /** The front item, left in place (`undefined` when empty). */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** The item at `index` from the front (`undefined` when out of range). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#items[(this.#head + index) & this.#mask];
  }

  /** Keeps only the items for which `keep` returns true, in order. */
  filter(keep: (item: T) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.#length; i++) {
      const item = this.#items[(this.#head + i) & this.#mask] as T;
      if (keep(item)) this.#items[(this.#head + kept++) & this.#mask] = item;
    }
    for (let i = kept; i < this.#length; i++) {
      this.#items[(this.#head + i) & this.#mask] = undefined;
    }
    this.#length = kept;
  }

  /** Iterates front to back. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.#length; i++) {
      yield this.#items[(this.#head + i) & this.#mask] as T;
    }
  }

  #grow(): void {
    const old = this.#items;
    const items: (T | undefined)[] = new Array(old.length * 2).fill(undefined);
    for (let i = 0; i < this.#length; i++) {
      items[i] = old[(this.#head + i) & this.#mask];
    }
    this.#items = items;
    this.#mask = items.length - 1;
    this.#head = 0;
  }
}
