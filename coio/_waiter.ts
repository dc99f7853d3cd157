import { checkpointHook } from "./_checkpoint.ts";
import { enqueue, nowParked, nowRunning } from "./_runqueue.ts";
import { cancelledError, CancelScope } from "./_scope.ts";
import { addTimer, removeTimer, type TimerEntry } from "./_timers.ts";
import { TimeoutError, WouldBlockError } from "./errors.ts";
import { currentStore, type Tasklet } from "./tasklet.ts";

/** Options that every blocking coio call accepts. */
export interface WaitOptions {
  /** Cancels the wait; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Milliseconds this one wait may take: `null`/`undefined` waits forever,
   * `0` throws `WouldBlockError` at once, `> 0` throws `TimeoutError` after.
   */
  timeout?: number | null;
}

// Waiter flags.
const SETTLED = 1;
const WAKEABLE = 2;
// Settled by resumeLater/failLater: it continues from the run queue.
const LATER = 4;
const LATER_FAILS = 8;

/**
 * One suspended wait of one tasklet: the settle functions of the promise it
 * awaits, and the bookkeeping that lets kill, raise, timeout scopes, signals
 * and per-wait timeouts cancel it and clean up after it.
 */
export class Waiter<T = unknown> implements TimerEntry {
  // Links in the owning tasklet's list of waits in progress.
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  deadline = 0;
  heapIndex = -1;
  /** Free slot for the primitive that parks the wait (e.g. a sent value). */
  value: unknown = undefined;
  /** Undoes the primitive's registration when the wait is cancelled. */
  onCancel: (() => void) | undefined = undefined;
  // Every waiting tasklet holds one: few fields, flags in one number.
  #flags = 0;
  #signal: AbortSignal | undefined = undefined;

  // Typed loosely so that a Waiter<T> can be linked where a Waiter<unknown> is.
  #resolve: (value: unknown) => void;
  #reject: (error: unknown) => void;

  constructor(
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    readonly tasklet: Tasklet<unknown>,
    readonly scope: CancelScope | undefined,
  ) {
    this.#resolve = resolve as (value: unknown) => void;
    this.#reject = reject;
  }

  /** True once the wait has completed, failed or been cancelled. */
  get settled(): boolean {
    return (this.#flags & SETTLED) !== 0;
  }

  /** A sleep: its timer and `tasklet.wake()` complete it instead of failing it. */
  get wakeable(): boolean {
    return (this.#flags & WAKEABLE) !== 0;
  }

  set wakeable(wakeable: boolean) {
    this.#flags = wakeable ? this.#flags | WAKEABLE : this.#flags & ~WAKEABLE;
  }

  /** Completes the wait with `value`; false if it had already settled. */
  resume(value: T): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.#finish();
    nowRunning(this.tasklet);
    this.#resolve(value);
    return true;
  }

  /** Fails the wait with `error`; false if it had already settled. */
  fail(error: unknown): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.#finish();
    nowRunning(this.tasklet);
    this.#reject(error);
    return true;
  }

  /**
   * Completes the wait with `value` now (nothing can cancel it any more), but
   * the tasklet continues only when its turn in the run queue comes. False if
   * it had already settled.
   */
  resumeLater(value: T): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.#finish();
    this.value = value;
    this.#flags |= LATER;
    enqueue(this);
    return true;
  }

  /** Like {@linkcode resumeLater}, but the wait rejects with `error`. */
  failLater(error: unknown): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.#finish();
    this.value = error;
    this.#flags |= LATER | LATER_FAILS;
    enqueue(this);
    return true;
  }

  /** Unregisters the wait from its primitive, then fails it with `error`. */
  cancel(error: unknown): boolean {
    if ((this.#flags & SETTLED) !== 0) return false;
    this.onCancel?.();
    return this.fail(error);
  }

  /** Run-queue entry point: a parked `schedule()` resumes. */
  _run(): void {
    const flags = this.#flags;
    if ((flags & LATER) === 0) {
      this.resume(undefined as T);
      return;
    }
    const value = this.value;
    this.value = undefined;
    this.#flags = flags & ~(LATER | LATER_FAILS);
    nowRunning(this.tasklet);
    if ((flags & LATER_FAILS) !== 0) this.#reject(value);
    else this.#resolve(value);
  }

  /** Timer entry point. */
  fire(): void {
    if ((this.#flags & WAKEABLE) !== 0) this.resume(undefined as T);
    else this.cancel(new TimeoutError());
  }

  /** Cancels the wait when `signal` aborts. */
  listen(signal: AbortSignal): void {
    this.#signal = signal;
    // The waiter is its own listener (handleEvent): no closure per wait.
    signal.addEventListener("abort", this, { once: true });
  }

  /** @internal The abort listener (see `listen`). */
  handleEvent(): void {
    const signal = this.#signal;
    if (signal !== undefined) this.cancel(signal.reason);
  }

  #finish(): void {
    this.#flags |= SETTLED;
    if (this.heapIndex !== -1) removeTimer(this);
    if (this.#signal !== undefined) {
      this.#signal.removeEventListener("abort", this);
      this.#signal = undefined;
    }
    this.tasklet._removeWaiter(this);
  }
}

/**
 * Validates a timeout option: `null`/`undefined` (forever) or a number >= 0.
 * Throws `RangeError` for negative or NaN values.
 */
export function checkTimeout(timeout: number | null | undefined): void {
  if (timeout === null || timeout === undefined) return;
  if (typeof timeout !== "number" || !(timeout >= 0)) {
    throw new RangeError(
      `timeout must be null or a number >= 0 (milliseconds), got ${
        String(timeout)
      }`,
    );
  }
}

/**
 * Parks the current tasklet until `park`'s registration is completed through
 * the waiter (`resume`/`fail`), or until kill, raise, an enclosing timeout
 * scope, `options.signal` or `options.timeout` cancels it. A cancellation that
 * is already pending rejects at once without calling `park`.
 */
export function suspend<T>(
  park: (waiter: Waiter<T>) => void,
  options?: WaitOptions,
): Promise<T> {
  let timeout: number | null | undefined;
  let signal: AbortSignal | undefined;
  if (options !== undefined) {
    signal = options.signal;
    timeout = options.timeout;
    checkTimeout(timeout);
  }
  return wait(park, signal, timeout, false);
}

/**
 * Parks the current tasklet for `ms` milliseconds: like {@linkcode suspend},
 * but the timer (or `tasklet.wake()`) completes the wait instead of failing it.
 */
export function suspendFor(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(undefined, signal, ms, true);
}

/**
 * A wait that does not wait: rejects at once with a pending cancellation
 * (kill, raise, an expired enclosing scope, an aborted `signal`), else
 * resolves. What `sleep(0)` does.
 */
export function checkpoint(signal?: AbortSignal): Promise<void> {
  const store = currentStore();
  const scope = store instanceof CancelScope ? store : undefined;
  const tasklet = scope === undefined
    ? store as Tasklet<unknown>
    : scope.tasklet;
  const pending = tasklet._takePendingError() ?? cancelledError(scope);
  if (pending !== undefined) return Promise.reject(pending);
  if (signal?.aborted) return Promise.reject(signal.reason);
  return Promise.resolve();
}

function wait<T>(
  park: ((waiter: Waiter<T>) => void) | undefined,
  signal: AbortSignal | undefined,
  ms: number | null | undefined,
  wakeable: boolean,
): Promise<T> {
  const store = currentStore();
  const inScope = store instanceof CancelScope;
  const tasklet = inScope ? store.tasklet : store;
  const scope = inScope ? store : undefined;
  if (checkpointHook !== undefined) checkpointHook(tasklet);
  const pending = tasklet._takePendingError() ?? cancelledError(scope);
  if (pending !== undefined) return Promise.reject(pending);
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms === 0 && !wakeable) return Promise.reject(new WouldBlockError());
  const promise = new Promise<unknown>(captureSettlers) as Promise<T>;
  const waiter = new Waiter<T>(
    capturedResolve as (value: T) => void,
    capturedReject,
    tasklet,
    scope,
  );
  waiter.wakeable = wakeable;
  tasklet._addWaiter(waiter);
  if (signal !== undefined) waiter.listen(signal);
  if (typeof ms === "number" && ms !== Infinity) addTimer(waiter, ms);
  if (park !== undefined) {
    try {
      park(waiter);
    } catch (error) {
      waiter.fail(error);
      return promise;
    }
  }
  // The tasklet is parked: the run queue may resume the next one.
  nowParked(tasklet);
  return promise;
}

// One shared promise executor instead of a closure per wait (the hot path of
// every channel hand-off): it leaves the settle functions here.
let capturedResolve: (value: unknown) => void;
let capturedReject: (error: unknown) => void;
function captureSettlers(
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
