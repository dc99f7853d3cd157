import { Deque } from "./_deque.ts";
import { suspend, type Waiter } from "./_waiter.ts";

/** Options for {@linkcode Queue.prototype.popleft} and {@linkcode Queue.prototype.pop}. */
export interface QueuePopOptions {
  /** Cancels the wait; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

function isLive(waiter: Waiter<unknown>): boolean {
  return !waiter.settled;
}

// Context for the park callback, set right before the `suspend()` call that
// runs it synchronously (saves a closure per wait).
let parkQueue: Queue<unknown>;

/**
 * An unbounded double-ended queue whose pops wait while it is empty
 * (Syncless's `util.Queue`): `append` and `appendleft` never wait;
 * `popleft()` (FIFO) and `pop()` (LIFO) wait for an item, and waiting
 * tasklets are served first come, first served.
 *
 * As in the original, an append wakes one waiting tasklet, which continues
 * from the back of the run queue; the item stays in the queue until that
 * tasklet runs and takes it. So right after `append`, `length` counts the
 * item and `pendingReceiverCount` has already dropped by one.
 *
 * @example A work queue
 * ```ts
 * import { Queue, spawn } from "@syncless/syncless/coio";
 *
 * const jobs = new Queue<string>(["a"]);
 * const worker = spawn(async () => {
 *   const done: string[] = [];
 *   for (let i = 0; i < 2; i++) done.push(await jobs.popleft());
 *   return done;
 * });
 * jobs.append("b");
 * console.log(await worker.join()); // ["a", "b"]
 * ```
 *
 * @typeParam T The type of the items.
 */
export class Queue<T> implements Iterable<T> {
  #items: Deque<T>;
  #waiters = new Deque<Waiter<unknown>>();
  // Cancelled waiters are dropped lazily; the queue is compacted past this mark.
  #compactAt = 16;

  /** Creates a queue holding `items`, front to back. */
  constructor(items?: Iterable<T>) {
    this.#items = new Deque(items);
  }

  /** Number of items in the queue. */
  get length(): number {
    return this.#items.length;
  }

  /** Number of `popleft()`/`pop()` calls waiting and not yet woken. */
  get pendingReceiverCount(): number {
    let count = 0;
    for (const waiter of this.#waiters) if (isLive(waiter)) count++;
    return count;
  }

  /**
   * Adds `item` at the right end and wakes the first waiting pop, if any.
   *
   * @example
   * ```ts
   * import { Queue } from "@syncless/syncless/coio";
   *
   * const queue = new Queue<number>();
   * queue.append(1);
   * queue.append(2);
   * console.log([...queue]); // [1, 2]
   * ```
   */
  append(item: T): void {
    this.#items.push(item);
    this.#wakeOne();
  }

  /**
   * Adds `item` at the left end and wakes the first waiting pop, if any.
   *
   * @example
   * ```ts
   * import { Queue } from "@syncless/syncless/coio";
   *
   * const queue = new Queue<number>([2]);
   * queue.appendleft(1);
   * console.log([...queue]); // [1, 2]
   * ```
   */
  appendleft(item: T): void {
    this.#items.unshift(item);
    this.#wakeOne();
  }

  /**
   * Removes and returns the leftmost item, waiting while the queue is empty.
   * Cancelled like any coio wait (kill, raise, timeout scope, `signal`); an
   * already aborted `signal` rejects even when an item is there.
   *
   * @example
   * ```ts
   * import { Queue } from "@syncless/syncless/coio";
   *
   * const queue = new Queue([1, 2]);
   * console.log(await queue.popleft()); // 1
   * ```
   */
  popleft(options?: QueuePopOptions): Promise<T> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return this.#waitThenTake(true, options);
  }

  /**
   * Removes and returns the rightmost item, waiting while the queue is
   * empty. Cancelled like any coio wait (kill, raise, timeout scope,
   * `signal`); an already aborted `signal` rejects even when an item is
   * there.
   *
   * @example
   * ```ts
   * import { Queue } from "@syncless/syncless/coio";
   *
   * const queue = new Queue([1, 2]);
   * console.log(await queue.pop()); // 2
   * ```
   */
  pop(options?: QueuePopOptions): Promise<T> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#items.length > 0) return Promise.resolve(this.#items.pop()!);
    return this.#waitThenTake(false, options);
  }

  /** Iterates over the items, left to right, without removing them. */
  [Symbol.iterator](): Iterator<T> {
    return this.#items[Symbol.iterator]();
  }

  async #waitThenTake(left: boolean, options?: QueuePopOptions): Promise<T> {
    const signal = options?.signal;
    // Another tasklet may take the item first: then wait again.
    while (this.#items.length === 0) {
      parkQueue = this as Queue<unknown>;
      await suspend(Queue.#park, { signal });
    }
    return (left ? this.#items.shift() : this.#items.pop())!;
  }

  #wakeOne(): void {
    const waiters = this.#waiters;
    for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) {
      if (w.resumeLater(undefined)) return;
    }
  }

  static #park(waiter: Waiter<unknown>): void {
    const queue = parkQueue;
    const waiters = queue.#waiters;
    waiters.push(waiter);
    if (waiters.length >= queue.#compactAt) {
      waiters.filter(isLive);
      queue.#compactAt = Math.max(16, 2 * waiters.length);
    }
  }
}
