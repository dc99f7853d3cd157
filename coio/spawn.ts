import { schedulePending, Tasklet } from "./tasklet.ts";

/** Options for {@linkcode spawn}. */
export interface SpawnOptions {
  /** The tasklet's name, for logs and debugging. */
  name?: string;
  /**
   * Called with an error that escapes the tasklet when nobody is joining it;
   * without it such an error ends the process like an unhandled rejection.
   */
  onError?: (error: unknown) => void;
  /** Kills the tasklet when aborted. */
  signal?: AbortSignal;
}

/**
 * Starts `fn(...args)` as a new tasklet. It does not run synchronously: it is
 * appended to the run queue and starts on a later turn, in FIFO order with
 * every other runnable tasklet. Pass an options object first to name the
 * tasklet, handle its errors or tie it to an `AbortSignal`.
 *
 * @example Start two tasklets
 * ```ts
 * import { schedule, spawn } from "@syncless/syncless/coio";
 *
 * const log: string[] = [];
 * const a = spawn(async () => { log.push("a1"); await schedule(); log.push("a2"); });
 * const b = spawn({ name: "b" }, () => { log.push("b1"); });
 * await Promise.all([a.join(), b.join()]);
 * console.log(log.join(" ")); // "a1 b1 a2"
 * ```
 * @throws {TypeError} when `fn` is not a function.
 */
export function spawn<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Tasklet<T>;
/**
 * Like the form without options, with an options object first: the
 * tasklet's `name`, an `onError` handler or a `signal` that kills it.
 */
export function spawn<A extends unknown[], T>(
  options: SpawnOptions,
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Tasklet<T>;
export function spawn(first: unknown, ...rest: unknown[]): Tasklet<unknown> {
  let options: SpawnOptions | undefined;
  let fn = first;
  if (typeof first !== "function") {
    if (first === null || typeof first !== "object") {
      throw new TypeError(
        `spawn() needs a function, got ${
          first === null ? "null" : typeof first
        }`,
      );
    }
    options = first as SpawnOptions;
    fn = rest.shift();
    if (typeof fn !== "function") {
      throw new TypeError(
        `spawn(options, fn) needs a function, got ${
          fn === null ? "null" : typeof fn
        }`,
      );
    }
  }
  const tasklet = new Tasklet(
    fn as (...args: never[]) => unknown,
    rest,
    options,
  );
  schedulePending(tasklet);
  return tasklet;
}
