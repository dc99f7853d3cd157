import { toBytes } from "./_bytes.ts";
import { closedError, toIoError } from "./_io_errors.ts";
import { rawWriter } from "./_raw_io.ts";
import { ReadBuffer } from "./_read_buffer.ts";
import { checkTimeout } from "./_waiter.ts";
import { type ByteWriter, type NbFile, nbFileSharing } from "./nb_file.ts";
import { waitFor } from "./wait_for.ts";

/** Options for {@linkcode NbSocket.makefile}. */
export interface MakefileOptions {
  /**
   * Write buffering of the file (see {@linkcode NbFile.writeBufferLimit}).
   * @default {8192}
   */
  writeBufferLimit?: number;
}

/** Options for {@linkcode NbSocket.startTls}. */
export interface StartTlsOptions {
  /** The server name to verify the certificate against (and send as SNI). */
  hostname?: string;
  /** PEM CA certificates to trust instead of the system's. */
  caCerts?: string[];
  /** ALPN protocols to offer. */
  alpnProtocols?: string[];
}

/**
 * A connected stream socket (TCP, TLS or Unix) with per-operation timeouts:
 * Syncless's `nbsocket` over a `Deno.Conn`. Every wait obeys the socket's
 * timeout (`null` forever, `0` `WouldBlockError` at once, `> 0`
 * `TimeoutError("timed out")` per wait), the current tasklet's kill/raise
 * and any enclosing timeout scope. A receive that gives up leaves its read
 * running; the next receive gets its bytes.
 *
 * Files from {@linkcode makefile} share the socket's read buffer, so bytes
 * one of them has buffered are never hidden from the other.
 *
 * @example An echo round trip
 * ```ts
 * import { socketpair } from "@syncless/syncless/coio";
 *
 * const [a, b] = await socketpair();
 * await a.sendall("ping");
 * console.log(new TextDecoder().decode(await b.recv(4))); // "ping"
 * a.close();
 * b.close();
 * ```
 */
export class NbSocket {
  #conn: Deno.Conn;
  #rb: ReadBuffer;
  #file: NbFile | undefined = undefined;
  #writer: ByteWriter;
  #timeout: number | null;
  #closed = false;

  /**
   * Wraps a connected `Deno.Conn`; the socket owns it from now on.
   * @param timeout the socket's initial timeout (ms, `null` forever).
   * @example Give up on a silent peer
   * ```ts
   * import { socketpair, TimeoutError } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * b.settimeout(10);
   * try {
   *   await b.recv(1);
   * } catch (error) {
   *   console.log(error instanceof TimeoutError); // true
   * }
   * a.close();
   * b.close();
   * ```
   */
  constructor(conn: Deno.Conn, timeout: number | null = null) {
    checkTimeout(timeout);
    if (conn === null || typeof conn !== "object" || !("read" in conn)) {
      throw new TypeError("NbSocket needs a Deno.Conn");
    }
    this.#conn = conn;
    this.#timeout = timeout;
    this.#rb = new ReadBuffer(undefined);
    this.#rb.setConnSource(conn);
    this.#writer = { write: rawWriter(conn) };
  }

  // The socket's own unbuffered file, made on first use: a server that only
  // reads and writes through makefile() never pays for it.
  get #io(): NbFile {
    return this.#file ??= nbFileSharing(this.#rb, this.#writer, {
      writeBufferLimit: 0,
      timeout: this.#timeout,
      onClose: () => undefined,
    });
  }

  /**
   * The space the next read from the peer asks to fill, in bytes (16 KiB
   * unless set; it doubles, up to 256 KiB, while reads fill it). A server
   * holding many idle connections saves memory with a small size.
   */
  set readBufferSize(n: number) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`readBufferSize must be an integer >= 1, got ${n}`);
    }
    this.#rb.setReadSize(Math.max(n, 16));
  }

  /** The underlying connection (for options coio does not wrap). */
  get conn(): Deno.Conn {
    return this.#conn;
  }

  /** The local address. */
  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sets the per-wait timeout in ms: `null` forever, `0` never wait. */
  settimeout(ms: number | null): void {
    checkTimeout(ms);
    this.#timeout = ms ?? null;
    this.#file?.settimeout(this.#timeout);
  }

  /** The per-wait timeout in ms (`null`: wait forever). */
  gettimeout(): number | null {
    return this.#timeout;
  }

  /** `false` is `settimeout(0)`, `true` is `settimeout(null)`. */
  setblocking(flag: boolean): void {
    this.settimeout(flag ? null : 0);
  }

  /**
   * Receives up to `n` bytes: buffered ones, or what one read brings.
   * Resolves to an empty array at EOF.
   * @throws {RangeError} when `n` is negative.
   * @example Receive what has arrived
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("hello");
   * console.log(new TextDecoder().decode(await b.recv(1024))); // "hello"
   * a.close();
   * console.log((await b.recv(1024)).length); // 0: EOF
   * b.close();
   * ```
   */
  recv(n: number): Promise<Uint8Array> {
    return this.#io.readAtMost(n);
  }

  /**
   * Receives into `buf` (no allocation); resolves to the number of bytes,
   * 0 at EOF.
   */
  recvInto(buf: Uint8Array): Promise<number> {
    return this.#io.readInto(buf);
  }

  /**
   * Sends all of `data` (a string as UTF-8) and resolves to its length.
   * Unlike a raw socket, it never sends only a part.
   * @example Send bytes or text
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("text, as UTF-8");
   * await a.sendall(new Uint8Array([1, 2, 3]));
   * console.log((await b.makefile().readUpto(17)) >= 17); // true
   * a.close();
   * b.close();
   * ```
   * @example Half-close, then read the answer
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("question");
   * await a.shutdown();
   * const asked = await b.makefile().read(); // to EOF
   * await b.sendall(`got ${asked.length} bytes`);
   * console.log(new TextDecoder().decode(await a.recv(100))); // "got 8 bytes"
   * a.close();
   * b.close();
   * ```
   */
  async send(data: Uint8Array | string): Promise<number> {
    const bytes = toBytes(data);
    await this.#io.write(bytes);
    return bytes.length;
  }

  /** Sends all of `data` (a string as UTF-8). */
  async sendall(data: Uint8Array | string): Promise<void> {
    await this.#io.write(data);
  }

  /** Closes the sending side (the peer reads EOF); receiving goes on. */
  async shutdown(): Promise<void> {
    if (this.#closed) throw closedError("socket");
    await this.#io.flush();
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      throw toIoError(error);
    }
  }

  /**
   * A buffered {@linkcode NbFile} over this socket. It copies the socket's
   * timeout now (later changes to either do not affect the other) and
   * shares its read buffer; closing the file does not close the socket.
   * @example A file for line-oriented protocols
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * const file = b.makefile();
   * await a.sendall("PING\r\n");
   * console.log(new TextDecoder().decode((await file.readlineStripend())!)); // "PING"
   * await file.write("PONG\r\n");
   * await file.flush();
   * console.log(new TextDecoder().decode(await a.recv(6))); // "PONG\r\n"
   * a.close();
   * b.close();
   * ```
   */
  makefile(options: MakefileOptions = {}): NbFile {
    if (this.#closed) throw closedError("socket");
    return nbFileSharing(this.#rb, this.#writer, {
      writeBufferLimit: options.writeBufferLimit,
      timeout: this.#timeout,
      onClose: () => undefined,
    });
  }

  /**
   * Upgrades this client connection to TLS (`Deno.startTls`) and completes
   * the handshake. Nothing may be buffered or being read.
   */
  async startTls(options: StartTlsOptions = {}): Promise<void> {
    if (this.#closed) throw closedError("socket");
    if (this.#rb.inflight || this.#rb.length > 0) {
      throw new TypeError(
        "startTls() needs a socket with no buffered or pending reads",
      );
    }
    let tls: Deno.TlsConn;
    try {
      tls = await Deno.startTls(this.#conn as Deno.TcpConn, options);
    } catch (error) {
      throw toIoError(error);
    }
    this.#conn = tls;
    this.#rb.setConnSource(tls);
    // The files made so far share this writer object.
    this.#writer.write = rawWriter(tls);
    await handshake(tls, this.#timeout);
  }

  /** Closes the connection; waiting readers fail with `EBADF`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rb.close();
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** Closes the socket (`using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Completes a TLS handshake, mapping its errors, within `timeout`. */
export async function handshake(
  conn: Deno.TlsConn,
  timeout: number | null,
): Promise<void> {
  try {
    await waitFor(conn.handshake(), timeout === null ? undefined : { timeout });
  } catch (error) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    throw toIoError(error);
  }
}
