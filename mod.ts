/**
 * Syncless for Deno: write network servers and clients as plain sequential
 * code in lightweight tasklets, with channels, timeouts and cancellation that
 * reach every wait, buffered non-blocking sockets, an async DNS resolver and a
 * fast HTTP/1.1 server.
 *
 * ```ts
 * import { sleep, spawn } from "@syncless/syncless";
 *
 * const ticker = spawn(async () => {
 *   for (let i = 0; i < 3; i++) await sleep(10);
 *   return "ticked";
 * });
 * console.log(await ticker.join()); // "ticked"
 * ```
 *
 * @module
 */
export * from "./coio/mod.ts";
export * from "./wsgi/mod.ts";
export * from "./patch/mod.ts";
export * from "./console/mod.ts";
