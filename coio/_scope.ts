import type { Tasklet } from "./tasklet.ts";

/**
 * A region of one tasklet's code whose waits can all be cancelled together
 * (the base of timeout scopes). Scopes nest through `parent`; once a scope has
 * expired, every wait inside it, however deeply nested, fails with its error.
 */
export class CancelScope {
  /** Set when the scope is cancelled; every wait inside then fails with it. */
  cancelledWith: Error | undefined = undefined;

  constructor(
    readonly tasklet: Tasklet<unknown>,
    readonly parent: CancelScope | undefined,
  ) {}

  #controller: AbortController | undefined = undefined;

  /** Aborted, with `cancelledWith` as the reason, once the scope is cancelled. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.cancelledWith !== undefined && !this.#controller.signal.aborted) {
      this.#controller.abort(this.cancelledWith);
    }
    return this.#controller.signal;
  }

  /** @internal Marks the scope cancelled with `error` and aborts its `signal`. */
  _markCancelled(error: Error): void {
    this.cancelledWith = error;
    this.#controller?.abort(error);
  }

  /** True when `this` is `scope` or encloses it. */
  encloses(scope: CancelScope | undefined): boolean {
    for (let s = scope; s !== undefined; s = s.parent) {
      if (s === this) return true;
    }
    return false;
  }
}

/** The error of the outermost cancelled scope around `scope`, if any. */
export function cancelledError(
  scope: CancelScope | undefined,
): Error | undefined {
  let error: Error | undefined;
  for (let s = scope; s !== undefined; s = s.parent) {
    if (s.cancelledWith !== undefined) error = s.cancelledWith;
  }
  return error;
}
