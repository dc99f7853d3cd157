import type { NbSocket } from "../coio/mod.ts";
import { negotiateDeflate } from "./_ws_deflate.ts";
import {
  acceptKey,
  hasToken,
  isSafeHeaderValue,
  isToken,
  isValidKey,
  splitTokens,
} from "./_ws_handshake.ts";
import { resolveOptions } from "./_ws_options.ts";
import type { Environ } from "./environ.ts";
import { HttpError } from "./errors.ts";
import {
  WebSocketConnection,
  type WebSocketConnectionOptions,
} from "./websocket_connection.ts";

/**
 * The environ key under which the server offers the connection to an app
 * that switches protocols: calling the function found there hands the
 * socket (with any bytes already read past the request head in its read
 * buffer) over to the app; the server then neither writes a response nor
 * reads or closes the connection any more.
 *
 * @example Check whether the server can switch protocols
 * ```ts
 * import { type Environ, TAKEOVER_KEY } from "@syncless/syncless/wsgi";
 *
 * function canUpgrade(environ: Environ): boolean {
 *   return typeof environ[TAKEOVER_KEY] === "function";
 * }
 * console.log(canUpgrade({} as Environ)); // false
 * ```
 */
export const TAKEOVER_KEY = "syncless.takeover";

/**
 * The environ key under which the server offers an `AbortSignal` that
 * aborts when its shutdown starts (`shutdown()` or the `signal` option of
 * `serve()`): what outlives a request, such as a WebSocket, can end itself
 * by it. {@linkcode upgradeWebSocket} closes its connections with 1001
 * ("going away") then.
 *
 * @example Stop a long push when the server shuts down
 * ```ts
 * import { type Environ, serve, SHUTDOWN_KEY } from "@syncless/syncless/wsgi";
 *
 * const server = serve((environ: Environ, startResponse) => {
 *   const stopping = environ[SHUTDOWN_KEY] as AbortSignal;
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return stopping.aborted ? "bye" : "hello";
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 */
export const SHUTDOWN_KEY = "syncless.shutdown";

/** The function found at {@linkcode TAKEOVER_KEY} in an environ. */
export type ConnectionTakeover = () => NbSocket;

/** Options for {@linkcode upgradeWebSocket}. */
export interface UpgradeWebSocketOptions extends WebSocketConnectionOptions {
  /**
   * The subprotocol to agree to when the client offers it, or a function
   * choosing one of the client's offers (`undefined`: none). Without it no
   * subprotocol is agreed.
   * @default {undefined}
   */
  protocol?: string | ((offered: string[]) => string | undefined);
  /**
   * Accept permessage-deflate when the client offers it.
   * @default {true}
   */
  compression?: boolean;
  /**
   * Extra headers for the `101 Switching Protocols` response (cookies...).
   * @default {[]}
   */
  headers?: [string, string][];
}

/**
 * Completes a WebSocket opening handshake (RFC 6455) for the request of
 * `environ` and returns the open connection; the app returns nothing once
 * it is done with it. A request that is no valid upgrade makes it throw an
 * `HttpError`, which the server answers with its status (the app may also
 * catch it and answer itself): 400 for a request that is not a WebSocket
 * upgrade (method, version, `Upgrade`/`Connection` headers, a body, a
 * missing or bad `Sec-WebSocket-Key`), 426 with `Sec-WebSocket-Version: 13`
 * for another (or no) protocol version.
 *
 * The connection outlives the app's call, as with `Deno.upgradeWebSocket`:
 * returning from the app does not close it, so an app may hand it to other
 * tasklets (a chat room's set of clients) and return. It ends when either
 * side closes it, on a protocol error or `idleTimeout`, or when the server
 * shuts down (`shutdown()` or `serve()`'s `signal`): then it is closed with
 * 1001 ("going away"), and `shutdown()` waits for the apps still running
 * (an echo loop ends by that close), not for connections whose app has
 * returned. So an app that is done with a connection closes it (`await
 * using ws = await upgradeWebSocket(environ)`); one it drops unclosed stays
 * open until the peer closes it or the server shuts down, and while nobody
 * calls `receive()` it holds one message and reads no further.
 *
 * @example A WSGI app that echoes
 * ```ts
 * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
 *
 * const server = serve(async (environ, startResponse) => {
 *   if (environ.HTTP_UPGRADE?.toString().toLowerCase() === "websocket") {
 *     const ws = await upgradeWebSocket(environ);
 *     for await (const message of ws) await ws.send(message);
 *     return;
 *   }
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return "not a WebSocket";
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 * @throws {HttpError} for a request that cannot be upgraded (501 when the
 * server cannot hand its connections over, e.g. on `Deno.serve`).
 * @throws {RangeError} or {TypeError} for bad options.
 */
export async function upgradeWebSocket(
  environ: Environ,
  options: UpgradeWebSocketOptions = {},
): Promise<WebSocketConnection> {
  const { protocol, compression = true, headers = [] } = options;
  resolveOptions(options);
  if (
    protocol !== undefined && typeof protocol !== "function" &&
    (typeof protocol !== "string" || !isToken(protocol))
  ) {
    throw new TypeError(`protocol must be a token or a function`);
  }
  for (const pair of headers) {
    if (
      !Array.isArray(pair) || typeof pair[0] !== "string" ||
      typeof pair[1] !== "string" || !isToken(pair[0]) ||
      !isSafeHeaderValue(pair[1])
    ) {
      throw new TypeError(`bad header ${JSON.stringify(pair)}`);
    }
  }
  const header = (name: string) => {
    const value = environ[name];
    return typeof value === "string" ? value : undefined;
  };
  if (environ.REQUEST_METHOD !== "GET") {
    throw new HttpError(400, "a WebSocket upgrade needs GET");
  }
  if (environ.SERVER_PROTOCOL !== "HTTP/1.1") {
    throw new HttpError(400, "a WebSocket upgrade needs HTTP/1.1");
  }
  if (!hasToken(header("HTTP_UPGRADE"), "websocket")) {
    throw new HttpError(400, "missing Upgrade: websocket");
  }
  if (!hasToken(header("HTTP_CONNECTION"), "upgrade")) {
    throw new HttpError(400, "missing Connection: upgrade");
  }
  if (header("HTTP_SEC_WEBSOCKET_VERSION")?.trim() !== "13") {
    throw new HttpError(426, "unsupported WebSocket version", {
      headers: [["Sec-WebSocket-Version", "13"]],
    });
  }
  const key = header("HTTP_SEC_WEBSOCKET_KEY")?.trim();
  if (!isValidKey(key)) {
    throw new HttpError(400, "missing or invalid Sec-WebSocket-Key");
  }
  const length = header("CONTENT_LENGTH");
  if (
    (length !== undefined && length.trim() !== "0") ||
    header("HTTP_TRANSFER_ENCODING") !== undefined
  ) {
    throw new HttpError(400, "a WebSocket upgrade has no body");
  }
  const takeover = environ[TAKEOVER_KEY];
  if (typeof takeover !== "function") {
    throw new HttpError(501, "this server cannot switch protocols");
  }

  const offered = splitTokens(header("HTTP_SEC_WEBSOCKET_PROTOCOL"));
  let agreed: string | undefined;
  if (typeof protocol === "function") {
    agreed = protocol(offered);
    if (agreed !== undefined && !offered.includes(agreed)) {
      throw new TypeError(`protocol() chose ${agreed}, which was not offered`);
    }
  } else if (protocol !== undefined && offered.includes(protocol)) {
    agreed = protocol;
  }
  const deflate = compression
    ? negotiateDeflate(header("HTTP_SEC_WEBSOCKET_EXTENSIONS"))
    : undefined;

  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
  ];
  if (agreed !== undefined) lines.push(`Sec-WebSocket-Protocol: ${agreed}`);
  if (deflate !== undefined) {
    lines.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
  }
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  // The server's shutdown closes the connection with 1001, whether or not
  // the app that upgraded it has returned.
  const serverShutdown = environ[SHUTDOWN_KEY];
  let shutdownSignal = options.shutdownSignal;
  if (serverShutdown instanceof AbortSignal) {
    shutdownSignal = shutdownSignal === undefined
      ? serverShutdown
      : AbortSignal.any([shutdownSignal, serverShutdown]);
  }
  const socket = (takeover as ConnectionTakeover)();
  try {
    await socket.sendall(lines.join("\r\n") + "\r\n\r\n");
    return new WebSocketConnection({
      socket,
      isServer: true,
      protocol: agreed ?? "",
      extensions: deflate?.response ?? "",
    }, { ...options, shutdownSignal });
  } catch (error) {
    socket.close();
    throw error;
  }
}
