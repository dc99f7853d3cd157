/**
 * The types of the WSGI-style app interface: the `environ` object an app
 * receives, `startResponse`, the request body reader and what an app returns.
 *
 * @module
 */

/**
 * The request body (`environ["wsgi.input"]`): reads stop at the end of the
 * body, whether it was framed by `Content-Length` or chunked. Every method
 * is async and returns bytes; an empty `Uint8Array` means the body is done.
 *
 * @example Read a form post line by line
 * ```ts
 * import { type Environ, serve, type StartResponse } from "@syncless/syncless/wsgi";
 *
 * const server = serve(async (environ: Environ, startResponse: StartResponse) => {
 *   let lines = 0;
 *   for await (const _line of environ["wsgi.input"]) lines++;
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return `${lines} lines`;
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 */
export interface BodyReader extends AsyncIterable<Uint8Array> {
  /** Up to `n` bytes (all the rest when `n` is negative or omitted); fewer only at the end. */
  read(n?: number): Promise<Uint8Array>;
  /** What is buffered now, or else what arrives next: 1 to `n` bytes; empty at the end. */
  readAtMost(n: number): Promise<Uint8Array>;
  /** The next line with its `\n`, at most `limit` bytes; empty at the end. */
  readline(limit?: number): Promise<Uint8Array>;
  /** The next line without its `\n` or `\r\n`; `null` at the end. */
  readlineStripend(limit?: number): Promise<Uint8Array | null>;
  /** Bytes of the body not read yet, when known (`-1` for a chunked body). */
  readonly remaining: number;
  /** Trailer fields of a chunked body (framing fields left out), once it is read to the end. */
  readonly trailers: readonly [string, string][];
}

/**
 * `environ["wsgi.errors"]`: where an app writes diagnostics (to stderr).
 */
export interface ErrorStream {
  /** Writes `text` as it is. */
  write(text: string): void;
  /** Writes each string of `lines`. */
  writelines(lines: Iterable<string>): void;
  /** Does nothing: the stream is not buffered. */
  flush(): void;
}

/**
 * What a WSGI-style app receives: CGI-style request variables (latin1
 * strings, as in PEP 3333) and the `wsgi.*` entries. A plain object; header
 * `Foo-Bar` appears as `HTTP_FOO_BAR` (repeated headers joined with `, `),
 * except `Content-Type` and `Content-Length`, which have no `HTTP_` prefix.
 * Header names containing `_` are left out, so `X_A` cannot pose as `X-A`.
 */
export interface Environ {
  /** The method as sent, e.g. `"GET"`. */
  REQUEST_METHOD: string;
  /** Always `""`: the app is mounted at the root. */
  SCRIPT_NAME: string;
  /** The path, percent-decoded to bytes shown as latin1 (`"*"` for `OPTIONS *`). */
  PATH_INFO: string;
  /** The query string without `?` (not decoded). */
  QUERY_STRING: string;
  /** The request-target exactly as sent. */
  REQUEST_URI: string;
  /** `"HTTP/1.0"` or `"HTTP/1.1"`. */
  SERVER_PROTOCOL: string;
  /** The host the server listens on (or the socket path). */
  SERVER_NAME: string;
  /** The port the server listens on, as a string (`""` for a Unix socket). */
  SERVER_PORT: string;
  /** The client's address. */
  REMOTE_ADDR: string;
  /** The client's port, as a string. */
  REMOTE_PORT: string;
  /** The `Content-Type` header, if the request has one. */
  CONTENT_TYPE?: string;
  /** The `Content-Length` header, if the request has one. */
  CONTENT_LENGTH?: string;
  /** The request body. */
  "wsgi.input": BodyReader;
  /** Diagnostics stream (stderr). */
  "wsgi.errors": ErrorStream;
  /** `"http"` or `"https"`. */
  "wsgi.url_scheme": string;
  /** `[1, 0]`. */
  "wsgi.version": [number, number];
  /** True: requests of several connections run concurrently. */
  "wsgi.multithread": boolean;
  /** True when `workers` > 1. */
  "wsgi.multiprocess": boolean;
  /** False. */
  "wsgi.run_once": boolean;
  /** True: reading `wsgi.input` stops at the end of the body by itself. */
  "wsgi.input_terminated": boolean;
  /** Any other variable, e.g. `HTTP_HOST`. */
  [key: string]: unknown;
}

/** One chunk of a response body: bytes, or a string sent as UTF-8. */
export type BodyChunk = string | Uint8Array;

/**
 * What a WSGI-style app returns. A string, a `Uint8Array` or an array of
 * them is a fixed body (sent with `Content-Length`); any other iterable or
 * async iterable streams, item by item (chunked on HTTP/1.1 unless the app
 * set `Content-Length`). `null`/`undefined` is an empty body.
 */
export type ResponseBody =
  | BodyChunk
  | readonly BodyChunk[]
  | Iterable<BodyChunk>
  | AsyncIterable<BodyChunk>
  | null
  | undefined
  | void;

/**
 * Sends one chunk of the body right away (the head first, if it was not
 * sent yet). Await it for back-pressure; an empty chunk sends nothing.
 */
export type WriteFunction = (chunk: BodyChunk) => Promise<void>;

/**
 * Sets the response status (like `"200 OK"`) and headers; call it again to
 * replace them until the head has been sent (the head is held until the
 * first non-empty chunk of the body). After that, a call with `excInfo`
 * rethrows `excInfo`, as PEP 3333 asks.
 *
 * @throws {TypeError} for a malformed status, header name or value (a value
 * with CR, LF or NUL is refused, so headers cannot be injected).
 */
export type StartResponse = (
  status: string,
  headers: readonly (readonly [string, string | number])[],
  excInfo?: unknown,
) => WriteFunction;

/**
 * A WSGI-style app: called once per request with the `environ` and
 * `startResponse`; returns the body (or a promise of it).
 *
 * @example Hello, World
 * ```ts
 * import { serve, type WsgiApp } from "@syncless/syncless/wsgi";
 *
 * const app: WsgiApp = (_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return "Hello, World!";
 * };
 * const server = serve(app, { port: 0 });
 * await server.shutdown();
 * ```
 */
export type WsgiApp = (
  environ: Environ,
  startResponse: StartResponse,
) => ResponseBody | Promise<ResponseBody>;

/** What a fetch-style app gets with each request. */
export interface ServeInfo {
  /** The client's address. */
  remoteAddr: { hostname: string; port: number; transport: "tcp" | "unix" };
  /** The `environ` of the request (its `wsgi.input` feeds `request.body`). */
  environ: Environ;
}

/**
 * A fetch-style app, as Hono and `Deno.serve` handlers are written:
 * `fetch(request, info)` returns a `Response`.
 *
 * @example
 * ```ts
 * import { type FetchApp, serve } from "@syncless/syncless/wsgi";
 *
 * const app: FetchApp = {
 *   fetch: (request) => new Response(`you asked for ${new URL(request.url).pathname}`),
 * };
 * const server = serve(app, { port: 0 });
 * await server.shutdown();
 * ```
 */
export interface FetchApp {
  /** Answers one request. */
  fetch(request: Request, info: ServeInfo): Response | Promise<Response>;
}
