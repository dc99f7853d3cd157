import type { SpawnOptions } from "../coio/spawn.ts";
import type { Tasklet } from "../coio/tasklet.ts";
import { currentReporter, makeSafeSpawners } from "./_tasklet_errors.ts";

const spawners = makeSafeSpawners(currentReporter);

/**
 * Starts `fn(...args)` as a tasklet, like `spawn`, but an error that escapes
 * it (and that nobody joins) is printed to standard error, with the message
 * `Error terminated <name>, resuming ...`, instead of ending the process.
 * Inside the interactive console the report appears above the prompt and the
 * prompt comes back. An `onError` option still takes precedence.
 *
 * @example A failing tasklet does not end the program
 * ```ts
 * import { spawnSafe } from "@syncless/syncless/console";
 *
 * const tasklet = spawnSafe(() => {
 *   throw new Error("boom");
 * });
 * await tasklet.join().catch((error) => console.log(error.message)); // "boom"
 * ```
 * @throws {TypeError} when `fn` is not a function.
 */
export function spawnSafe<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Tasklet<T>;
/**
 * {@linkcode spawnSafe} with `spawn`'s options (`name`, `signal`; an
 * `onError` replaces the printed report).
 *
 * @example A named tasklet
 * ```ts
 * import { spawnSafe } from "@syncless/syncless/console";
 *
 * const tasklet = spawnSafe({ name: "worker" }, () => 42);
 * console.log(await tasklet.join()); // 42
 * ```
 */
export function spawnSafe<A extends unknown[], T>(
  options: SpawnOptions,
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Tasklet<T>;
export function spawnSafe(
  first: unknown,
  ...rest: unknown[]
): Tasklet<unknown> {
  return (spawners.spawnSafe as (...args: unknown[]) => Tasklet<unknown>)(
    first,
    ...rest,
  );
}

/**
 * Turns `fn` into a tasklet factory (Syncless's `wrap_tasklet`): each call
 * of the result starts `fn` with the call's arguments in a new tasklet with
 * {@linkcode spawnSafe}, so an uncaught error is printed, not fatal.
 *
 * @example
 * ```ts
 * import { wrapTasklet } from "@syncless/syncless/console";
 *
 * const double = wrapTasklet((n: number) => n * 2);
 * console.log(await double(21).join()); // 42
 * ```
 */
export function wrapTasklet<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  options: SpawnOptions = {},
): (...args: A) => Tasklet<T> {
  return spawners.wrapTasklet(fn, options);
}
