import { socketPatches, syncSocketWrapper } from "./_node_socket.ts";

/**
 * Ties `node:net` and `node:tls` sockets to the tasklet that connects them:
 * a socket whose `connect()` (through `net.connect`, `net.createConnection`,
 * `tls.connect` or `new net.Socket().connect`) ran inside a tasklet or a
 * timeout scope is destroyed when that tasklet is killed or that scope
 * expires. If the socket has an `'error'` listener (database drivers do), it
 * gets the coio error (`TaskletExit`, `TimeoutError`), which such a client
 * usually passes on to the pending query, so the tasklet sees that error;
 * without a listener the socket is destroyed quietly. The tie is removed when
 * the socket closes. Sockets connected in the main tasklet outside any scope
 * are left alone, and so is a socket created elsewhere and only used inside a
 * tasklet (a pooled connection, for example). Calling it again does nothing;
 * {@linkcode unpatchNodeNet} undoes it.
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
 * Undoes {@linkcode patchNodeNet}: sockets connected from now on are no longer
 * tied to their tasklet (those already tied stay so until they close). A
 * no-op when not patched.
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
