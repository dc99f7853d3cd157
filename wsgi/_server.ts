// Serving in the current worker: the listener, its accept loop, one tasklet
// per connection, graceful shutdown. `serve()` and the workers use it.

import {
  listen,
  type NbListener,
  type NbSocket,
  sleep,
  SocketError,
  spawn,
} from "../coio/mod.ts";
import { spawnNow } from "../coio/tasklet.ts";
import { Connection, type ServerState } from "./_connection.ts";
import { refreshDate } from "./_date.ts";
import { fetchAppToWsgi } from "./_fetch_app.ts";
import type { Environ, FetchApp, WsgiApp } from "./environ.ts";
import { HttpServer, type ServerAddr } from "./http_server.ts";
import type { ServeOptions } from "./serve.ts";

const DEFAULTS = {
  hostname: "127.0.0.1",
  port: 8000,
  maxRequestLineSize: 8192,
  maxHeaderSize: 32768,
  maxHeaderCount: 100,
  maxBodySize: Infinity,
  headersTimeout: 10_000,
  keepAliveTimeout: 5_000,
  bodyTimeout: 30_000,
  writeTimeout: 30_000,
};

/** Options with their defaults filled in, checked. */
export type Config = ReturnType<typeof checkOptions>;

/** Checks `options` and fills in defaults. */
export function checkOptions(options: ServeOptions) {
  if (options === null || typeof options !== "object") {
    throw new TypeError("serve() options must be an object");
  }
  const config = { ...DEFAULTS, ...stripUndefined(options) } as
    & typeof DEFAULTS
    & ServeOptions
    & { workers: number };
  config.workers ??= 1;
  for (
    const name of [
      "maxRequestLineSize",
      "maxHeaderSize",
      "maxHeaderCount",
      "maxBodySize",
      "headersTimeout",
      "keepAliveTimeout",
      "bodyTimeout",
      "writeTimeout",
    ] as const
  ) {
    const value = config[name];
    if (typeof value !== "number" || !(value >= 0)) {
      throw new RangeError(
        `${name} must be a number >= 0, got ${String(value)}`,
      );
    }
  }
  const concurrency = config.pipelineConcurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `pipelineConcurrency must be an integer >= 1, got ${concurrency}`,
    );
  }
  if (!Number.isInteger(config.workers) || config.workers < 1) {
    throw new RangeError(
      `workers must be an integer >= 1, got ${config.workers}`,
    );
  }
  const transport = config.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "unix") {
    throw new TypeError(`unknown transport ${JSON.stringify(transport)}`);
  }
  if (transport === "unix") {
    if (typeof config.path !== "string" || config.path === "") {
      throw new TypeError('transport "unix" needs a path');
    }
    if (config.tls !== undefined || config.workers > 1) {
      throw new TypeError('transport "unix" does not take tls or workers');
    }
  } else if (
    !Number.isInteger(config.port) || config.port < 0 || config.port > 65535
  ) {
    throw new RangeError(`port must be an integer 0-65535, got ${config.port}`);
  }
  if (
    config.tls !== undefined &&
    (typeof config.tls?.cert !== "string" ||
      typeof config.tls?.key !== "string")
  ) {
    throw new TypeError("tls needs { cert, key } as PEM strings");
  }
  if (
    (config.reusePort || config.workers > 1) &&
    typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function"
  ) {
    // Without the flag Deno.listen({ reusePort }) ends the process.
    throw new TypeError(
      "reusePort and workers need Deno's --unstable-net flag (Deno.listen's reusePort is unstable)",
    );
  }
  return config;
}

function stripUndefined<T extends object>(object: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(object)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Throws a `TypeError` unless `app` is a WSGI function or a fetch-style object. */
export function checkApp(app: unknown): void {
  if (typeof app === "function") return;
  if (
    app !== null && typeof app === "object" &&
    typeof (app as FetchApp).fetch === "function"
  ) return;
  throw new TypeError(
    "serve() needs a WSGI-style function (environ, startResponse), " +
      "an object with a fetch(request, info) method, or a module URL",
  );
}

function toWsgi(app: WsgiApp | FetchApp): WsgiApp {
  return typeof app === "function" ? app : fetchAppToWsgi(app);
}

/** Serves in this worker (`app` as a module URL is imported first). */
export function serveHere(
  app: WsgiApp | FetchApp | string,
  moduleUrl: string | undefined,
  config: Config,
  multiprocess = false,
): HttpServer {
  const unix = (config.transport ?? "tcp") === "unix";
  const listener = listen(
    unix ? { transport: "unix", path: config.path } : {
      hostname: config.hostname,
      port: config.port,
      tls: config.tls,
      reusePort: config.reusePort || undefined,
    },
  );
  const addr: ServerAddr = unix
    ? { path: config.path! }
    : { hostname: listener.addr.hostname, port: listener.addr.port };

  const onError = config.onError ?? defaultOnError;
  let accessLog: ((line: string) => void) | undefined;
  if (typeof config.accessLog === "function") accessLog = config.accessLog;
  else if (config.accessLog === true) accessLog = (line) => console.log(line);
  // Tells what outlives a request (WebSockets) that the server stops.
  const stopping = new AbortController();
  const state: ServerState = {
    app: typeof app === "string" ? notReady : toWsgi(app),
    heads: [],
    now: Date.now(),
    tick: 0,
    pipelineConcurrency: config.pipelineConcurrency ?? 1,
    limits: {
      maxRequestLineSize: config.maxRequestLineSize,
      maxHeaderSize: config.maxHeaderSize,
      maxHeaderCount: config.maxHeaderCount,
      maxBodySize: config.maxBodySize,
    },
    bodyLimits: {
      bodyTimeout: config.bodyTimeout === Infinity ? null : config.bodyTimeout,
      maxBodySize: config.maxBodySize,
      maxHeaderSize: config.maxHeaderSize,
      maxHeaderCount: config.maxHeaderCount,
    },
    headersTimeout: config.headersTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    writeTimeout: config.writeTimeout === Infinity ? null : config.writeTimeout,
    secure: config.tls !== undefined,
    scheme: config.tls !== undefined ? "https" : "http",
    serverName: unix ? config.path! : config.hostname,
    serverPort: unix ? "" : String(addr.port),
    multiprocess,
    closing: false,
    shutdownSignal: stopping.signal,
    accessLog,
    reportError(error, environ) {
      try {
        onError(error, environ);
      } catch (reportError) {
        console.error(reportError);
      }
    },
    startServing(connection) {
      // At once, as a resumed wait would: a woken connection is served
      // without waiting for a run-queue round.
      // (A spell that never waited has ended, and parked, by the return.)
      const tasklet = spawnNow(undefined, serveConnection, connection);
      if (tasklet.alive) connection.tasklet = tasklet;
    },
  };

  const connections = new Set<Connection>();
  let acceptDone = false;
  let resolveFinished!: () => void;
  let rejectFinished!: (error: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    resolveFinished = resolve;
    rejectFinished = reject;
  });
  let startError: unknown = undefined;
  // One sweeper per server enforces headersTimeout and keepAliveTimeout, so
  // that waiting for a request costs no timer of its own.
  // It also refreshes the Date line (at least twice a second).
  const sweepEvery = Math.min(
    500,
    Math.max(5, Math.min(config.headersTimeout, config.keepAliveTimeout) / 4),
  );
  refreshDate();
  state.tick = sweepEvery;
  const sweeper = setInterval(() => {
    refreshDate();
    const now = state.now = Date.now();
    for (const connection of connections) connection.expire(now);
  }, sweepEvery);
  const checkFinished = () => {
    if (!acceptDone || connections.size > 0) return;
    clearInterval(sweeper);
    if (unix) {
      try {
        Deno.removeSync(config.path!);
      } catch {
        // Already gone.
      }
    }
    config.signal?.removeEventListener("abort", onAbort);
    if (startError !== undefined) rejectFinished(startError);
    else resolveFinished();
  };

  const onClosed = (connection: Connection) => {
    connections.delete(connection);
    checkFinished();
  };
  const onConnectionError = (error: unknown) =>
    state.reportError(error, undefined);

  const acceptLoop = async (listener: NbListener) => {
    try {
      if (moduleUrl !== undefined && typeof app === "string") {
        try {
          const module = await import(moduleUrl);
          const loaded = module.default;
          checkApp(loaded);
          state.app = toWsgi(loaded);
        } catch (error) {
          startError = error;
          listener.close();
          return;
        }
      }
      while (!state.closing) {
        let socket: NbSocket;
        try {
          socket = await listener.accept();
        } catch (error) {
          if (state.closing || listener.closed) break;
          // Out of file descriptors and the like: wait, then go on.
          if (!(error instanceof SocketError)) {
            state.reportError(error, undefined);
          }
          await sleep(10);
          continue;
        }
        const connection = new Connection(socket, state, onClosed);
        connections.add(connection);
        // Connection.serve never throws: its tasklet needs no onError.
        connection.tasklet = spawn(serveConnection, connection);
      }
    } finally {
      listener.close();
      acceptDone = true;
      checkFinished();
    }
  };

  spawn({ onError: onConnectionError }, acceptLoop, listener);
  const shutdown = (): Promise<void> => {
    if (!state.closing) {
      state.closing = true;
      listener.close();
      stopping.abort();
      // Closing wakes the accept loop and every idle connection (their
      // reads fail); busy ones see `closing` and answer with a close.
      for (const connection of connections) connection.closeIfIdle();
    }
    return finished;
  };
  const onAbort = () => void shutdown().catch(() => {});
  if (config.signal?.aborted) queueMicrotask(onAbort);
  else config.signal?.addEventListener("abort", onAbort, { once: true });

  config.onListen?.(addr as ServerAddr);
  return new HttpServer(addr, finished, shutdown);
}

function serveConnection(connection: Connection): Promise<void> | undefined {
  return connection.serve();
}

const notReady: WsgiApp = () => {
  throw new Error("the app module is not loaded yet");
};

function defaultOnError(error: unknown, environ: Environ | undefined): void {
  const where = environ === undefined
    ? ""
    : ` (${environ.REQUEST_METHOD} ${environ.REQUEST_URI})`;
  console.error(`syncless: error in the HTTP app${where}:`, error);
}
