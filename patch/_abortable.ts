import { suspend } from "../coio/_waiter.ts";

/**
 * Runs a foreign abortable operation as a coio wait of the current tasklet.
 *
 * `start` gets a signal that aborts when `cancel` (the tasklet's kill or an
 * enclosing timeout scope) or `userSignal` aborts, or when the wait itself is
 * cancelled (which also covers `tasklet.raise()`). The returned promise settles
 * like any coio wait: with the operation's result, or with the coio error that
 * cancelled it (`TaskletExit`, `TimeoutError`, the raised error), or with the
 * operation's own error (the user signal's reason, for instance). A result
 * that arrives after the wait was cancelled goes to `onLate` so that it can be
 * closed instead of leaking.
 */
export function runAbortable<T>(
  start: (signal: AbortSignal) => Promise<T>,
  cancel: AbortSignal,
  userSignal: AbortSignal | null | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  return suspend<T>((waiter) => {
    const controller = new AbortController();
    const signal = userSignal
      ? AbortSignal.any([cancel, controller.signal, userSignal])
      : AbortSignal.any([cancel, controller.signal]);
    waiter.onCancel = () => controller.abort();
    let promise: Promise<T>;
    try {
      promise = start(signal);
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
