import { patchDeno, unpatchDeno } from "./deno.ts";
import { patchFetch, unpatchFetch } from "./fetch.ts";
import { patchNodeDns, unpatchNodeDns } from "./node_dns.ts";
import { patchNodeNet, unpatchNodeNet } from "./node_net.ts";

/**
 * Applies every patch that makes foreign APIs obey tasklets:
 * {@linkcode patchFetch}, {@linkcode patchDeno}, {@linkcode patchNodeNet} and
 * {@linkcode patchNodeDns}. The diagnostics {@linkcode detectBlocking} and
 * {@linkcode forbidSync} are separate. Idempotent; {@linkcode unpatchAll}
 * undoes it.
 *
 * @example Patch once at start-up
 * ```ts
 * import { TimeoutError, withTimeout } from "@syncless/syncless/coio";
 * import { patchAll, unpatchAll } from "@syncless/syncless/patch";
 *
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} },
 *   () => new Promise<Response>((r) => setTimeout(() => r(new Response("late")), 300)));
 * patchAll(); // fetch, Deno.connect, node:net clients now obey timeouts and kills
 * try {
 *   await withTimeout(20, () => fetch(`http://127.0.0.1:${server.addr.port}/`));
 * } catch (error) {
 *   console.log(error instanceof TimeoutError); // true
 * } finally {
 *   unpatchAll();
 *   await server.shutdown();
 * }
 * ```
 */
export function patchAll(): void {
  patchFetch();
  patchDeno();
  patchNodeNet();
  patchNodeDns();
}

/**
 * Undoes {@linkcode patchAll}: every patched function is the original again.
 * A no-op for what is not patched.
 *
 * @example
 * ```ts
 * import { patchAll, unpatchAll } from "@syncless/syncless/patch";
 *
 * const before = globalThis.fetch;
 * patchAll();
 * unpatchAll();
 * console.log(globalThis.fetch === before); // true
 * ```
 */
export function unpatchAll(): void {
  unpatchNodeDns();
  unpatchNodeNet();
  unpatchDeno();
  unpatchFetch();
}
