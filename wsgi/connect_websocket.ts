import {
  connect,
  type NbFile,
  TimeoutError,
  withTimeout,
} from "../coio/mod.ts";
import { CLIENT_OFFER, parseDeflateResponse } from "./_ws_deflate.ts";
import {
  acceptKey,
  hasToken,
  isSafeHeaderValue,
  isToken,
  newClientKey,
} from "./_ws_handshake.ts";
import { resolveOptions } from "./_ws_options.ts";
import {
  WebSocketConnection,
  type WebSocketConnectionOptions,
} from "./websocket_connection.ts";

/** Options for {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions extends WebSocketConnectionOptions {
  /**
   * Subprotocols to offer, in order of preference.
   * @default {[]}
   */
  protocols?: string[];
  /**
   * Offer permessage-deflate.
   * @default {true}
   */
  compression?: boolean;
  /**
   * Extra request headers (`Origin`, `Authorization`, cookies...).
   * @default {[]}
   */
  headers?: [string, string][];
  /**
   * Milliseconds the connect and the handshake may take together (then
   * `TimeoutError`). `null`: no limit.
   * @default {null}
   */
  timeout?: number | null;
  /** Cancels the connect and handshake (it rejects with `signal.reason`). */
  signal?: AbortSignal;
  /** PEM certificates to trust for `wss://` instead of the system store. */
  caCerts?: string[];
}

/**
 * Thrown when the server does not complete a WebSocket handshake; `status`
 * is the HTTP status it answered with (0 when the answer was not HTTP, 101
 * when a 101 answer was not a valid one).
 *
 * @example
 * ```ts
 * import { WebSocketHandshakeError } from "@syncless/syncless/wsgi";
 *
 * const error = new WebSocketHandshakeError(404, "not found");
 * console.log(error.status); // 404
 * ```
 */
export class WebSocketHandshakeError extends Error {
  /** The HTTP status of the server's answer. */
  readonly status: number;
  /** Creates the error. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "WebSocketHandshakeError";
    this.status = status;
  }
}

const MAX_RESPONSE_HEAD = 16384;
const latin1 = new TextDecoder("latin1");

/**
 * Opens a WebSocket to `url` (`ws://` or `wss://`) on coio sockets, so that
 * it obeys tasklet cancellation and timeout scopes like every other wait.
 * The connection offers permessage-deflate unless `compression` is false.
 *
 * @example
 * ```ts
 * import { connectWebSocket, serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
 *
 * const server = serve(async (environ) => {
 *   const ws = await upgradeWebSocket(environ);
 *   for await (const message of ws) await ws.send(message);
 * }, { port: 0 });
 * const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`);
 * await ws.send("hello");
 * console.log(await ws.receive()); // "hello"
 * await ws.close();
 * await server.shutdown();
 * ```
 * @throws {WebSocketHandshakeError} when the server refuses the upgrade or
 * answers wrongly.
 * @throws {TypeError} for a URL that is not `ws:` or `wss:`, or bad options.
 * @throws {SocketError} when the connection fails; `TimeoutError` after
 * `timeout`.
 */
export async function connectWebSocket(
  url: string | URL,
  options: ConnectWebSocketOptions = {},
): Promise<WebSocketConnection> {
  const {
    protocols = [],
    compression = true,
    headers = [],
    timeout = null,
    signal,
    caCerts,
  } = options;
  resolveOptions(options);
  const target = new URL(url);
  if (target.protocol !== "ws:" && target.protocol !== "wss:") {
    throw new TypeError(
      `connectWebSocket() needs a ws: or wss: URL, got ${target.protocol}`,
    );
  }
  if (target.hash !== "") {
    throw new TypeError("a WebSocket URL has no fragment");
  }
  for (const protocol of protocols) {
    if (typeof protocol !== "string" || !isToken(protocol)) {
      throw new TypeError(`bad subprotocol ${JSON.stringify(protocol)}`);
    }
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
  signal?.throwIfAborted();
  const open = () =>
    handshake(
      target,
      options,
      protocols,
      compression,
      headers,
      caCerts,
      signal,
    );
  if (timeout === null) return await open();
  try {
    return await withTimeout(timeout, open);
  } catch (error) {
    if (error instanceof TimeoutError) throw new TimeoutError();
    throw error;
  }
}

async function handshake(
  target: URL,
  options: ConnectWebSocketOptions,
  protocols: string[],
  compression: boolean,
  headers: [string, string][],
  caCerts: string[] | undefined,
  signal: AbortSignal | undefined,
): Promise<WebSocketConnection> {
  const secure = target.protocol === "wss:";
  const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = target.port ? Number(target.port) : secure ? 443 : 80;
  const socket = await connect({
    hostname,
    port,
    signal,
    tls: secure ? { hostname, caCerts } : undefined,
  });
  // An abort closes the socket, which ends any wait on it.
  const onAbort = () => socket.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const key = newClientKey();
    const lines = [
      `GET ${target.pathname}${target.search} HTTP/1.1`,
      `Host: ${target.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
    ];
    if (protocols.length > 0) {
      lines.push(`Sec-WebSocket-Protocol: ${protocols.join(", ")}`);
    }
    if (compression) lines.push(`Sec-WebSocket-Extensions: ${CLIENT_OFFER}`);
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    await socket.sendall(lines.join("\r\n") + "\r\n\r\n");
    const file = socket.makefile({ writeBufferLimit: 0 });
    const response = await readResponseHead(file);
    if (response.status !== 101) {
      throw new WebSocketHandshakeError(
        response.status,
        `the server answered ${response.status} instead of 101`,
      );
    }
    const field = (name: string) => response.headers.get(name);
    if (!hasToken(field("upgrade"), "websocket")) {
      throw new WebSocketHandshakeError(101, "no Upgrade: websocket");
    }
    if (!hasToken(field("connection"), "upgrade")) {
      throw new WebSocketHandshakeError(101, "no Connection: upgrade");
    }
    if (field("sec-websocket-accept") !== acceptKey(key)) {
      throw new WebSocketHandshakeError(101, "wrong Sec-WebSocket-Accept");
    }
    const protocol = field("sec-websocket-protocol") ?? "";
    if (protocol !== "" && !protocols.includes(protocol)) {
      throw new WebSocketHandshakeError(
        101,
        `the server chose a subprotocol not offered: ${protocol}`,
      );
    }
    const extensions = field("sec-websocket-extensions") ?? "";
    if (
      extensions !== "" &&
      (!compression || parseDeflateResponse(extensions) === undefined)
    ) {
      throw new WebSocketHandshakeError(
        101,
        `the server agreed to extensions not offered: ${extensions}`,
      );
    }
    signal?.removeEventListener("abort", onAbort);
    return new WebSocketConnection({
      socket,
      isServer: false,
      protocol,
      extensions,
    }, options);
  } catch (error) {
    signal?.removeEventListener("abort", onAbort);
    socket.close();
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

/** Reads the response head; the bytes after it stay buffered (frames). */
async function readResponseHead(
  file: NbFile,
): Promise<{ status: number; headers: Map<string, string> }> {
  const headers = new Map<string, string>();
  const statusLine = await file.readlineStripend(MAX_RESPONSE_HEAD);
  const match = statusLine !== null &&
    /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(latin1.decode(statusLine));
  if (!match) throw new WebSocketHandshakeError(0, "not an HTTP response");
  let total = statusLine!.length;
  for (;;) {
    const line = await file.readlineStripend(MAX_RESPONSE_HEAD);
    if (line === null) {
      throw new WebSocketHandshakeError(
        0,
        "the connection closed during the handshake",
      );
    }
    if (line.length === 0) break;
    total += line.length;
    if (total > MAX_RESPONSE_HEAD) {
      throw new WebSocketHandshakeError(0, "response head too large");
    }
    const text = latin1.decode(line);
    const colon = text.indexOf(":");
    if (colon <= 0) continue;
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(match[1]), headers };
}
