import { toIoError } from "./_io_errors.ts";
import { checkTimeout } from "./_waiter.ts";
import { waitFor } from "./wait_for.ts";
import { handshake, NbSocket } from "./nb_socket.ts";

/** Options for {@linkcode connect}. */
export interface ConnectOptions {
  /** The host to connect to: a name or an IPv4/IPv6 literal. @default {"127.0.0.1"} */
  hostname?: string;
  /** The TCP port. */
  port?: number;
  /** `"tcp"` or `"unix"` (then `path` is the socket file). @default {"tcp"} */
  transport?: "tcp" | "unix";
  /** The socket file to connect to (Unix). */
  path?: string;
  /**
   * Milliseconds the connect (and TLS handshake) may take; also the new
   * socket's timeout, as Python's `create_connection` does.
   * @default {null}
   */
  timeout?: number | null;
  /** Cancels the connect (it rejects with `signal.reason`). */
  signal?: AbortSignal;
  /**
   * Speak TLS: `true`, or options (`hostname` to verify, `caCerts` to
   * trust instead of the system store, `alpnProtocols`).
   */
  tls?: boolean | {
    hostname?: string;
    caCerts?: string[];
    alpnProtocols?: string[];
  };
}

/**
 * Opens a connection (TCP, TLS or Unix) and returns it as an
 * {@linkcode NbSocket}. Cancelling or timing out the wait closes the
 * connection if it is made later.
 *
 * @example
 * ```ts
 * import { connect, listen } from "@syncless/syncless/coio";
 *
 * using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * const socket = await connect({ hostname: "127.0.0.1", port: listener.addr.port, timeout: 1000 });
 * (await listener.accept()).close();
 * socket.close();
 * ```
 * @throws {SocketError} `ECONNREFUSED`, `ENOENT`, ... (with `code`);
 * `TimeoutError` when `timeout` passes.
 */
export async function connect(options: ConnectOptions): Promise<NbSocket> {
  const {
    hostname = "127.0.0.1",
    port,
    transport = "tcp",
    path,
    timeout = null,
    signal,
    tls,
  } = options;
  checkTimeout(timeout);
  let op: Promise<Deno.Conn>;
  if (transport === "unix") {
    if (typeof path !== "string") {
      throw new TypeError('connect({ transport: "unix" }) needs a path');
    }
    op = Deno.connect({ transport: "unix", path });
  } else if (transport === "tcp") {
    if (
      typeof port !== "number" || !Number.isInteger(port) || port < 0 ||
      port > 65535
    ) {
      throw new RangeError(`port must be an integer 0-65535, got ${port}`);
    }
    if (tls) {
      const tlsOptions = tls === true ? {} : tls;
      op = Deno.connectTls({
        hostname,
        port,
        caCerts: tlsOptions.caCerts,
        alpnProtocols: tlsOptions.alpnProtocols,
        ...(tlsOptions.hostname !== undefined
          ? { serverName: tlsOptions.hostname }
          : {}),
      } as Deno.ConnectTlsOptions);
    } else {
      op = Deno.connect({ hostname, port });
    }
  } else {
    throw new TypeError(`unknown transport: ${String(transport)}`);
  }
  const conn = await adopt(op, timeout, signal);
  if (tls) {
    await handshake(conn as Deno.TlsConn, timeout);
  } else if (transport === "tcp") {
    (conn as Deno.TcpConn).setNoDelay(true);
  }
  return new NbSocket(conn, timeout);
}

/** Waits for a connect op; if the wait gives up, a late connection is closed. */
async function adopt(
  op: Promise<Deno.Conn>,
  timeout: number | null,
  signal: AbortSignal | undefined,
): Promise<Deno.Conn> {
  const outcome = op.then(
    (conn) => ({ conn, error: undefined }),
    (error: unknown) => ({ conn: undefined, error }),
  );
  let result;
  try {
    result = await waitFor(outcome, { timeout, signal });
  } catch (error) {
    outcome.then(({ conn }) => {
      try {
        conn?.close();
      } catch {
        // Already closed.
      }
    });
    throw error;
  }
  if (result.conn === undefined) throw toIoError(result.error);
  return result.conn;
}
