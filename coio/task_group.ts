import { suspend, type Waiter } from "./_waiter.ts";
import { TaskGroupClosedError, TaskletExit } from "./errors.ts";
import type { SpawnOptions } from "./spawn.ts";
import { schedulePending, Tasklet } from "./tasklet.ts";

/** Options for {@linkcode TaskGroup}. */
export interface TaskGroupOptions {
  /**
   * Cancels the group when aborted, as {@linkcode TaskGroup.prototype.cancel}
   * does.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode TaskGroup.prototype.spawn}. */
export interface TaskGroupSpawnOptions {
  /**
   * The tasklet's name, for logs and debugging.
   *
   * @default {`tasklet-<id>`}
   */
  name?: string;
}

const ignoreError = () => {};

/**
 * Structured concurrency (beyond Syncless): a set of tasklets that end
 * together. `join()` (or leaving an `await using` block) waits until every
 * tasklet spawned into the group has ended, those spawned while it waits
 * included. The first error that escapes a member kills the other members
 * and is rethrown by `join()`; the `TaskletExit` of the killed members is not
 * an error and is never reported. Members' errors never reach the uncaught
 * error handler: the group handles them.
 *
 * If the tasklet waiting in `join()` is itself cancelled (killed, raised
 * into, or timed out by an enclosing scope), the group kills its members,
 * still waits for them to end, then rethrows: no member outlives the block.
 * Once `join()` has finished the group is closed, and `spawn()` throws
 * {@linkcode TaskGroupClosedError}.
 *
 * @example Wait for several tasklets
 * ```ts
 * import { sleep, TaskGroup } from "@syncless/syncless/coio";
 *
 * const log: string[] = [];
 * {
 *   await using group = new TaskGroup();
 *   group.spawn(async () => {
 *     await sleep(10);
 *     log.push("slow");
 *   });
 *   group.spawn(async () => {
 *     await sleep(1);
 *     log.push("fast");
 *   });
 * } // both have ended here
 * console.log(log); // ["fast", "slow"]
 * ```
 *
 * @example The first error cancels the rest
 * ```ts
 * import { sleep, TaskGroup } from "@syncless/syncless/coio";
 *
 * const group = new TaskGroup();
 * const sibling = group.spawn(() => sleep(60_000));
 * group.spawn(async () => {
 *   await sleep(1);
 *   throw new Error("failed");
 * });
 * await group.join().catch((e) => console.log(e.message)); // "failed"
 * console.log(sibling.alive); // false
 * ```
 */
export class TaskGroup {
  #members = new Set<Tasklet<unknown>>();
  #closed = false;
  #cancelled = false;
  #failed = false;
  #error: unknown = undefined;
  #controller: AbortController | undefined = undefined;
  // Waits in join() for the group to empty, and their plain-promise twins
  // for a join that was cancelled and must still wait for the members.
  #joiners: Waiter<void>[] = [];
  #drained: (() => void)[] = [];
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined = undefined;

  /** Creates an empty, open group. */
  constructor(options: TaskGroupOptions = {}) {
    const signal = options.signal;
    this.#signal = signal;
    if (signal?.aborted) {
      this.#cancel(undefined);
    } else if (signal !== undefined) {
      this.#onAbort = () => this.cancel();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** Number of members that have not ended yet. */
  get size(): number {
    return this.#members.size;
  }

  /** True once `join()` has finished: `spawn()` then throws. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Aborted when the group is cancelled: by the first member error (which is
   * the reason), by `cancel()` or by the group's own `signal`. Pass it to
   * foreign APIs that members or the owner use.
   */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#cancelled && !this.#controller.signal.aborted) {
      this.#controller.abort(this.#abortReason());
    }
    return this.#controller.signal;
  }

  /**
   * Starts `fn(...args)` as a member tasklet of the group (like
   * {@linkcode spawn}) and returns it; it can be joined on its own as well.
   * In a cancelled group the new tasklet is killed before it starts.
   *
   * @throws {TaskGroupClosedError} when the group is closed.
   * @throws {TypeError} when `fn` is not a function.
   */
  spawn<A extends unknown[], T>(
    fn: (...args: A) => T | PromiseLike<T>,
    ...args: A
  ): Tasklet<T>;
  /** Like the form without options, with the member's `name` first. */
  spawn<A extends unknown[], T>(
    options: TaskGroupSpawnOptions,
    fn: (...args: A) => T | PromiseLike<T>,
    ...args: A
  ): Tasklet<T>;
  spawn(first: unknown, ...rest: unknown[]): Tasklet<unknown> {
    if (this.#closed) throw new TaskGroupClosedError();
    let name: string | undefined;
    let fn = first;
    if (typeof first !== "function") {
      if (first === null || typeof first !== "object") {
        throw new TypeError(
          `TaskGroup.spawn() needs a function, got ${
            first === null ? "null" : typeof first
          }`,
        );
      }
      name = (first as TaskGroupSpawnOptions).name;
      fn = rest.shift();
      if (typeof fn !== "function") {
        throw new TypeError(
          `TaskGroup.spawn(options, fn) needs a function, got ${
            fn === null ? "null" : typeof fn
          }`,
        );
      }
    }
    const options: SpawnOptions = { name, onError: ignoreError };
    const tasklet = new Tasklet(
      fn as (...args: never[]) => unknown,
      rest,
      options,
    );
    this.#members.add(tasklet);
    tasklet._observe(this);
    schedulePending(tasklet);
    if (this.#cancelled) tasklet.kill();
    return tasklet;
  }

  /**
   * Kills every member; members spawned later are killed before they start.
   * `join()` then returns normally unless a member failed on its own.
   */
  cancel(): void {
    this.#cancel(undefined);
  }

  /**
   * Waits until every member has ended, then closes the group. Rethrows the
   * first error that escaped a member. Calling it again returns (or throws)
   * the same outcome at once.
   *
   * @throws the first member error, or this wait's own cancellation.
   */
  async join(): Promise<void> {
    if (this.#members.size > 0) {
      try {
        await suspend<void>((waiter) => {
          this.#joiners.push(waiter);
          waiter.onCancel = () => {
            this.#joiners.splice(this.#joiners.indexOf(waiter), 1);
          };
        });
      } catch (error) {
        // Cancelled: no member may outlive the block, so kill them and wait
        // for them without a coio wait (this tasklet's are being cancelled).
        this.#cancel(undefined);
        if (this.#members.size > 0) {
          await new Promise<void>((resolve) => this.#drained.push(resolve));
        }
        this.#close();
        throw this.#failed ? this.#error : error;
      }
    }
    this.#close();
    if (this.#failed) throw this.#error;
  }

  /** Waits for the members like `join()` (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.join();
  }

  /** @internal Called by a member tasklet as it ends. */
  _memberDone(
    tasklet: Tasklet<unknown>,
    failed: boolean,
    value: unknown,
  ): void {
    if (!this.#members.delete(tasklet)) return;
    if (failed && !(value instanceof TaskletExit) && !this.#failed) {
      this.#failed = true;
      this.#error = value;
      this.#cancel(value);
    }
    if (this.#members.size > 0) return;
    const joiners = this.#joiners;
    this.#joiners = [];
    for (const waiter of joiners) waiter.resume(undefined);
    const drained = this.#drained;
    this.#drained = [];
    for (const resolve of drained) resolve();
  }

  #cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#controller?.abort(reason ?? this.#abortReason());
    for (const member of this.#members) member.kill();
  }

  #abortReason(): unknown {
    return this.#failed ? this.#error : new TaskletExit("task group cancelled");
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#onAbort !== undefined) {
      this.#signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}
