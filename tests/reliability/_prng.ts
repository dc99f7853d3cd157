// A tiny seeded PRNG (mulberry32) for the fuzz and property tests: the same
// seed gives the same cases on every machine, so a failure reproduces from
// the seed and case number it prints.

/** A deterministic pseudo-random source. */
export class Prng {
  #state: number;

  /** Starts the sequence of `seed` (any 32-bit integer). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in `[0, n)`. */
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  /** An integer in `[lo, hi]`. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p * 0x100000000;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A seed for a derived sequence (case `i` of a run reproduces alone). */
  static caseSeed(seed: number, i: number): number {
    return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) +
      Math.imul(i, 0xc2b2ae35)) >>> 0;
  }
}
