import { runInTimeoutScope, type TimeoutScope } from "./with_timeout.ts";

/**
 * Like {@linkcode withTimeout}, but a timeout is not an error: the block is
 * abandoned at its current wait and `moveOnAfter` returns `undefined`
 * (Syncless's `with Timeout(...)` block). Only its own timeout is swallowed;
 * any other error, an outer scope's timeout included, passes through.
 *
 * @example Read what arrives within 50 ms
 * ```ts
 * import { Channel, moveOnAfter } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<string>();
 * const got: string[] = [];
 * await moveOnAfter(50, async () => {
 *   for await (const message of channel) got.push(message);
 * });
 * console.log(got); // []
 * ```
 * @throws {RangeError} when `ms` is negative or NaN.
 */
export function moveOnAfter<T>(
  ms: number,
  fn: (scope: TimeoutScope) => T | PromiseLike<T>,
): Promise<T | undefined> {
  return runInTimeoutScope(ms, fn, true);
}
