/**
 * The HTTP/1.1 server: our own engine on coio sockets, for WSGI-style apps
 * `(environ, startResponse) => body` and fetch-style apps `{ fetch }`, with
 * keep-alive, pipelining, chunked bodies, timeouts, TLS, Unix sockets,
 * graceful shutdown and several workers; `toFetchHandler` runs a WSGI-style
 * app on `Deno.serve` instead.
 *
 * ```ts
 * import { serve } from "@syncless/syncless/wsgi";
 *
 * const server = serve((_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return "Hello, World!";
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./serve.ts";
export * from "./http_server.ts";
export * from "./environ.ts";
export * from "./errors.ts";
export * from "./to_fetch_handler.ts";
export * from "./upgrade_websocket.ts";
export * from "./websocket_connection.ts";
export * from "./connect_websocket.ts";
