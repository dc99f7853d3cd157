import { CancelScope } from "./_scope.ts";
import { currentStore, type Tasklet } from "./tasklet.ts";

// One combined signal per scope, built on first use and shared by every call
// made inside it; scopes are short-lived, so a WeakMap lets them go.
const combined = new WeakMap<CancelScope, AbortSignal>();

/**
 * The signal that aborts when the code running now is cancelled: when its
 * tasklet is killed (reason `TaskletExit`) or when an enclosing timeout scope
 * expires (reason that scope's `TimeoutError`). `undefined` in the main
 * tasklet outside any scope, where nothing can cancel the code (the fast path
 * of the patched APIs). `tasklet.raise()` is not covered: it is delivered to a
 * coio wait, so callers that need it also park in one.
 */
export function currentCancelSignal(): AbortSignal | undefined {
  return cancelSignalOf(currentStore());
}

/** The cancel signal of a given tasklet or scope (see `currentCancelSignal`). */
export function cancelSignalOf(
  store: Tasklet<unknown> | CancelScope,
): AbortSignal | undefined {
  if (!(store instanceof CancelScope)) {
    return store.id === 0 ? undefined : store.signal;
  }
  let signal = combined.get(store);
  if (signal === undefined) {
    const outer = cancelSignalOf(store.parent ?? store.tasklet);
    signal = outer === undefined
      ? store.signal
      : AbortSignal.any([outer, store.signal]);
    combined.set(store, signal);
  }
  return signal;
}

/** True when code runs in the main tasklet outside any scope. */
export function inMainContext(): boolean {
  const store = currentStore();
  return !(store instanceof CancelScope) && store.id === 0;
}
