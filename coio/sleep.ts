import { suspendFor } from "./_waiter.ts";

/** Options for {@linkcode sleep}. */
export interface SleepOptions {
  /** Ends the sleep early: it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Suspends the current tasklet for `ms` milliseconds while others run. With
 * `ms <= 0` it returns at once and leaves no timer. `tasklet.wake()` ends the
 * sleep early (normally); kill, raise, an enclosing timeout scope or `signal`
 * make it reject, and its timer is cleared either way. Many sleeping tasklets
 * share one runtime timer.
 *
 * @example
 * ```ts
 * import { sleep } from "@syncless/syncless/coio";
 *
 * const start = performance.now();
 * await sleep(20);
 * console.log(performance.now() - start >= 20); // true
 * ```
 * @throws {RangeError} when `ms` is not a number (NaN included).
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  if (typeof ms !== "number" || Number.isNaN(ms)) {
    throw new RangeError(`sleep() needs a number of milliseconds, got ${ms}`);
  }
  if (ms <= 0) return Promise.resolve();
  return suspendFor(ms, options.signal);
}
