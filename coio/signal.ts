import { spawn } from "./spawn.ts";

/** A signal handler: called, in a new tasklet, with the name of the signal. */
export type SignalHandlerFunction = (name: Deno.Signal) => unknown;

// Every live handler, by signal. Each signal with handlers has exactly one
// Deno listener, which Deno does not count as keeping the process alive.
const handlersBySignal = new Map<Deno.Signal, Set<SignalHandler>>();
const listeners = new Map<Deno.Signal, () => void>();
// The handlers installed by signal(), one per signal at most.
const persistent = new Map<Deno.Signal, SignalHandler>();

function checkHandler(fn: unknown): asserts fn is SignalHandlerFunction {
  if (typeof fn !== "function") {
    throw new TypeError(
      `signal handler not callable: got ${fn === null ? "null" : typeof fn}`,
    );
  }
}

function addHandler(name: Deno.Signal, handler: SignalHandler): void {
  let handlers = handlersBySignal.get(name);
  if (handlers === undefined) {
    if (typeof name !== "string") {
      throw new TypeError(
        `signal name must be a string such as "SIGUSR2", got ${
          name === null ? "null" : typeof name
        }`,
      );
    }
    const listener = () => dispatch(name);
    try {
      Deno.addSignalListener(name, listener);
    } catch (error) {
      throw new TypeError(
        `Cannot handle signal ${JSON.stringify(name)}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
    handlers = new Set();
    handlersBySignal.set(name, handlers);
    listeners.set(name, listener);
  }
  handlers.add(handler);
}

function removeHandler(name: Deno.Signal, handler: SignalHandler): void {
  const handlers = handlersBySignal.get(name);
  if (handlers === undefined || !handlers.delete(handler)) return;
  if (handlers.size > 0) return;
  // The last handler is gone: Deno restores the signal's default action.
  handlersBySignal.delete(name);
  Deno.removeSignalListener(name, listeners.get(name)!);
  listeners.delete(name);
}

function dispatch(name: Deno.Signal): void {
  const handlers = handlersBySignal.get(name);
  if (handlers === undefined) return;
  for (const handler of handlers) {
    spawn(
      {
        name: `signal ${name}`,
        onError: (error) =>
          console.error(`signal handler for ${name} failed:`, error),
      },
      runHandler,
      handler,
    );
  }
}

function runHandler(handler: SignalHandler): unknown {
  // A handler deleted after the signal arrived but before its tasklet ran
  // is not called any more.
  if (!handler.active) return undefined;
  return handler.handler(handler.name);
}

/**
 * A handler for an operating-system signal. Several handlers may be
 * registered for the same signal: each runs, in its own tasklet, every time
 * the signal arrives, and gets the signal's name. An error thrown by a
 * handler is printed with `console.error` and otherwise ignored. Handlers
 * never keep the process alive on their own (as Syncless's were): a program
 * that only waits for a signal ends, so give such a wait a timeout, or keep
 * other work (a server, a sleeping tasklet) going. When the last handler of
 * a signal is deleted, the signal gets its default action back (for example,
 * `SIGINT` ends the process again).
 *
 * @example Handle `SIGUSR2` until disposed
 * ```ts
 * import { Event, SignalHandler } from "@syncless/syncless/coio";
 *
 * const arrived = new Event();
 * using _handler = new SignalHandler("SIGUSR2", (name) => {
 *   console.log(`got ${name}`);
 *   arrived.set();
 * });
 * Deno.kill(Deno.pid, "SIGUSR2");
 * // The timeout's timer keeps the process alive until the signal arrives.
 * await arrived.wait({ timeout: 5_000 });
 * ```
 */
export class SignalHandler implements Disposable {
  /** The signal this handler listens to. */
  readonly name: Deno.Signal;
  #handler: SignalHandlerFunction;
  #active = true;

  /**
   * Registers `handler` for the signal `name`.
   *
   * @param name A signal name such as `"SIGUSR2"` or `"SIGINT"`.
   * @param handler Called with `name`, in a new tasklet, at each signal.
   * @throws {TypeError} when `name` is not a signal Deno can listen to
   *   (unknown, or one such as `"SIGKILL"` that cannot be caught), or when
   *   `handler` is not a function.
   */
  constructor(name: Deno.Signal, handler: SignalHandlerFunction) {
    checkHandler(handler);
    this.name = name;
    this.#handler = handler;
    addHandler(name, this);
  }

  /** The function called at each signal; may be replaced while registered. */
  get handler(): SignalHandlerFunction {
    return this.#handler;
  }

  set handler(handler: SignalHandlerFunction) {
    checkHandler(handler);
    this.#handler = handler;
  }

  /** True until `delete()`. */
  get active(): boolean {
    return this.#active;
  }

  /** Unregisters the handler; calling it again does nothing. */
  delete(): void {
    if (!this.#active) return;
    this.#active = false;
    removeHandler(this.name, this);
    if (persistent.get(this.name) === this) persistent.delete(this.name);
  }

  /** Same as {@linkcode SignalHandler.prototype.delete}. */
  [Symbol.dispose](): void {
    this.delete();
  }
}

/**
 * Sets the one persistent handler of the signal `name`, as Syncless's
 * `coio.signal` did: a later call replaces the function in place and returns
 * the same {@linkcode SignalHandler}; `handler === null` removes it and
 * returns `null`. It coexists with handlers made with `new SignalHandler`.
 *
 * @example Replace, then remove, the handler of `SIGUSR2`
 * ```ts
 * import { signal } from "@syncless/syncless/coio";
 *
 * const first = signal("SIGUSR2", () => console.log("first"));
 * const second = signal("SIGUSR2", () => console.log("second"));
 * console.log(first === second); // true
 * console.log(signal("SIGUSR2", null)); // null
 * ```
 * @throws {TypeError} when `name` is not a signal Deno can listen to, or
 *   when `handler` is neither a function nor `null`.
 */
export function signal(
  name: Deno.Signal,
  handler: SignalHandlerFunction,
): SignalHandler;
/** Removes the persistent handler of the signal `name`; returns `null`. */
export function signal(name: Deno.Signal, handler: null): null;
/** Sets (a function) or removes (`null`) the persistent handler of `name`. */
export function signal(
  name: Deno.Signal,
  handler: SignalHandlerFunction | null,
): SignalHandler | null;
export function signal(
  name: Deno.Signal,
  handler: SignalHandlerFunction | null,
): SignalHandler | null {
  if (handler === null) {
    const existing = persistent.get(name);
    if (existing === undefined) {
      // Still reject names that could never have had a handler.
      new SignalHandler(name, () => {}).delete();
      return null;
    }
    existing.delete();
    return null;
  }
  checkHandler(handler);
  const existing = persistent.get(name);
  if (existing !== undefined) {
    existing.handler = handler;
    return existing;
  }
  const created = new SignalHandler(name, handler);
  persistent.set(name, created);
  return created;
}
