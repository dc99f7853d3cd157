import { toIoError } from "./_io_errors.ts";
import { parseIPAddress } from "./_ip_address.ts";
import { checkTimeout } from "./_waiter.ts";
import { getaddrinfo } from "./dns.ts";
import { SocketError } from "./errors.ts";
import { handshake, NbSocket } from "./nb_socket.ts";
import { waitFor } from "./wait_for.ts";

/** TLS options of {@linkcode connect}. */
export interface ConnectTlsOptions {
  /** The name to verify the server's certificate against (and send as SNI). @default {the `hostname` connected to} */
  hostname?: string;
  /** PEM CA certificates to trust in addition to the system's roots. */
  caCerts?: string[];
  /** ALPN protocols to offer. */
  alpnProtocols?: string[];
}

/** Options for {@linkcode connect}. */
export interface ConnectOptions {
  /**
   * The host to connect to: an IPv4/IPv6 literal or a name (resolved with
   * coio's {@linkcode getaddrinfo}; each address is tried in turn).
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The TCP port. */
  port?: number;
  /** `"tcp"` or `"unix"` (then `path` is the socket file). @default {"tcp"} */
  transport?: "tcp" | "unix";
  /** The socket file to connect to (Unix). */
  path?: string;
  /**
   * Milliseconds each wait of the connect (name lookup, each connection
   * attempt, TLS handshake) may take; also the new socket's timeout, as
   * Python's `create_connection` does.
   * @default {null}
   */
  timeout?: number | null;
  /** Cancels the connect (it rejects with `signal.reason`). */
  signal?: AbortSignal;
  /** Speak TLS: `true` (system roots, verify `hostname`), or options. */
  tls?: boolean | ConnectTlsOptions;
}

/**
 * Opens a connection (TCP, TLS or Unix) and returns it as an
 * {@linkcode NbSocket}. A connection made after its wait gave up (timeout,
 * kill, signal) is closed, never leaked.
 *
 * @example Connect with a timeout
 * ```ts
 * import { connect, listen } from "@syncless/syncless/coio";
 *
 * using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * const socket = await connect({ hostname: "127.0.0.1", port: listener.addr.port, timeout: 1000 });
 * (await listener.accept()).close();
 * socket.close();
 * ```
 * @throws {SocketError} `ECONNREFUSED`, `ENOENT`, `EPROTO` (TLS), ... with
 * `code`; `GaiError` when the name does not resolve; `TimeoutError` when a
 * wait exceeds `timeout`.
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
  if (transport === "unix") {
    if (typeof path !== "string") {
      throw new TypeError('connect({ transport: "unix" }) needs a path');
    }
    const conn = await adopt(
      Deno.connect({ transport: "unix", path }),
      timeout,
      signal,
    );
    return new NbSocket(conn, timeout);
  }
  if (transport !== "tcp") {
    throw new TypeError(`unknown transport: ${String(transport)}`);
  }
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < 0 ||
    port > 65535
  ) {
    throw new RangeError(`port must be an integer 0-65535, got ${port}`);
  }
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError("hostname must be a non-empty string");
  }
  const waitOptions = { timeout, signal };
  // Literals and "localhost" never need a DNS query.
  const addresses = parseIPAddress(hostname) !== undefined ||
      hostname.toLowerCase() === "localhost"
    ? [hostname]
    : (await waitFor(getaddrinfo(hostname, port, { signal }), waitOptions))
      .map((info) => info.address);
  let tcp: Deno.TcpConn | undefined;
  let lastError: unknown;
  for (const address of addresses) {
    try {
      tcp = await adopt(
        Deno.connect({ hostname: address, port }),
        timeout,
        signal,
      ) as Deno.TcpConn;
      break;
    } catch (error) {
      if (!(error instanceof SocketError)) throw error;
      lastError = error;
    }
  }
  if (tcp === undefined) throw lastError;
  tcp.setNoDelay(true);
  if (!tls) return new NbSocket(tcp, timeout);
  const tlsOptions = tls === true ? {} : tls;
  let tlsConn: Deno.TlsConn;
  try {
    tlsConn = await Deno.startTls(tcp, {
      hostname: tlsOptions.hostname ?? hostname,
      caCerts: tlsOptions.caCerts,
      alpnProtocols: tlsOptions.alpnProtocols,
    });
  } catch (error) {
    tcp.close();
    throw toIoError(error);
  }
  await handshake(tlsConn, timeout);
  return new NbSocket(tlsConn, timeout);
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
