import { AsyncLocalStorage } from "node:async_hooks";

// The running tasklet (or cancel scope) rides on the async context, the
// value V8 carries across every `await` and promise callback, so that it
// stays right across nested awaits.
//
// `AsyncLocalStorage.run` would do, but in this Deno each call allocates an
// entry, a copy of the context and a WeakMap entry that lives as long as the
// tasklet waits: with 100k sleeping tasklets the WeakMap alone makes every
// major GC slow. Deno's core exposes the context itself, an object that maps
// each AsyncLocalStorage to its entry; we add our store under a symbol key to
// a copy of it, which keeps every AsyncLocalStorage of other code intact. If
// that API is missing or behaves differently (checked once below), we fall
// back to a plain AsyncLocalStorage.

interface AsyncContextApi {
  getAsyncContext(): unknown;
  setAsyncContext(context: unknown): void;
}

const KEY = Symbol("syncless.currentStore");

/**
 * The key under which a context holds the current store. A store that holds
 * itself under this key (a tasklet does) serves as its own context when no
 * other AsyncLocalStorage value is around: no allocation per start.
 */
export const CONTEXT_KEY: typeof KEY = KEY;

type Context = { [KEY]?: unknown } | undefined | null;

function findCore(): AsyncContextApi | undefined {
  try {
    const deno = (globalThis as { Deno?: Record<PropertyKey, unknown> }).Deno;
    const internal = deno?.[deno?.internal as PropertyKey] as
      | { core?: Partial<AsyncContextApi> }
      | undefined;
    const core = internal?.core;
    if (
      typeof core?.getAsyncContext === "function" &&
      typeof core.setAsyncContext === "function"
    ) {
      return core as AsyncContextApi;
    }
  } catch {
    // Not Deno, or a Deno without it: use the fallback.
  }
  return undefined;
}

let core = findCore();
const fallback = new AsyncLocalStorage<unknown>();

/** The store set by the innermost enclosing {@linkcode runWithStore}. */
export function getStore(): unknown {
  if (core === undefined) return fallback.getStore();
  const context = core.getAsyncContext() as Context;
  return context?.[KEY];
}

// The context we set when no other AsyncLocalStorage value is around: a
// small ordinary object, cheaper than the null-prototype copy Deno makes.
class StoreContext {
  [KEY]: unknown;
  constructor(store: unknown) {
    this[KEY] = store;
  }
}

/**
 * Calls `fn(arg)` with `store` as the current store, for the call and every
 * continuation it schedules.
 */
export function runWithStore<A, R>(
  store: unknown,
  fn: (arg: A) => R,
  arg: A,
): R {
  if (core === undefined) return fallback.run(store, fn, arg);
  const previous = core.getAsyncContext() as Context;
  let context: unknown;
  if (
    previous === undefined || previous === null ||
    previous instanceof StoreContext || previous[KEY] === previous
  ) {
    // Nothing but a store of ours around: no other entries to keep.
    context = (store as Context)?.[KEY] === store
      ? store
      : new StoreContext(store);
  } else {
    context = { __proto__: null, ...previous, [KEY]: store };
  }
  core.setAsyncContext(context);
  try {
    return fn(arg);
  } finally {
    core.setAsyncContext(previous);
  }
}

// Check once that the fast path keeps other AsyncLocalStorage values and
// restores the context after the call; otherwise use the fallback. (Across
// awaits the context is carried by V8 itself, as for AsyncLocalStorage.)
function selfTest(): boolean {
  if (core === undefined) return false;
  const probe = new AsyncLocalStorage<string>();
  const outer = {};
  const inner = {};
  let ok = true;
  try {
    runWithStore(outer, () => {
      ok &&= getStore() === outer;
      // Other code's storage inside ours, ours inside theirs, and nesting.
      probe.run("probe", () => {
        ok &&= getStore() === outer && probe.getStore() === "probe";
        runWithStore(inner, () => {
          ok &&= getStore() === inner && probe.getStore() === "probe";
        }, undefined);
        ok &&= getStore() === outer && probe.getStore() === "probe";
      });
      ok &&= getStore() === outer && probe.getStore() === undefined;
    }, undefined);
    ok &&= getStore() === undefined;
  } catch {
    ok = false;
  }
  return ok;
}

if (!selfTest()) core = undefined;
