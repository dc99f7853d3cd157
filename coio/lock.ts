import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";

/** Options for {@linkcode Lock.prototype.acquire}. */
export interface LockAcquireOptions {
  /**
   * Gives up waiting when aborted: `acquire()` then rejects with
   * `signal.reason` and the lock is never handed to this caller.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the lock: `null`/`undefined` waits forever, `0`
   * throws `WouldBlockError` at once if the lock is held, `> 0` throws
   * `TimeoutError` when it is still held after that long.
   *
   * @default {undefined}
   */
  timeout?: number | null;
}

/**
 * Proof of holding a {@linkcode Lock}, returned by `acquire()`. Releasing it
 * (or disposing of it, as `using` does) releases the lock once; later calls,
 * and calls after the lock was released some other way, do nothing.
 */
export interface LockGuard extends Disposable {
  /** Releases the lock if this guard still holds it. */
  release(): void;
}

// Lets guards reach the lock's private state without exposing it.
let releaseIfHeldBy: (lock: Lock, guard: LockGuard) => void;

class Guard implements LockGuard {
  #lock: Lock;

  constructor(lock: Lock) {
    this.#lock = lock;
  }

  release(): void {
    releaseIfHeldBy(this.#lock, this);
  }

  [Symbol.dispose](): void {
    releaseIfHeldBy(this.#lock, this);
  }
}

/**
 * A mutual-exclusion lock for tasklets. Waiters are served in FIFO order: a
 * released lock is handed straight to the longest waiter, so a newcomer
 * cannot barge in ahead of it. Any tasklet may release it (it is not tied to
 * the tasklet that acquired it, like Python's `threading.Lock`).
 *
 * A waiting `acquire()` is cancelled by kill, raise, an enclosing timeout
 * scope, its `signal` or its `timeout`; the cancelled waiter leaves the queue
 * and never gets the lock. An `acquire()` of a free lock does not wait (only
 * an already-aborted `signal` makes it reject).
 *
 * @example Guard a critical section with `using`
 * ```ts
 * import { Lock, sleep, spawn } from "@syncless/syncless/coio";
 *
 * const lock = new Lock();
 * const log: string[] = [];
 * const worker = (name: string) => async () => {
 *   using _held = await lock.acquire();
 *   log.push(`${name} in`);
 *   await sleep(5);
 *   log.push(`${name} out`);
 * };
 * await Promise.all([spawn(worker("a")).join(), spawn(worker("b")).join()]);
 * console.log(log.join(", ")); // "a in, a out, b in, b out"
 * ```
 *
 * @example Acquire and release by hand
 * ```ts
 * import { Lock } from "@syncless/syncless/coio";
 *
 * const lock = new Lock();
 * await lock.acquire();
 * try {
 *   console.log(lock.locked); // true
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export class Lock {
  #holder: LockGuard | undefined = undefined;
  // Insertion-ordered, so the first entry is the longest waiter.
  #waiters = new Set<Waiter<LockGuard>>();

  static {
    releaseIfHeldBy = (lock, guard) => {
      if (lock.#holder === guard) lock.release();
    };
  }

  /** True while some tasklet holds the lock. */
  get locked(): boolean {
    return this.#holder !== undefined;
  }

  /** Number of tasklets waiting in `acquire()`. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Takes the lock, waiting while another tasklet holds it. Resolves with a
   * guard whose `release()` or `Symbol.dispose` releases the lock.
   *
   * @throws {TimeoutError} when `options.timeout` passes first.
   * @throws {WouldBlockError} when `options.timeout` is `0` and the lock is held.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  acquire(options: LockAcquireOptions = {}): Promise<LockGuard> {
    if (this.#holder === undefined) {
      checkTimeout(options.timeout);
      if (options.signal?.aborted) return Promise.reject(options.signal.reason);
      const guard = new Guard(this);
      this.#holder = guard;
      return Promise.resolve(guard);
    }
    return suspend<LockGuard>((waiter) => {
      this.#waiters.add(waiter);
      waiter.onCancel = () => this.#waiters.delete(waiter);
    }, options);
  }

  /**
   * Releases the lock, handing it to the longest waiter if there is one.
   *
   * @throws {TypeError} when the lock is not held.
   */
  release(): void {
    if (this.#holder === undefined) {
      throw new TypeError("Cannot release a Lock that is not locked");
    }
    for (const waiter of this.#waiters) {
      this.#waiters.delete(waiter);
      const guard = new Guard(this);
      this.#holder = guard;
      if (waiter.resume(guard)) return;
    }
    this.#holder = undefined;
  }
}
