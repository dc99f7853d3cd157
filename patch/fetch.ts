import { currentCancelSignal } from "../coio/_cancel_signal.ts";
import { runAbortableIn } from "./_abortable.ts";

let original: typeof fetch | undefined;
let patched: typeof fetch | undefined;

/**
 * Makes the global `fetch` obey the calling tasklet: inside a tasklet or a
 * timeout scope, a request (and the reading of its response body) is aborted
 * when the tasklet is killed or raised into, or when an enclosing
 * {@linkcode withTimeout} scope expires, and `fetch` then rejects with the
 * coio error (`TaskletExit`, `TimeoutError`, the raised error) rather than a
 * generic `AbortError`. A `signal` given by the caller still works and is
 * combined with the tasklet's. In the main tasklet outside any scope the
 * original `fetch` is called directly. Calling it again does nothing;
 * {@linkcode unpatchFetch} restores the original.
 *
 * @example Put a deadline on a request made by code you did not write
 * ```ts
 * import { TimeoutError, withTimeout } from "@syncless/syncless/coio";
 * import { patchFetch, unpatchFetch } from "@syncless/syncless/patch";
 *
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} },
 *   () => new Promise<Response>((r) => setTimeout(() => r(new Response("late")), 300)));
 * patchFetch();
 * try {
 *   await withTimeout(20, () => fetch(`http://127.0.0.1:${server.addr.port}/`));
 * } catch (error) {
 *   console.log(error instanceof TimeoutError); // true
 * } finally {
 *   unpatchFetch();
 *   await server.shutdown();
 * }
 * ```
 */
export function patchFetch(): void {
  if (original !== undefined) return;
  const originalFetch = globalThis.fetch;
  original = originalFetch;
  patched = function fetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    // Undefined in the main tasklet outside any scope: the original, as is.
    const cancel = currentCancelSignal();
    if (cancel === undefined) return originalFetch(input, init);
    // An explicit init.signal replaces the Request's own, as in fetch itself.
    const userSignal = init?.signal !== undefined
      ? init.signal
      : typeof input === "string"
      ? undefined
      : input instanceof Request
      ? input.signal
      : undefined;
    return runAbortableIn(
      cancel,
      (signal) =>
        originalFetch(
          input,
          init === undefined ? { signal } : { ...init, signal },
        ),
      userSignal,
      cancelBody,
    );
  };
  globalThis.fetch = patched;
}

/** A response that came after its wait was cancelled: let its body go. */
function cancelBody(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/**
 * Restores the `fetch` that {@linkcode patchFetch} replaced; a no-op when it is
 * not patched. If other code has since replaced `fetch` itself, its
 * replacement is left in place.
 *
 * @example
 * ```ts
 * import { patchFetch, unpatchFetch } from "@syncless/syncless/patch";
 *
 * const before = globalThis.fetch;
 * patchFetch();
 * unpatchFetch();
 * console.log(globalThis.fetch === before); // true
 * ```
 */
export function unpatchFetch(): void {
  if (original === undefined) return;
  if (globalThis.fetch === patched) globalThis.fetch = original;
  original = patched = undefined;
}
