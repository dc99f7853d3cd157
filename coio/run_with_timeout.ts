import { checkTimeout } from "./_waiter.ts";
import { moveOnAfter } from "./move_on_after.ts";
import { spawn } from "./spawn.ts";

/**
 * Runs `fn()` in a new tasklet and waits at most `ms` milliseconds for it.
 * If it finishes in time, returns its result (or throws its error); otherwise
 * kills it and returns `defaultValue` (Syncless's
 * `run_in_tasklet_with_timeout`). If the caller is cancelled meanwhile
 * (killed, raised into, or timed out by an enclosing scope), the worker is
 * killed too.
 *
 * @example
 * ```ts
 * import { runWithTimeout, sleep } from "@syncless/syncless/coio";
 *
 * const slow = await runWithTimeout(async () => {
 *   await sleep(1000);
 *   return "late";
 * }, 10, "default");
 * console.log(slow); // "default"
 * ```
 * @throws {RangeError} when `ms` is negative or NaN.
 * @throws {TypeError} when `fn` is not a function.
 */
export async function runWithTimeout<T, D = undefined>(
  fn: () => T | PromiseLike<T>,
  ms: number,
  defaultValue?: D,
): Promise<T | D> {
  checkTimeout(ms);
  const worker = spawn(fn);
  try {
    const result = await moveOnAfter(ms, async () => {
      const value = await worker.join();
      return { value };
    });
    if (result === undefined) return defaultValue as D;
    return result.value;
  } finally {
    worker.kill();
  }
}
