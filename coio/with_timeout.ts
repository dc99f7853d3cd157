import { CancelScope } from "./_scope.ts";
import { addTimer, removeTimer, type TimerEntry } from "./_timers.ts";
import { checkTimeout } from "./_waiter.ts";
import { TimeoutError } from "./errors.ts";
import { currentStore, runInStore } from "./tasklet.ts";

/**
 * The deadline of a {@linkcode withTimeout} or {@linkcode moveOnAfter} block,
 * given to its function so that it can move or drop the deadline.
 *
 * @example Extend a deadline while progress is made
 * ```ts
 * import { sleep, withTimeout } from "@syncless/syncless/coio";
 *
 * await withTimeout(50, async (scope) => {
 *   for (let i = 0; i < 3; i++) {
 *     await sleep(30);
 *     scope.change(50); // 50 ms more from now
 *   }
 * });
 * ```
 */
export interface TimeoutScope {
  /** Removes the deadline: the block may now take as long as it needs. */
  cancel(): void;
  /**
   * Restarts the deadline: the block expires `ms` milliseconds from now
   * (`0`: at once, `Infinity`: never). A no-op once the block has expired
   * or ended.
   *
   * @throws {RangeError} when `ms` is negative or NaN.
   */
  change(ms: number): void;
  /** True once the deadline has passed. */
  readonly expired: boolean;
  /**
   * Aborted, with the block's `TimeoutError` as its reason, when the
   * deadline passes: hand it to foreign APIs used inside the block.
   */
  readonly signal: AbortSignal;
}

// The scope behind a TimeoutScope: a cancel scope of the tasklet that is also
// an entry of the timer queue.
class Deadline extends CancelScope implements TimerEntry, TimeoutScope {
  deadline = 0;
  heapIndex = -1;
  #exited = false;

  cancel(): void {
    removeTimer(this);
  }

  change(ms: number): void {
    checkTimeout(ms);
    if (this.cancelledWith !== undefined || this.#exited) return;
    if (ms === 0) {
      removeTimer(this);
      this.fire();
    } else if (ms === Infinity) {
      removeTimer(this);
    } else {
      addTimer(this, ms);
    }
  }

  get expired(): boolean {
    return this.cancelledWith !== undefined;
  }

  /** Timer entry point: cancels every wait inside the block. */
  fire(): void {
    const error = new TimeoutError();
    this._markCancelled(error);
    this.tasklet._cancelScope(this, error);
  }

  /** The block has ended: the deadline no longer matters. */
  exit(): void {
    this.#exited = true;
    removeTimer(this);
  }
}

/**
 * Runs `fn(scope)` in a new timeout scope of the current tasklet and returns
 * what the block returned. When the block throws its own scope's
 * `TimeoutError`, that error is rethrown, or `undefined` is returned when
 * `swallow` is set; any other error (an outer scope's timeout included)
 * passes through.
 */
export async function runInTimeoutScope<T>(
  ms: number,
  fn: (scope: TimeoutScope) => T | PromiseLike<T>,
  swallow: boolean,
): Promise<T | undefined> {
  checkTimeout(ms);
  if (typeof fn !== "function") {
    throw new TypeError(`expected a function, got ${typeof fn}`);
  }
  const store = currentStore();
  const parent = store instanceof CancelScope ? store : undefined;
  const tasklet = parent?.tasklet ?? (store as CancelScope["tasklet"]);
  const scope = new Deadline(tasklet, parent);
  scope.change(ms);
  try {
    return await runInStore(scope, () => fn(scope));
  } catch (error) {
    if (error !== scope.cancelledWith || !swallow) throw error;
    return undefined;
  } finally {
    scope.exit();
  }
}

/**
 * Runs `fn(scope)` in the current tasklet with a deadline: if it has not
 * finished after `ms` milliseconds, every coio wait inside it, however deeply
 * nested, rejects with `TimeoutError`, and `withTimeout` rethrows that same
 * error. `ms` may be `0` (expired at once: the first wait throws) or
 * `Infinity` (no deadline). An outer scope's timeout passes through
 * unchanged, and so does any other error.
 *
 * @example
 * ```ts
 * import { sleep, TimeoutError, withTimeout } from "@syncless/syncless/coio";
 *
 * const fast = await withTimeout(100, async () => {
 *   await sleep(1);
 *   return "in time";
 * });
 * console.log(fast); // "in time"
 * await withTimeout(10, () => sleep(1000)).catch((e) => {
 *   console.log(e instanceof TimeoutError); // true
 * });
 * ```
 * @throws {TimeoutError} when the deadline passes first.
 * @throws {RangeError} when `ms` is negative or NaN.
 */
export async function withTimeout<T>(
  ms: number,
  fn: (scope: TimeoutScope) => T | PromiseLike<T>,
): Promise<T> {
  return (await runInTimeoutScope(ms, fn, false)) as T;
}
