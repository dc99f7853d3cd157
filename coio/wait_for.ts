import { suspend, type WaitOptions } from "./_waiter.ts";

/**
 * Awaits any promise as a coio wait: the result is the promise's, but the
 * wait can be cancelled by killing or raising into the tasklet, by an
 * enclosing timeout scope, by `options.signal` or by `options.timeout`. The
 * underlying operation is not stopped by that (it has no handle for it); its
 * late result or error is dropped.
 *
 * @example Put a deadline on a foreign promise
 * ```ts
 * import { TimeoutError, waitFor } from "@syncless/syncless/coio";
 *
 * const never = new Promise<void>(() => {});
 * await waitFor(never, { timeout: 10 }).catch((e) => {
 *   console.log(e instanceof TimeoutError); // true
 * });
 * ```
 */
export function waitFor<T>(
  promise: PromiseLike<T>,
  options?: WaitOptions,
): Promise<T> {
  return suspend<T>((waiter) => {
    promise.then(
      (value) => waiter.resume(value),
      (error) => waiter.fail(error),
    );
  }, options);
}

export type { WaitOptions };
