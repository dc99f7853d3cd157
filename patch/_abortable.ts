import { abortOperationsOf, cancelSignalOf } from "../coio/_cancel_signal.ts";
import { suspend, type Waiter } from "../coio/_waiter.ts";
import { currentStore } from "../coio/tasklet.ts";

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
  return runAbortableIn(cancel, start, userSignal, onLate);
}

// A shared function rather than a closure per call: a closure kept on the
// waiter while the operation is in flight cost about 1.5 µs per fetch.
function abortOnRaise(this: Waiter<unknown>): void {
  // Kill and timeouts abort the cancel signal before they cancel the wait; a
  // wait cancelled while it is not aborted was hit by a raise().
  if (!(this.value as AbortSignal).aborted) {
    abortOperationsOf(this.scope ?? this.tasklet);
  }
}

/**
 * {@linkcode runAbortable} for a caller that has already looked up the cancel
 * signal of the code running now (`currentCancelSignal()`, not `undefined`).
 */
export function runAbortableIn<T>(
  cancel: AbortSignal,
  start: (signal: AbortSignal) => Promise<T>,
  userSignal: AbortSignal | null | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  return suspend<T>((waiter) => {
    waiter.value = cancel;
    waiter.onCancel = abortOnRaise;
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
