import { closedError, toIoError } from "./_io_errors.ts";
import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";
import { SocketError } from "./errors.ts";
import { NbSocket } from "./nb_socket.ts";

/** Options for {@linkcode listen}. */
export interface ListenOptions {
  /** The address to bind (TCP). @default {"0.0.0.0"} */
  hostname?: string;
  /** The port to bind (TCP); `0` picks a free one. @default {0} */
  port?: number;
  /** `"tcp"` or `"unix"` (then `path` is the socket file). @default {"tcp"} */
  transport?: "tcp" | "unix";
  /** The socket file of a Unix listener. */
  path?: string;
  /** Let several processes bind the same port (Linux `SO_REUSEPORT`). */
  reusePort?: boolean;
  /** Serve TLS with this PEM certificate chain and key. */
  tls?: { cert: string; key: string; alpnProtocols?: string[] };
}

/** Options for {@linkcode NbListener.accept}. */
export interface AcceptOptions {
  /** Milliseconds to wait: `null` forever, `0` only a ready connection. */
  timeout?: number | null;
  /** Cancels the wait (it rejects with `signal.reason`). */
  signal?: AbortSignal;
}

/**
 * A listening socket whose `accept()` is a coio wait. An accept that gives
 * up (timeout, kill) leaves its accept running, and the next `accept()` gets
 * that connection: none is ever dropped.
 *
 * @example Accept one connection
 * ```ts
 * import { connect, listen } from "@syncless/syncless/coio";
 *
 * using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await listener.accept();
 * console.log(server.remoteAddr);
 * client.close();
 * server.close();
 * ```
 */
export class NbListener implements AsyncIterable<NbSocket> {
  #listener: Deno.Listener;
  #closed = false;
  #inflight = false;
  #ready: Deno.Conn[] = [];
  #error: unknown = undefined;
  #waiters: Waiter<Deno.Conn>[] = [];

  /** Wraps a `Deno.Listener` (TCP, TLS or Unix); owns it from now on. */
  constructor(listener: Deno.Listener) {
    this.#listener = listener;
  }

  /** The bound address (`addr.port` is the real port when 0 was asked). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /** The bound address, of any transport (a Unix listener's has `path`). */
  get address(): Deno.Addr {
    return this.#listener.addr;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for the next connection. Waiters are served in order.
   * @throws {SocketError} `EBADF` once the listener is closed.
   * @example Accept with a deadline
   * ```ts
   * import { listen, TimeoutError } from "@syncless/syncless/coio";
   *
   * using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * try {
   *   await listener.accept({ timeout: 10 });
   * } catch (error) {
   *   console.log(error instanceof TimeoutError); // true: nobody connected
   * }
   * ```
   */
  accept(options: AcceptOptions = {}): Promise<NbSocket> {
    const { timeout = null, signal } = options;
    try {
      checkTimeout(timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(closedError("listener"));
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(new NbSocket(ready));
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    this.#start();
    return suspend<Deno.Conn>(this.#park, { timeout, signal }).then(
      (conn) => new NbSocket(conn),
    );
  }

  #park = (waiter: Waiter<Deno.Conn>): void => {
    this.#waiters.push(waiter);
    waiter.onCancel = () => {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
    };
  };

  #start(): void {
    if (this.#inflight) return;
    this.#inflight = true;
    this.#listener.accept().then(this.#onConn, this.#onError);
  }

  #onConn = (conn: Deno.Conn): void => {
    this.#inflight = false;
    if (this.#closed) {
      closeQuietly(conn);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#ready.push(conn);
      return;
    }
    waiter.onCancel = undefined;
    waiter.resume(conn);
    if (this.#waiters.length > 0) this.#start();
  };

  #onError = (error: unknown): void => {
    this.#inflight = false;
    if (this.#closed) return;
    const mapped = toIoError(error);
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#error = mapped;
      return;
    }
    waiter.onCancel = undefined;
    waiter.fail(mapped);
    if (this.#waiters.length > 0) this.#start();
  };

  /** Stops listening; waiting `accept()` calls fail with `EBADF`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of this.#ready.splice(0)) closeQuietly(conn);
    for (const waiter of this.#waiters.splice(0)) {
      waiter.onCancel = undefined;
      waiter.fail(closedError("listener"));
    }
    closeQuietly(this.#listener);
  }

  /** Closes the listener (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Yields accepted connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<NbSocket> {
    while (!this.#closed) {
      let socket: NbSocket;
      try {
        socket = await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      yield socket;
    }
  }
}

/**
 * Starts listening: TCP (`hostname`, `port`, `reusePort`), TLS (`tls`:
 * `{ cert, key }`) or Unix (`transport: "unix"`, `path`).
 *
 * @example An echo server
 * ```ts
 * import { listen, spawn } from "@syncless/syncless/coio";
 *
 * const listener = listen({ hostname: "127.0.0.1", port: 0 });
 * spawn(async () => {
 *   for await (const socket of listener) {
 *     spawn(async () => {
 *       for (let data; (data = await socket.recv(4096)).length > 0;) {
 *         await socket.sendall(data);
 *       }
 *       socket.close();
 *     });
 *   }
 * });
 * console.log("listening on", listener.addr.port);
 * listener.close();
 * ```
 * @throws {SocketError} `EADDRINUSE` and the like.
 */
export function listen(options: ListenOptions = {}): NbListener {
  prepareSignals();
  const {
    hostname = "0.0.0.0",
    port = 0,
    transport = "tcp",
    path,
    reusePort,
    tls,
  } = options;
  try {
    if (transport === "unix") {
      if (typeof path !== "string") {
        throw new TypeError('listen({ transport: "unix" }) needs a path');
      }
      return new NbListener(Deno.listen({ transport: "unix", path }));
    }
    if (transport !== "tcp") {
      throw new TypeError(`unknown transport: ${String(transport)}`);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`port must be an integer 0-65535, got ${port}`);
    }
    if (reusePort && !unstableNet()) {
      throw new SocketError(
        "EOPNOTSUPP",
        'reusePort needs Deno\'s unstable net API: run with --unstable-net or add "unstable": ["net"] to deno.json',
      );
    }
    if (tls !== undefined) {
      return new NbListener(
        Deno.listenTls(
          {
            hostname,
            port,
            cert: tls.cert,
            key: tls.key,
            alpnProtocols: tls.alpnProtocols,
            reusePort,
          } as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem,
        ),
      );
    }
    return new NbListener(Deno.listen({ hostname, port, reusePort }));
  } catch (error) {
    throw toIoError(error);
  }
}

// Deno exits the process when an unstable option is used without its flag;
// `listenDatagram` exists only when the unstable net API is enabled.
function unstableNet(): boolean {
  return typeof (Deno as { listenDatagram?: unknown }).listenDatagram ===
    "function";
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}

let signalsPrepared = false;

/**
 * Deno sets up its signal handling lazily, during its first seconds, and
 * panics (EMFILE) if a server has run out of descriptors by then: set it up
 * now, while descriptors are free, by adding and removing a no-op listener.
 */
function prepareSignals(): void {
  if (signalsPrepared) return;
  signalsPrepared = true;
  const name = Deno.build.os === "windows" ? "SIGBREAK" : "SIGWINCH";
  const noop = () => {};
  try {
    Deno.addSignalListener(name, noop);
    Deno.removeSignalListener(name, noop);
  } catch {
    // No signals here (a sandbox, a worker): nothing to prepare.
  }
}
