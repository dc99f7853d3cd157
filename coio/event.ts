import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";

/** Options for {@linkcode Event.prototype.wait}. */
export interface EventWaitOptions {
  /**
   * Gives up waiting when aborted: `wait()` then rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait: `null`/`undefined` waits forever, `0` throws
   * `WouldBlockError` at once if the event is not set, `> 0` throws
   * `TimeoutError` when it was not set in time.
   *
   * @default {undefined}
   */
  timeout?: number | null;
}

/**
 * A flag that tasklets can wait for, like Python's `threading.Event`:
 * `set()` wakes every waiter (in the order they started waiting) and lets
 * later `wait()` calls return at once until `clear()`.
 *
 * A waiting `wait()` is cancelled by kill, raise, an enclosing timeout scope,
 * its `signal` or its `timeout`, and then leaves the event's list of waiters.
 * Note that this class shadows the global DOM `Event` in modules that import
 * it; import it under another name (`import { Event as CoioEvent }`) where
 * both are needed.
 *
 * @example Wait until another tasklet is ready
 * ```ts
 * import { Event, sleep, spawn } from "@syncless/syncless/coio";
 *
 * const ready = new Event();
 * spawn(async () => {
 *   await sleep(5);
 *   ready.set();
 * });
 * await ready.wait();
 * console.log(ready.isSet); // true
 * ```
 */
export class Event {
  #isSet = false;
  #waiters = new Set<Waiter<void>>();

  /** True between `set()` and the next `clear()`. */
  get isSet(): boolean {
    return this.#isSet;
  }

  /** Number of tasklets waiting in `wait()`. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Sets the flag and wakes every waiting tasklet. */
  set(): void {
    if (this.#isSet) return;
    this.#isSet = true;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const waiter of waiters) waiter.resume(undefined);
  }

  /** Resets the flag: later `wait()` calls wait for the next `set()`. */
  clear(): void {
    this.#isSet = false;
  }

  /**
   * Returns at once while the flag is set, else waits until `set()` is
   * called.
   *
   * @throws {TimeoutError} when `options.timeout` passes first.
   * @throws {WouldBlockError} when `options.timeout` is `0` and the flag is not set.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  wait(options: EventWaitOptions = {}): Promise<void> {
    if (this.#isSet) {
      checkTimeout(options.timeout);
      if (options.signal?.aborted) return Promise.reject(options.signal.reason);
      return Promise.resolve();
    }
    return suspend<void>((waiter) => {
      const waiters = this.#waiters;
      waiters.add(waiter);
      waiter.onCancel = () => waiters.delete(waiter);
    }, options);
  }
}
