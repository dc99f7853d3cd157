import type { Environ, FetchApp, WsgiApp } from "./environ.ts";
import { HttpServer, type ServerAddr } from "./http_server.ts";
import { checkApp, checkOptions, type Config, serveHere } from "./_server.ts";

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /**
   * The address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port to listen on; `0` picks a free one (see `server.addr`).
   * @default {8000}
   */
  port?: number;
  /** `"unix"` listens on the socket file `path` instead of TCP. @default {"tcp"} */
  transport?: "tcp" | "unix";
  /** The socket file for `transport: "unix"` (removed again at shutdown). */
  path?: string;
  /** Serve HTTPS with this PEM certificate chain and private key. */
  tls?: { cert: string; key: string };
  /** Aborting it starts a graceful shutdown (like `server.shutdown()`). */
  signal?: AbortSignal;
  /** Called once the server listens (with `workers`, once all of them do), with its address. */
  onListen?: (
    addr: { hostname: string; port: number } | { path: string },
  ) => void;
  /**
   * Called with each error of the app (and of the server's own code), and
   * the request's `environ` when there is one. Client disconnects and bad
   * requests are not errors. By default they are printed with `console.error`.
   */
  onError?: (error: unknown, environ: Environ | undefined) => void;
  /**
   * Longest request line, in bytes (a longer one gets 414).
   * @default {8192}
   */
  maxRequestLineSize?: number;
  /**
   * Largest request head (request line plus header lines, and the trailers
   * of a chunked body), in bytes (a larger one gets 431).
   * @default {32768}
   */
  maxHeaderSize?: number;
  /**
   * Most header lines in a request head (more get 431).
   * @default {100}
   */
  maxHeaderCount?: number;
  /**
   * Largest request body, in bytes (a larger `Content-Length` gets 413
   * before the app runs; a chunked body fails with 413 when it gets there).
   * @default {Infinity}
   */
  maxBodySize?: number;
  /**
   * Milliseconds a request head may take from its first byte to its end (a
   * slower one gets 408); also how long a new connection may stay silent.
   * Timeouts are checked a few times a second; `Infinity` turns one off.
   * @default {10000}
   */
  headersTimeout?: number;
  /**
   * Milliseconds a kept-alive connection may stay idle before its next
   * request starts (then it is closed quietly).
   * @default {5000}
   */
  keepAliveTimeout?: number;
  /**
   * Longest wait, in milliseconds, for the next bytes of a request body
   * (then reading it fails with a 408 `HttpError`).
   * @default {30000}
   */
  bodyTimeout?: number;
  /**
   * Longest wait, in milliseconds, for the client to accept response bytes
   * (then the connection is closed).
   * @default {30000}
   */
  writeTimeout?: number;
  /**
   * Log each request in Common Log Format: `true` prints to stdout, a
   * function receives each line.
   * @default {false}
   */
  accessLog?: boolean | ((line: string) => void);
  /**
   * Run up to this many pipelined requests of one connection at the same
   * time (their answers still go out in request order). Only requests
   * without a body take part; the default serves one request at a time, as
   * `Deno.serve` does. Worth it when the app waits (on a database, another
   * service) rather than computes.
   * @default {1}
   */
  pipelineConcurrency?: number;
  /**
   * Let other listeners bind the same port (Linux `SO_REUSEPORT`), e.g.
   * servers in other processes. Needs `--unstable-net`.
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * Serve with this many event loops, each in its own Web Worker (the
   * calling one included), sharing the port through `reusePort` so that
   * every core is used. The app must then be given as a module URL (each
   * worker imports it; its default export is the app), options must be
   * plain data (functions such as `onError` stay in the calling worker),
   * and Deno must run with `--unstable-net`.
   * @default {1}
   */
  workers?: number;
}

/**
 * Serves HTTP/1.1 on our own engine: `app` is a WSGI-style function
 * `(environ, startResponse) => body`, a fetch-style object `{ fetch(request,
 * info) }`, or (for `workers`) the URL of a module whose default export is
 * one. Keep-alive, pipelining, chunked bodies both ways, `100-continue`,
 * timeouts, limits, TLS, Unix sockets and graceful shutdown included. The
 * server listens when `serve()` returns.
 *
 * @example A WSGI-style app
 * ```ts
 * import { serve } from "@syncless/syncless/wsgi";
 *
 * const server = serve((environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return `Hello from ${environ.PATH_INFO}`;
 * }, { port: 0 });
 * console.log(await (await fetch(`http://127.0.0.1:${server.addr.port}/x`)).text());
 * await server.shutdown();
 * ```
 * @example A fetch-style app (Hono-style)
 * ```ts
 * import { serve } from "@syncless/syncless/wsgi";
 *
 * const server = serve({
 *   fetch: async (request) => new Response(`got ${(await request.text()).length} bytes`),
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 * @throws {TypeError} for a bad app or option; {@linkcode SocketError} when
 * the address cannot be bound.
 */
export function serve(
  app: WsgiApp | FetchApp | URL | string,
  options: ServeOptions = {},
): HttpServer {
  const config = checkOptions(options);
  const moduleUrl = typeof app === "string" || app instanceof URL
    ? new URL(app).href
    : undefined;
  if (moduleUrl === undefined) checkApp(app);
  if (config.workers > 1) {
    if (moduleUrl === undefined) {
      throw new TypeError(
        "serve() with workers > 1 needs the app as a module URL (each worker imports it)",
      );
    }
    return serveWithWorkers(moduleUrl, options, config);
  }
  return serveHere(app as WsgiApp | FetchApp | string, moduleUrl, config);
}

/** Serves in this worker and `workers - 1` Web Workers sharing the port. */
function serveWithWorkers(
  moduleUrl: string,
  options: ServeOptions,
  config: Config,
): HttpServer {
  const local = serveHere(moduleUrl, moduleUrl, {
    ...config,
    reusePort: true,
    onListen: undefined,
  }, true);
  const port = local.addr.port!;
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (typeof value !== "function" && key !== "signal") plain[key] = value;
  }
  Object.assign(plain, { port, workers: 1, reusePort: true });
  const workers: Worker[] = [];
  const done: Promise<void>[] = [];
  let listening = 1;
  let closing = false;
  const shutdown = (): Promise<void> => {
    if (!closing) {
      closing = true;
      for (const worker of workers) worker.postMessage({ type: "shutdown" });
      local.shutdown().catch(() => {});
    }
    return finished;
  };
  for (let i = 1; i < config.workers; i++) {
    const worker = new Worker(new URL("./_worker.ts", import.meta.url), {
      type: "module",
    });
    workers.push(worker);
    done.push(
      new Promise<void>((resolve, reject) => {
        const fail = (error: unknown) => {
          reject(error);
          void shutdown().catch(() => {}); // one worker down: stop them all
        };
        worker.onmessage = (event: MessageEvent) => {
          const message = event.data as { type: string; error?: string };
          if (message.type === "listening") {
            if (++listening === config.workers) {
              config.onListen?.(local.addr as ServerAddr);
            }
          } else if (message.type === "finished") resolve();
          else if (message.type === "error") fail(new Error(message.error));
        };
        worker.onerror = (event) => {
          event.preventDefault();
          fail(event.error ?? new Error(event.message));
        };
      }),
    );
    worker.postMessage({ type: "start", moduleUrl, options: plain });
  }
  const finished = Promise.allSettled([local.finished, ...done]).then(
    (results) => {
      for (const worker of workers) worker.terminate();
      config.signal?.removeEventListener("abort", onAbort);
      const failed = results.find((r) => r.status === "rejected");
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    },
  );
  const onAbort = () => void shutdown().catch(() => {});
  if (config.signal?.aborted) queueMicrotask(onAbort);
  else config.signal?.addEventListener("abort", onAbort, { once: true });
  return new HttpServer(local.addr, finished, shutdown);
}
