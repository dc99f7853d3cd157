import { abortOperationsOf, cancelSignalOf } from "../coio/_cancel_signal.ts";
import { suspend } from "../coio/_waiter.ts";
import type { CancelScope } from "../coio/_scope.ts";
import { currentStore, type Tasklet } from "../coio/tasklet.ts";

/**
 * Runs a foreign abortable operation as a coio wait of the current tasklet,
 * or returns `undefined` in the main tasklet outside any scope, where the
 * caller should call the original directly (nothing can cancel it there).
 *
 * `start` gets a signal that aborts when the tasklet is killed or an
 * enclosing timeout scope expires (also later, while a response body is
 * read), or when `userSignal` aborts. The returned promise settles like any
 * coio wait: with the operation's result, with the coio error that cancelled
 * it (`TaskletExit`, `TimeoutError`, an error given to `tasklet.raise()`,
 * which also aborts the operations in flight in the same tasklet or scope),
 * or with the operation's own error (the user signal's reason, say). A result
 * that arrives after the wait was cancelled goes to `onLate` so that it can be
 * closed instead of leaking.
 */
export function runAbortable<T>(
  start: (signal: AbortSignal) => Promise<T>,
  userSignal: AbortSignal | null | undefined,
  onLate?: (value: T) => void,
): Promise<T> | undefined {
  const store = currentStore();
  const cancel = cancelSignalOf(store);
  if (cancel === undefined) return undefined;
  return runAbortableIn(store, cancel, start, userSignal, onLate);
}

/**
 * {@linkcode runAbortable} for a caller that has already looked up the store
 * and its cancel signal (`cancelSignalOf(store)`, not `undefined`).
 */
export function runAbortableIn<T>(
  store: Tasklet<unknown> | CancelScope,
  cancel: AbortSignal,
  start: (signal: AbortSignal) => Promise<T>,
  userSignal: AbortSignal | null | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  return suspend<T>((waiter) => {
    // Kill and timeouts abort `cancel` before they cancel the wait; a wait
    // cancelled while it is not aborted was hit by a raise().
    waiter.onCancel = () => {
      if (!cancel.aborted) abortOperationsOf(store);
    };
    let promise: Promise<T>;
    try {
      promise = start(
        userSignal ? AbortSignal.any([cancel, userSignal]) : cancel,
      );
    } catch (error) {
      waiter.fail(error);
      return;
    }
    promise.then(
      (value) => {
        if (!waiter.resume(value)) onLate?.(value);
      },
      (error) => waiter.fail(error),
    );
  });
}
