import { cancelledError, CancelScope } from "./_scope.ts";
import { currentStore, type Tasklet } from "./tasklet.ts";

type Store = Tasklet<unknown> | CancelScope;

// The signal handed to foreign operations started in one tasklet or scope.
// `controller` lets a raise() abort them (a raise is no cancellation of the
// whole tasklet, so it has no signal of its own); a fresh generation then
// serves later calls. AbortSignal.any costs microseconds, so it is paid once
// per tasklet or scope, never per call; WeakMap lets stores go.
interface Generation {
  signal: AbortSignal;
  controller: AbortController;
}

const generations = new WeakMap<Store, Generation>();

/**
 * The signal that aborts when the code running now is cancelled: when its
 * tasklet is killed (reason `TaskletExit`), when an enclosing timeout scope
 * expires (reason that scope's `TimeoutError`), or when
 * {@linkcode abortOperationsOf} is called for it. `undefined` in the main
 * tasklet outside any scope, where nothing can cancel the code (the fast path
 * of the patched APIs). The same signal serves every call made in one
 * tasklet or scope.
 */
export function currentCancelSignal(): AbortSignal | undefined {
  return cancelSignalOf(currentStore());
}

/** The cancel signal of a given tasklet or scope (see `currentCancelSignal`). */
export function cancelSignalOf(store: Store): AbortSignal | undefined {
  if (!(store instanceof CancelScope) && store.id === 0) return undefined;
  let generation = generations.get(store);
  if (
    generation === undefined ||
    (generation.signal.aborted && cancelReason(store) === undefined)
  ) {
    generation = newGeneration(store);
    generations.set(store, generation);
  }
  return generation.signal;
}

/**
 * Aborts the foreign operations in flight under `store`'s cancel signal (a
 * `tasklet.raise()` hit one of them); calls made afterwards get a fresh one.
 */
export function abortOperationsOf(store: Store): void {
  generations.get(store)?.controller.abort();
}

function newGeneration(store: Store): Generation {
  const controller = new AbortController();
  const sources = [controller.signal, store.signal];
  if (store instanceof CancelScope) {
    const outer = cancelSignalOf(store.parent ?? store.tasklet);
    if (outer !== undefined) sources.push(outer);
  }
  return { signal: AbortSignal.any(sources), controller };
}

/** Why `store` is cancelled (its tasklet killed, a scope expired), if it is. */
function cancelReason(store: Store): unknown {
  const tasklet = store instanceof CancelScope ? store.tasklet : store;
  if (tasklet.signal.aborted) return tasklet.signal.reason;
  return store instanceof CancelScope ? cancelledError(store) : undefined;
}

/** True when code runs in the main tasklet outside any scope. */
export function inMainContext(): boolean {
  const store = currentStore();
  return !(store instanceof CancelScope) && store.id === 0;
}
