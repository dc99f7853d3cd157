import { cancelledError, CancelScope } from "./_scope.ts";
import { currentStore, type Tasklet } from "./tasklet.ts";

type Store = Tasklet<unknown> | CancelScope;

// Each tasklet and scope that starts foreign operations gets one plain
// controller, aborted by its own cancellation (kill, expiry; through a
// listener on the store's signal, which lives as long as the store) or
// directly by abortOperationsOf (a raise() is no cancellation of the whole
// tasklet, so it has no signal of its own); a fresh generation then serves
// later calls.
//
// What foreign operations get: in a tasklet, that plain signal; in a scope,
// AbortSignal.any of the plain signals of the tasklet and of each enclosing
// scope, made once per scope. Deno makes every `Request` given a signal
// follow that signal's plain sources, each with a WeakRef, a finalization
// registration and GC work on every request, so few sources are what make a
// fetch cheap: 1 in a tasklet, 2 in a scope, one more per enclosing scope
// (it was 2 and 4 with AbortSignal.any over raise controllers and store
// signals). The request
// follows the tasklet's plain signal directly, which its listener on the
// tasklet's signal keeps alive: a kill reaches a body read after its scope
// has ended. This module adds no listener to a combined signal: Deno keeps
// one with listeners alive from its sources, which would add one per scope.
class Generation {
  /** What foreign operations get (see above); set by `newGeneration`. */
  signal: AbortSignal;
  /** This store's own plain controller. */
  readonly own = new AbortController();

  constructor(readonly storeSignal: AbortSignal) {
    this.signal = this.own.signal;
  }

  /**
   * The listener on the store's signal (removed on renewal): an object, not
   * a closure, and no options, which makes Deno's addEventListener cheaper.
   */
  handleEvent(): void {
    this.own.abort(this.storeSignal.reason);
  }
}

const generations = new WeakMap<Store, Generation>();

/**
 * The signal that aborts when the code running now is cancelled: when its
 * tasklet is killed (reason `TaskletExit`), when an enclosing timeout scope
 * expires (reason that scope's `TimeoutError`), or when
 * {@linkcode abortOperationsOf} is called for it or for an enclosing scope or
 * its tasklet. `undefined` in the main tasklet outside any scope, where
 * nothing can cancel the code (the fast path of the patched APIs). The same
 * signal serves every call made in one tasklet or scope.
 */
export function currentCancelSignal(): AbortSignal | undefined {
  return cancelSignalOf(currentStore());
}

/** The cancel signal of a given tasklet or scope (see `currentCancelSignal`). */
export function cancelSignalOf(store: Store): AbortSignal | undefined {
  if (!(store instanceof CancelScope) && store.id === 0) return undefined;
  return generationOf(store).signal;
}

/**
 * Aborts the foreign operations in flight under `store`'s cancel signal (a
 * `tasklet.raise()` hit one of them); calls made afterwards get a fresh one.
 */
export function abortOperationsOf(store: Store): void {
  generations.get(store)?.own.abort();
}

function generationOf(store: Store): Generation {
  let generation = generations.get(store);
  if (
    generation === undefined ||
    (generation.signal.aborted && cancelReason(store) === undefined)
  ) {
    generation?.storeSignal.removeEventListener("abort", generation);
    generation = newGeneration(store);
    generations.set(store, generation);
  }
  return generation;
}

function newGeneration(store: Store): Generation {
  const storeSignal = store.signal;
  const generation = new Generation(storeSignal);
  if (storeSignal.aborted) generation.handleEvent();
  else storeSignal.addEventListener("abort", generation);
  if (store instanceof CancelScope) {
    const sources = [generation.signal];
    for (let s = store.parent; s !== undefined; s = s.parent) {
      sources.push(generationOf(s).own.signal);
    }
    const tasklet = store.tasklet;
    // Scopes of the main tasklet: it cannot be killed, nothing to follow.
    if (tasklet.id !== 0) sources.push(generationOf(tasklet).own.signal);
    if (sources.length > 1) generation.signal = AbortSignal.any(sources);
  }
  return generation;
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
