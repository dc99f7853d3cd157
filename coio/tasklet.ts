import { AsyncLocalStorage } from "node:async_hooks";
import { checkpointHook } from "./_checkpoint.ts";
import { enqueue, nowParked, nowRunning } from "./_runqueue.ts";
import type { CancelScope } from "./_scope.ts";
import { suspend, type Waiter } from "./_waiter.ts";
import { TaskletExit } from "./errors.ts";
import type { SpawnOptions } from "./spawn.ts";

const storage = new AsyncLocalStorage<Tasklet<unknown> | CancelScope>();

/** The tasklet or cancel scope whose code is running now. */
export function currentStore(): Tasklet<unknown> | CancelScope {
  return storage.getStore() ?? mainTasklet;
}

/** Runs `fn` with `store` as the current tasklet or scope (also across awaits). */
export function runInStore<R>(
  store: Tasklet<unknown> | CancelScope,
  fn: () => R,
): R {
  return storage.run(store, fn);
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

// Life-cycle states.
const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;
type State = typeof QUEUED | typeof RUNNING | typeof DONE;

let nextId = 1;

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
  /** A name for logs and debugging; defaults to `tasklet-<id>`. */
  name: string;
  #state: State = QUEUED;
  #fn: ((...args: never[]) => T | PromiseLike<T>) | undefined;
  #args: unknown[] | undefined;
  #result: T | undefined = undefined;
  #error: unknown = undefined;
  #failed = false;
  #joiners: Waiter<unknown>[] | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #onError: ((error: unknown) => void) | undefined;
  #killed = false;
  #pending: unknown = undefined;
  #hasPending = false;
  #firstWaiter: Waiter | undefined = undefined;
  #lastWaiter: Waiter | undefined = undefined;

  #signal: AbortSignal | undefined = undefined;
  #onAbort: (() => void) | undefined = undefined;

  /** Use {@linkcode spawn} instead: constructing does not schedule. */
  constructor(
    fn: ((...args: never[]) => T | PromiseLike<T>) | undefined,
    args: unknown[] | undefined,
    options?: SpawnOptions,
  ) {
    this.id = fn === undefined ? 0 : nextId++;
    this.name = options?.name ??
      (fn === undefined ? "main" : `tasklet-${this.id}`);
    this.#fn = fn;
    this.#args = args;
    this.#onError = options?.onError;
    if (fn === undefined) this.#state = RUNNING;
    const signal = options?.signal;
    if (signal?.aborted) this.kill();
    else if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.kill();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** True until the tasklet's function has returned or thrown. */
  get alive(): boolean {
    return this.#state !== DONE;
  }

  /** Aborted, with a `TaskletExit` reason, when the tasklet is killed. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#killed && !this.#controller.signal.aborted) {
      this.#controller.abort(this.#pending);
    }
    return this.#controller.signal;
  }

  /**
   * Waits for the tasklet to end and returns its result, or throws its error
   * (`TaskletExit` if it was killed before it could finish). The wait itself
   * is cancellable like any other.
   */
  join(): Promise<T> {
    if (this.#state === DONE) {
      return this.#failed
        ? Promise.reject(this.#error)
        : Promise.resolve(this.#result as T);
    }
    return suspend<T>((waiter: Waiter<unknown>) => {
      (this.#joiners ??= []).push(waiter);
      waiter.onCancel = () => {
        this.#joiners!.splice(this.#joiners!.indexOf(waiter), 1);
      };
    });
  }

  /**
   * Raises `TaskletExit` at the tasklet's current wait, or at its next one;
   * every later wait raises it too. A tasklet killed before it started never
   * runs. Killing a dead tasklet does nothing.
   */
  kill(): void {
    if (this.#state === DONE || this.#killed) return;
    this.#killed = true;
    const exit = new TaskletExit();
    this.#pending = exit;
    this.#hasPending = true;
    this.#controller?.abort(exit);
    if (this.#state === QUEUED) return; // _run() finishes it
    for (let w = this.#firstWaiter; w !== undefined; w = this.#firstWaiter) {
      w.cancel(exit);
    }
  }

  /**
   * Delivers `error` once: the tasklet's current wait (its oldest, if it has
   * several) rejects with it, or else its next wait does. A no-op on a dead
   * tasklet. The tasklet's `signal` is not aborted.
   */
  raise(error: unknown): void {
    if (this.#state === DONE) return;
    if (this.#firstWaiter !== undefined && this.#state === RUNNING) {
      this.#firstWaiter.cancel(error);
      return;
    }
    if (this.#killed) return;
    this.#pending = error;
    this.#hasPending = true;
  }

  /** Ends the tasklet's sleep early, if it is sleeping; the sleep returns normally. */
  wake(): void {
    for (let w = this.#firstWaiter; w !== undefined; w = w.next) {
      if (w.wakeable) w.resume(undefined);
    }
  }

  /** Run-queue entry point: starts the tasklet on the next microtask. */
  _run(): void {
    if (this.#state !== QUEUED) return;
    if (this.#killed) {
      this.#finish(true, this.#pending);
      return;
    }
    this.#state = RUNNING;
    nowRunning(this);
    queueMicrotask(() => storage.run(this, startTasklet, this));
  }

  /** Takes the error a wait must throw before parking, if any. */
  _takePendingError(): unknown {
    if (!this.#hasPending) return undefined;
    const error = this.#pending;
    if (!this.#killed) {
      this.#hasPending = false;
      this.#pending = undefined;
    }
    return error;
  }

  /** Links a wait in progress. */
  _addWaiter(waiter: Waiter): void {
    waiter.prev = this.#lastWaiter;
    if (this.#lastWaiter === undefined) this.#firstWaiter = waiter;
    else this.#lastWaiter.next = waiter;
    this.#lastWaiter = waiter;
  }

  /** Unlinks a wait that settled. */
  _removeWaiter(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === undefined) this.#firstWaiter = next;
    else prev.next = next;
    if (next === undefined) this.#lastWaiter = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = undefined;
  }

  /** Cancels every wait in progress whose scope lies inside `scope`. */
  _cancelScope(scope: CancelScope, error: Error): void {
    for (let w = this.#firstWaiter; w !== undefined;) {
      const next = w.next;
      if (scope.encloses(w.scope)) w.cancel(error);
      w = next;
    }
  }

  /** Calls the tasklet's function (in its own async context). */
  _start(): void {
    const fn = this.#fn!;
    const args = this.#args!;
    this.#fn = this.#args = undefined;
    let result: T | PromiseLike<T>;
    try {
      result = fn(...args as never[]);
    } catch (error) {
      this.#finish(true, error);
      return;
    }
    if (
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

  #finish(failed: boolean, value: unknown): void {
    if (checkpointHook !== undefined) checkpointHook(this);
    this.#state = DONE;
    if (this.#signal !== undefined) {
      this.#signal.removeEventListener("abort", this.#onAbort!);
      this.#signal = this.#onAbort = undefined;
    }
    this.#failed = failed;
    if (failed) this.#error = value;
    else this.#result = value as T;
    this.#hasPending = false;
    this.#pending = undefined;
    const joiners = this.#joiners;
    this.#joiners = undefined;
    if (joiners !== undefined && joiners.length > 0) {
      for (const w of joiners) {
        if (failed) w.fail(value);
        else w.resume(value);
      }
    } else if (failed && !(value instanceof TaskletExit)) {
      if (this.#onError !== undefined) {
        this.#onError(value);
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
}

function startTasklet(tasklet: Tasklet<unknown>): void {
  tasklet._start();
}

/** The tasklet of code that runs outside any spawned tasklet. */
const mainTasklet: Tasklet<unknown> = new Tasklet(undefined, undefined);

/** Schedules `tasklet` to start on a later round of the run queue. */
export function schedulePending(tasklet: Tasklet<unknown>): void {
  enqueue(tasklet);
}
