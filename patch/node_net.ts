import { socketPatches, syncSocketWrapper } from "./_node_socket.ts";

/**
 * Ties `node:net` and `node:tls` sockets to the tasklet that uses them: a
 * socket is destroyed when the tasklet that last connected it or wrote to it
 * is killed, or when a timeout scope that enclosed that connect or write
 * expires. So `withTimeout(200, () => client.query(...))` really aborts a
 * database query even on a connection opened earlier elsewhere (a pooled
 * one): the query's write ties the socket to the scope. If the socket has an
 * `'error'` listener (client libraries have one), it gets the coio error
 * (`TaskletExit`, `TimeoutError`), which such a client usually hands to the
 * pending request, so the tasklet sees that error; without a listener the
 * socket is destroyed quietly. A connect or write from the main tasklet
 * outside any scope unties the socket, and a closed socket lets go of its tie.
 * Calling it again does nothing; {@linkcode unpatchNodeNet} undoes it.
 *
 * @example Abort a slow exchange made by a `node:net` client
 * ```ts
 * import net from "node:net";
 * import { TimeoutError, withTimeout } from "@syncless/syncless/coio";
 * import { patchNodeNet, unpatchNodeNet } from "@syncless/syncless/patch";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * patchNodeNet();
 * try {
 *   await withTimeout(50, () =>
 *     new Promise((resolve, reject) => {
 *       const socket = net.connect(listener.addr.port, "127.0.0.1");
 *       socket.on("error", reject); // gets the TimeoutError after 50 ms
 *       socket.on("data", resolve); // the listener never answers
 *     }));
 * } catch (error) {
 *   console.log(error instanceof TimeoutError); // true
 * } finally {
 *   unpatchNodeNet();
 *   listener.close();
 * }
 * ```
 */
export function patchNodeNet(): void {
  socketPatches.cancel = true;
  syncSocketWrapper();
}

/**
 * Undoes {@linkcode patchNodeNet}: `net.Socket.prototype` gets its own
 * `connect` and `write` back, and sockets are no longer tied to tasklets from
 * now on (a socket already tied stays so until it closes or is used again
 * with the patch on). A no-op when not patched.
 *
 * @example
 * ```ts
 * import net from "node:net";
 * import { patchNodeNet, unpatchNodeNet } from "@syncless/syncless/patch";
 *
 * const before = net.Socket.prototype.connect;
 * patchNodeNet();
 * unpatchNodeNet();
 * console.log(net.Socket.prototype.connect === before); // true
 * ```
 */
export function unpatchNodeNet(): void {
  socketPatches.cancel = false;
  syncSocketWrapper();
}
