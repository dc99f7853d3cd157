import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";

/** Options for {@linkcode Semaphore.prototype.acquire}. */
export interface SemaphoreAcquireOptions {
  /**
   * Gives up waiting when aborted: `acquire()` then rejects with
   * `signal.reason` and no permit is taken.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for a permit: `null`/`undefined` waits forever, `0`
   * throws `WouldBlockError` at once if none is available, `> 0` throws
   * `TimeoutError` when none came in time.
   *
   * @default {undefined}
   */
  timeout?: number | null;
}

/**
 * One permit taken from a {@linkcode Semaphore}, returned by `acquire()`.
 * Releasing it (or disposing of it, as `using` does) gives the permit back
 * once; later calls do nothing.
 */
export interface SemaphorePermit extends Disposable {
  /** Gives the permit back, unless this permit was already released. */
  release(): void;
}

class Permit implements SemaphorePermit {
  #semaphore: Semaphore | undefined;

  constructor(semaphore: Semaphore) {
    this.#semaphore = semaphore;
  }

  release(): void {
    const semaphore = this.#semaphore;
    this.#semaphore = undefined;
    semaphore?.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A counting semaphore for tasklets: at most `value` permits are out at once,
 * and `acquire()` waits while none is left. Waiters are served in FIFO order:
 * a released permit goes straight to the longest waiter.
 *
 * A waiting `acquire()` is cancelled by kill, raise, an enclosing timeout
 * scope, its `signal` or its `timeout`; the cancelled waiter leaves the queue
 * and takes no permit. As with Python's `threading.Semaphore`, `release()`
 * may raise the count above its initial value (so `new Semaphore(0)` works
 * as a counter of events to consume).
 *
 * @example Let at most two tasklets in at a time
 * ```ts
 * import { Semaphore, sleep, spawn } from "@syncless/syncless/coio";
 *
 * const slots = new Semaphore(2);
 * let inside = 0;
 * let most = 0;
 * const tasklets = [1, 2, 3, 4, 5].map(() =>
 *   spawn(async () => {
 *     using _permit = await slots.acquire();
 *     most = Math.max(most, ++inside);
 *     await sleep(5);
 *     inside--;
 *   })
 * );
 * for (const t of tasklets) await t.join();
 * console.log(most); // 2
 * ```
 */
export class Semaphore {
  #available: number;
  // Insertion-ordered, so the first entry is the longest waiter.
  #waiters = new Set<Waiter<SemaphorePermit>>();

  /**
   * Creates a semaphore with `value` permits available.
   *
   * @param value The number of permits, a non-negative integer.
   * @throws {RangeError} when `value` is not a non-negative safe integer.
   */
  constructor(value = 1) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `Semaphore value must be a non-negative integer, got ${String(value)}`,
      );
    }
    this.#available = value;
  }

  /** Number of permits that `acquire()` can take now without waiting. */
  get available(): number {
    return this.#available;
  }

  /** Number of tasklets waiting in `acquire()`. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Takes a permit, waiting while none is available. Resolves with the
   * permit, whose `release()` or `Symbol.dispose` gives it back.
   *
   * @throws {TimeoutError} when `options.timeout` passes first.
   * @throws {WouldBlockError} when `options.timeout` is `0` and no permit is available.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  acquire(options: SemaphoreAcquireOptions = {}): Promise<SemaphorePermit> {
    if (this.#available > 0) {
      checkTimeout(options.timeout);
      if (options.signal?.aborted) return Promise.reject(options.signal.reason);
      this.#available--;
      return Promise.resolve(new Permit(this));
    }
    return suspend<SemaphorePermit>((waiter) => {
      this.#waiters.add(waiter);
      waiter.onCancel = () => this.#waiters.delete(waiter);
    }, options);
  }

  /** Gives a permit back, handing it to the longest waiter if there is one. */
  release(): void {
    for (const waiter of this.#waiters) {
      this.#waiters.delete(waiter);
      if (waiter.resume(new Permit(this))) return;
    }
    this.#available++;
  }
}
