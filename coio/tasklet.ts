import { checkpointHook } from "./_checkpoint.ts";
import { CONTEXT_KEY, getStore, runWithStore } from "./_context.ts";
import { enqueue, nowParked, nowRunning } from "./_runqueue.ts";
import type { CancelScope } from "./_scope.ts";
import { suspend, type Waiter } from "./_waiter.ts";
import { TaskletExit } from "./errors.ts";
import type { SpawnOptions } from "./spawn.ts";

/** The tasklet or cancel scope whose code is running now. */
export function currentStore(): Tasklet<unknown> | CancelScope {
  return (getStore() as Tasklet<unknown> | CancelScope | undefined) ??
    mainTasklet;
}

/** Runs `fn` with `store` as the current tasklet or scope (also across awaits). */
export function runInStore<R>(
  store: Tasklet<unknown> | CancelScope,
  fn: () => R,
): R {
  return runWithStore(store, callNoArgs<R>, fn);
}

function callNoArgs<R>(fn: () => R): R {
  return fn();
}

/** What happens to an error that escapes a tasklet nobody joins. */
export type UncaughtErrorHandler = (error: unknown, tasklet: Tasklet) => void;

let uncaughtErrorHandler: UncaughtErrorHandler | undefined;

/**
 * Installs a process-wide handler for errors that escape tasklets that have no
 * `onError` and no joiner (the console prints them instead of dying). Returns
 * the previous handler. `undefined` restores the default: such an error
 * surfaces as an unhandled promise rejection, which ends the process.
 */
export function setUncaughtErrorHandler(
  handler: UncaughtErrorHandler | undefined,
): UncaughtErrorHandler | undefined {
  const previous = uncaughtErrorHandler;
  uncaughtErrorHandler = handler;
  return previous;
}

// Life-cycle states, in the low bits of a tasklet's flags.
const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;
const STATE = 3;
// Killed: every wait from now on throws the TaskletExit kept in extra.pending.
const KILLED = 4;
// Ended by throwing: #value is the error.
const FAILED = 8;
// extra.pending holds an error for the next wait (a raise, or the kill's exit).
const HAS_PENDING = 16;
// Not started yet, and #value is [fn, ...args] rather than fn alone.
const HAS_ARGS = 32;

/** Told of a tasklet's end before its joiners are (a TaskGroup). */
export interface TaskletObserver {
  /** Called once with how the tasklet ended: its result, or its error. */
  _memberDone(tasklet: Tasklet<unknown>, failed: boolean, value: unknown): void;
}

// What few tasklets need, kept out of the hot object to keep it small.
interface Extra {
  name: string | undefined;
  pending: unknown;
  onError: ((error: unknown) => void) | undefined;
  controller: AbortController | undefined;
  spawnSignal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  observer: TaskletObserver | undefined;
}

let nextId = 1;
// Spawned tasklets not ended yet (Tasklet.aliveCount).
let aliveCount = 0;

/**
 * A lightweight thread of control: an async function run by the coio
 * scheduler, which can be joined, killed, or have an error raised into its
 * current wait. Create one with {@linkcode spawn}; {@linkcode current}
 * returns the running one.
 *
 * @example Spawn, then join
 * ```ts
 * import { sleep, spawn } from "@syncless/syncless/coio";
 *
 * const worker = spawn(async (ms: number) => {
 *   await sleep(ms);
 *   return "done";
 * }, 10);
 * console.log(await worker.join()); // "done"
 * ```
 */
export class Tasklet<T = unknown> {
  /** A number unique in this process (the main tasklet's is 0). */
  readonly id: number;
  /**
   * The tasklet is its own async context (see `_context.ts`).
   * @ignore
   */
  readonly [CONTEXT_KEY]: Tasklet<unknown>;
  // Every tasklet costs memory while it waits, so the fields are few: the
  // state and flags share a number; #value holds the function (with its
  // arguments, if any) before the start and the result or error after the
  // end; the name (made on demand) and anything rare live in #extra.
  #flags: number;
  #value: unknown;
  #joiners: Waiter<unknown> | Waiter<unknown>[] | undefined = undefined;
  #firstWaiter: Waiter | undefined = undefined;
  #lastWaiter: Waiter | undefined = undefined;
  #extra: Extra | undefined = undefined;

  /**
   * Number of spawned tasklets (by `spawn` or a `TaskGroup`) that have not
   * ended yet; the main tasklet is not counted. A counter: cheap to read,
   * e.g. for a monitoring page.
   *
   * @example
   * ```ts
   * import { sleep, spawn, Tasklet } from "@syncless/syncless/coio";
   *
   * const before = Tasklet.aliveCount;
   * const sleeper = spawn(() => sleep(10));
   * console.log(Tasklet.aliveCount - before); // 1
   * await sleeper.join();
   * console.log(Tasklet.aliveCount - before); // 0
   * ```
   */
  static get aliveCount(): number {
    return aliveCount;
  }

  /** Use {@linkcode spawn} instead: constructing does not schedule. */
  constructor(
    fn: ((...args: never[]) => T | PromiseLike<T>) | undefined,
    args: unknown[] | undefined,
    options?: SpawnOptions,
  ) {
    this.id = fn === undefined ? 0 : nextId++;
    this[CONTEXT_KEY] = this;
    if (fn !== undefined) aliveCount++;
    if (args !== undefined && args.length > 0) {
      // Literals for the common arities: cheaper than a spread.
      this.#value = args.length === 1
        ? [fn, args[0]]
        : args.length === 2
        ? [fn, args[0], args[1]]
        : [fn, ...args];
      this.#flags = QUEUED | HAS_ARGS;
    } else {
      this.#value = fn;
      this.#flags = fn === undefined ? RUNNING : QUEUED;
    }
    if (options === undefined) return;
    const { name, onError, signal } = options;
    if (name !== undefined) this.#extras().name = name;
    if (onError !== undefined) this.#extras().onError = onError;
    if (signal?.aborted) {
      this.kill();
    } else if (signal !== undefined) {
      const extra = this.#extras();
      extra.spawnSignal = signal;
      extra.onAbort = () => this.kill();
      signal.addEventListener("abort", extra.onAbort, { once: true });
    }
  }

  /** A name for logs and debugging; defaults to `tasklet-<id>`. */
  get name(): string {
    return this.#extra?.name ??
      (this.id === 0 ? "main" : `tasklet-${this.id}`);
  }

  set name(name: string) {
    this.#extras().name = name;
  }

  /** True until the tasklet's function has returned or thrown. */
  get alive(): boolean {
    return (this.#flags & STATE) !== DONE;
  }

  /** Aborted, with a `TaskletExit` reason, when the tasklet is killed. */
  get signal(): AbortSignal {
    const extra = this.#extras();
    extra.controller ??= new AbortController();
    if ((this.#flags & KILLED) !== 0 && !extra.controller.signal.aborted) {
      extra.controller.abort(extra.pending);
    }
    return extra.controller.signal;
  }

  /**
   * Waits for the tasklet to end and returns its result, or throws its error
   * (`TaskletExit` if it was killed before it could finish). The wait itself
   * is cancellable like any other.
   */
  join(): Promise<T> {
    if ((this.#flags & STATE) === DONE) {
      return (this.#flags & FAILED) !== 0
        ? Promise.reject(this.#value)
        : Promise.resolve(this.#value as T);
    }
    return suspend<T>((waiter: Waiter<unknown>) => {
      const joiners = this.#joiners;
      if (joiners === undefined) this.#joiners = waiter;
      else if (Array.isArray(joiners)) joiners.push(waiter);
      else this.#joiners = [joiners, waiter];
      waiter.onCancel = () => this.#dropJoiner(waiter);
    });
  }

  /**
   * Raises `TaskletExit` at the tasklet's current wait, or at its next one;
   * every later wait raises it too. A tasklet killed before it started never
   * runs: it ends at once. Killing a dead tasklet does nothing.
   */
  kill(): void {
    const flags = this.#flags;
    if ((flags & STATE) === DONE || (flags & KILLED) !== 0) return;
    const exit = new TaskletExit();
    this.#flags = flags | KILLED | HAS_PENDING;
    const extra = this.#extras();
    extra.pending = exit;
    extra.controller?.abort(exit);
    if ((flags & STATE) === QUEUED) {
      // It never ran: end it now; its run-queue entry will find it done.
      this.#finish(true, exit);
      return;
    }
    for (let w = this.#firstWaiter; w !== undefined; w = this.#firstWaiter) {
      w.cancel(exit);
    }
  }

  /**
   * Delivers `error` once: the tasklet's current wait (its oldest, if it has
   * several) rejects with it, or else its next wait does. A no-op on a dead
   * or killed tasklet. The tasklet's `signal` is not aborted.
   */
  raise(error: unknown): void {
    const flags = this.#flags;
    if ((flags & STATE) === DONE || (flags & KILLED) !== 0) return;
    if (this.#firstWaiter !== undefined) {
      this.#firstWaiter.cancel(error);
      return;
    }
    this.#extras().pending = error;
    this.#flags = flags | HAS_PENDING;
  }

  /** Ends the tasklet's sleep early, if it is sleeping; the sleep returns normally. */
  wake(): void {
    for (let w = this.#firstWaiter; w !== undefined;) {
      const next = w.next;
      if (w.wakeable) w.resume(undefined);
      w = next;
    }
  }

  /** @internal Number of waits in `join()` on this tasklet (for leak tests). */
  get _joinerCount(): number {
    const joiners = this.#joiners;
    if (joiners === undefined) return 0;
    return Array.isArray(joiners) ? joiners.length : 1;
  }

  /** @internal Tells `observer` of the tasklet's end (one observer at most). */
  _observe(observer: TaskletObserver): void {
    this.#extras().observer = observer;
  }

  /** Run-queue entry point: starts the tasklet on the next microtask. */
  _run(): void {
    if ((this.#flags & STATE) !== QUEUED) return;
    this.#flags = (this.#flags & ~STATE) | RUNNING;
    nowRunning(this);
    // A shared callback and a FIFO of tasklets instead of a closure each.
    starting.push(this);
    queueMicrotask(startNext);
  }

  /**
   * Starts the tasklet inside this call (see {@linkcode spawnNow}).
   * @ignore
   */
  _runNow(): void {
    if ((this.#flags & STATE) !== QUEUED) return; // killed before it ran
    this.#flags = (this.#flags & ~STATE) | RUNNING;
    nowRunning(this);
    runWithStore(this, startTasklet, this);
  }

  /** Takes the error a wait must throw before parking, if any. */
  _takePendingError(): unknown {
    const flags = this.#flags;
    if ((flags & HAS_PENDING) === 0) return undefined;
    const extra = this.#extra!;
    const error = extra.pending;
    if ((flags & KILLED) === 0) {
      this.#flags = flags & ~HAS_PENDING;
      extra.pending = undefined;
    }
    return error;
  }

  /**
   * Links a wait in progress. (internal: not part of the documented API)
   * @ignore
   */
  _addWaiter(waiter: Waiter): void {
    waiter.prev = this.#lastWaiter;
    if (this.#lastWaiter === undefined) this.#firstWaiter = waiter;
    else this.#lastWaiter.next = waiter;
    this.#lastWaiter = waiter;
  }

  /**
   * Unlinks a wait that settled. (internal: not part of the documented API)
   * @ignore
   */
  _removeWaiter(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === undefined) this.#firstWaiter = next;
    else prev.next = next;
    if (next === undefined) this.#lastWaiter = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = undefined;
  }

  /**
   * Cancels every wait in progress whose scope lies inside `scope`. (internal: not part of the documented API)
   * @ignore
   */
  _cancelScope(scope: CancelScope, error: Error): void {
    for (let w = this.#firstWaiter; w !== undefined;) {
      const next = w.next;
      if (scope.encloses(w.scope)) w.cancel(error);
      w = next;
    }
  }

  /** Calls the tasklet's function (in its own async context). */
  _start(): void {
    const flags = this.#flags;
    if ((flags & STATE) !== RUNNING) return;
    if ((flags & KILLED) !== 0) {
      // Killed between _run() and now: it never runs.
      this.#finish(true, this.#extra!.pending);
      return;
    }
    const value = this.#value;
    this.#value = undefined;
    let result: T | PromiseLike<T>;
    try {
      if ((flags & HAS_ARGS) === 0) {
        result = (value as () => T | PromiseLike<T>)();
      } else {
        // [fn, ...args]: the common arities without a rest array or a spread.
        const call = value as unknown[];
        const fn = call[0] as (...args: unknown[]) => T | PromiseLike<T>;
        result = call.length === 2
          ? fn(call[1])
          : call.length === 3
          ? fn(call[1], call[2])
          : fn(...call.slice(1));
      }
    } catch (error) {
      this.#finish(true, error);
      return;
    }
    if (result instanceof Promise) {
      // Shared callbacks: a native promise runs them in the async context of
      // this call, which tells them which tasklet ended.
      result.then(onFulfilled, onRejected);
    } else if (
      result !== null && typeof result === "object" &&
      typeof (result as PromiseLike<T>).then === "function"
    ) {
      (result as PromiseLike<T>).then(
        (value) => this.#finish(false, value),
        (error) => this.#finish(true, error),
      );
    } else {
      this.#finish(false, result as T);
    }
  }

  /** @internal The end of the tasklet's function (see `_start`). */
  _end(failed: boolean, value: unknown): void {
    this.#finish(failed, value);
  }

  #finish(failed: boolean, value: unknown): void {
    aliveCount--;
    if (checkpointHook !== undefined && (this.#flags & STATE) === RUNNING) {
      checkpointHook(this);
    }
    let flags = (this.#flags & ~(STATE | HAS_ARGS)) | DONE;
    if (failed) flags |= FAILED;
    this.#flags = flags & ~HAS_PENDING;
    this.#value = value;
    const extra = this.#extra;
    if (extra !== undefined) {
      // A killed tasklet keeps its exit (its signal's reason); nothing else.
      if ((flags & KILLED) === 0) extra.pending = undefined;
      if (extra.onAbort !== undefined) {
        extra.spawnSignal!.removeEventListener("abort", extra.onAbort);
        extra.spawnSignal = extra.onAbort = undefined;
      }
      extra.observer?._memberDone(this, failed, value);
    }
    const joiners = this.#joiners;
    this.#joiners = undefined;
    if (joiners !== undefined) {
      if (!Array.isArray(joiners)) {
        if (failed) joiners.fail(value);
        else joiners.resume(value);
      } else {
        for (const w of joiners) {
          if (failed) w.fail(value);
          else w.resume(value);
        }
      }
    } else if (failed && !(value instanceof TaskletExit)) {
      if (extra?.onError !== undefined) {
        extra.onError(value);
      } else if (uncaughtErrorHandler !== undefined) {
        uncaughtErrorHandler(value, this);
      } else {
        // Nobody will hear of this error otherwise: surface it like any
        // unhandled rejection, which ends the process (as Syncless did).
        Promise.reject(value);
      }
    }
    // Last, so that a resumed joiner runs before the next runnable.
    nowParked(this);
  }

  #dropJoiner(waiter: Waiter<unknown>): void {
    const joiners = this.#joiners;
    if (joiners === waiter) {
      this.#joiners = undefined;
    } else if (Array.isArray(joiners)) {
      const index = joiners.indexOf(waiter);
      if (index >= 0) joiners.splice(index, 1);
      if (joiners.length === 0) this.#joiners = undefined;
    }
  }

  #extras(): Extra {
    return this.#extra ??= {
      name: undefined,
      pending: undefined,
      onError: undefined,
      controller: undefined,
      spawnSignal: undefined,
      onAbort: undefined,
      observer: undefined,
    };
  }
}

// Tasklets whose start is queued as a microtask, in order.
const starting: Tasklet<unknown>[] = [];
let startingHead = 0;

function startNext(): void {
  const tasklet = starting[startingHead];
  starting[startingHead++] = undefined as unknown as Tasklet<unknown>;
  if (startingHead === starting.length) starting.length = startingHead = 0;
  runWithStore(tasklet, startTasklet, tasklet);
}

function startTasklet(tasklet: Tasklet<unknown>): void {
  tasklet._start();
}

function onFulfilled(value: unknown): void {
  (getStore() as Tasklet<unknown>)._end(false, value);
}

function onRejected(error: unknown): void {
  (getStore() as Tasklet<unknown>)._end(true, error);
}

/** The tasklet of code that runs outside any spawned tasklet. */
const mainTasklet: Tasklet<unknown> = new Tasklet(undefined, undefined);

/** Schedules `tasklet` to start on a later round of the run queue. */
export function schedulePending(tasklet: Tasklet<unknown>): void {
  enqueue(tasklet);
}

/**
 * Spawns a tasklet and runs it inside this call, up to its first wait (or
 * its end: a function that returns without a promise ends it here), the
 * way an I/O completion resumes a waiting tasklet, rather than behind the
 * run queue (which would cost a round and a watchdog turn). Call it only
 * from a callback that runs outside any tasklet, such as an I/O completion.
 * Internal to the package: the HTTP server wakes a parked connection this
 * way.
 */
export function spawnNow<A extends unknown[], T>(
  options: SpawnOptions | undefined,
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Tasklet<T> {
  const tasklet = new Tasklet<T>(
    fn as unknown as (...args: never[]) => T | PromiseLike<T>,
    args,
    options,
  );
  tasklet._runNow();
  return tasklet;
}
