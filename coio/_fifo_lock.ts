import { suspend, type Waiter } from "./_waiter.ts";

/**
 * A first-come first-served lock for whole I/O operations. Taking a free lock
 * is synchronous (`acquire()` returns `undefined`), so operations that can be
 * answered from a buffer never wait.
 */
export class FifoLock {
  /** True while someone holds the lock. */
  locked = false;
  #queue: Waiter<void>[] = [];
  #head = 0;

  /**
   * Takes the lock: `undefined` when it was free (taken now), else a promise
   * that resolves once it is this caller's turn. The wait follows coio
   * timeout rules and is cancellable like any other.
   */
  acquire(
    timeout: number | null = null,
    signal?: AbortSignal,
  ): Promise<void> | undefined {
    if (!this.locked) {
      this.locked = true;
      return undefined;
    }
    return suspend<void>(
      this.#park,
      timeout === null && signal === undefined
        ? undefined
        : { timeout, signal },
    );
  }

  #park = (waiter: Waiter<void>): void => {
    this.#queue.push(waiter);
    waiter.onCancel = () => {
      const i = this.#queue.indexOf(waiter, this.#head);
      if (i >= 0) this.#queue.splice(i, 1);
    };
  };

  /** Hands the lock to the next waiter in line, or frees it. */
  release(): void {
    const queue = this.#queue;
    if (queue.length === 0) {
      // Nobody waits (the usual case): no array bookkeeping.
      this.locked = false;
      return;
    }
    while (this.#head < queue.length) {
      const next = queue[this.#head++];
      next.onCancel = undefined;
      if (this.#head === queue.length) {
        queue.length = 0;
        this.#head = 0;
      } else if (this.#head > 64 && this.#head * 2 > queue.length) {
        queue.splice(0, this.#head);
        this.#head = 0;
      }
      if (next.resume(undefined)) return;
    }
    queue.length = 0;
    this.#head = 0;
    this.locked = false;
  }

  /** Fails every waiter with `error` (the resource was closed). */
  failAll(error: () => unknown): void {
    const queue = this.#queue;
    const waiting = queue.slice(this.#head);
    queue.length = 0;
    this.#head = 0;
    for (const waiter of waiting) {
      waiter.onCancel = undefined;
      waiter.fail(error());
    }
  }
}
