import { checkpoint, suspendFor } from "./_waiter.ts";

/** Options for {@linkcode sleep}. */
export interface SleepOptions {
  /**
   * Ends the sleep early: it then rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Suspends the current tasklet for `ms` milliseconds while others run. With
 * `ms <= 0` it returns at once and leaves no timer (but, like every wait, it
 * still throws a pending kill, raise or expired timeout scope).
 * `tasklet.wake()` ends the sleep early (normally); kill, raise, an enclosing
 * timeout scope or `signal` make it reject, and its timer is cleared either
 * way. Many sleeping tasklets share one runtime timer.
 *
 * @example
 * ```ts
 * import { sleep } from "@syncless/syncless/coio";
 *
 * const start = performance.now();
 * await sleep(20);
 * console.log(performance.now() - start >= 20); // true
 * ```
 * @throws {TypeError} when `ms` is not a number.
 * @throws {RangeError} when `ms` is NaN.
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  if (typeof ms !== "number") {
    throw new TypeError(
      `sleep() needs a number of milliseconds, got ${typeof ms}`,
    );
  }
  if (Number.isNaN(ms)) {
    throw new RangeError("sleep() needs a number of milliseconds, got NaN");
  }
  if (ms > 0) return suspendFor(ms, options.signal);
  // A zero sleep does not wait, but it is a checkpoint like any other wait.
  return checkpoint(options.signal);
}
