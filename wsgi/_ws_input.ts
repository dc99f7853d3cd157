// The read side of a WebSocket: a buffer filled straight from the
// connection. Each wait is a coio wait (kill, raise and timeout scopes reach
// it); a read that is given up stays in flight and the next fill adopts its
// bytes, so nothing is lost.

import { SocketError } from "../coio/mod.ts";
import { suspend, type Waiter } from "../coio/_waiter.ts";

const MIN_READ = 16384;
const MAX_READ = 262144;

/** A growable buffer holding `buf[start, end)`, filled by reads of `conn`. */
export class WebSocketInput {
  buf: Uint8Array;
  start = 0;
  end = 0;
  #conn: Deno.Conn;
  // The read in flight, and its outcome once it settled (not yet adopted).
  // Its handlers are bound once, not made per read: this is the hot path.
  #pending = false;
  #settled = false;
  #got: number | null = null;
  #readError: unknown = undefined;
  #waiter: Waiter<void> | undefined = undefined;
  #eof = false;
  #readSize = MIN_READ;

  /** Reads `conn`, starting with the bytes already read from it (`initial`). */
  constructor(conn: Deno.Conn, initial: Uint8Array) {
    this.#conn = conn;
    this.buf = new Uint8Array(Math.max(MIN_READ, initial.length * 2));
    this.buf.set(initial);
    this.end = initial.length;
  }

  /** Number of buffered bytes. */
  get length(): number {
    return this.end - this.start;
  }

  /** Drops `n` buffered bytes from the front. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end && !this.#pending) {
      this.start = this.end = 0;
    }
  }

  /**
   * Reads until at least `n` bytes are buffered, or EOF; resolves to the
   * number buffered.
   * @throws {SocketError} when the connection fails.
   */
  async fill(n: number): Promise<number> {
    while (this.end - this.start < n && !this.#eof) {
      const wait = this.wait(n);
      if (wait !== undefined) await wait;
      this.adopt();
    }
    return this.end - this.start;
  }

  /** True once the peer's EOF was read. */
  get eof(): boolean {
    return this.#eof;
  }

  /**
   * Starts a read (room for `n` bytes or more) unless one is in flight, and
   * returns the wait for it to settle (a coio wait), or `undefined` when it
   * has settled already; then {@linkcode adopt} takes its bytes. A cancelled
   * wait leaves the read in flight: a later wait adopts it.
   */
  wait(n: number): Promise<void> | undefined {
    if (!this.#pending) {
      this.#reserve(n);
      this.#pending = true;
      this.#settled = false;
      // An empty buffer is read into whole, without a view made for it.
      const space = this.end === 0 ? this.buf : this.buf.subarray(this.end);
      this.#conn.read(space).then(this.#onRead, this.#onReadError);
    }
    return this.#settled ? undefined : suspend(this.#park);
  }

  /**
   * Takes the outcome of the read that settled into the buffer (nothing at
   * EOF: then `eof` is true).
   * @throws {SocketError} when the connection failed.
   */
  adopt(): void {
    this.#pending = false;
    const got = this.#got;
    const error = this.#readError;
    this.#readError = undefined;
    if (error !== undefined) throw toSocketError(error) ?? error;
    if (got === null) {
      this.#eof = true;
      return;
    }
    // Reads that fill their space get bigger ones, up to MAX_READ.
    if (got === this.buf.length - this.end && this.#readSize < MAX_READ) {
      this.#readSize *= 2;
    }
    this.end += got;
  }

  #park = (waiter: Waiter<void>): void => {
    this.#waiter = waiter;
  };

  #onRead = (got: number | null): void => {
    this.#got = got;
    this.#readDone();
  };

  #onReadError = (error: unknown): void => {
    this.#got = null;
    this.#readError = error ?? new Error("read failed");
    this.#readDone();
  };

  #readDone(): void {
    this.#settled = true;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resume(undefined); // false (ignored) if the wait was cancelled
    }
  }

  /** Makes room for a read that brings the buffer to `n` bytes or more. */
  #reserve(n: number): void {
    const length = this.end - this.start;
    const want = Math.max(n - length, this.#readSize);
    if (this.buf.length - this.end >= want) return;
    if (this.buf.length - length >= want && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const next = new Uint8Array(length + want);
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
    }
    this.start = 0;
    this.end = length;
  }
}

/**
 * A `SocketError` for an error of a Deno I/O call, or `undefined` for any
 * other error (a cancellation of the wait).
 */
export function toSocketError(error: unknown): SocketError | undefined {
  if (error instanceof SocketError) return error;
  if (!(error instanceof Error) || !(error.name in Deno.errors)) {
    return undefined;
  }
  const code = error instanceof Deno.errors.BadResource
    ? "EBADF"
    : error instanceof Deno.errors.BrokenPipe
    ? "EPIPE"
    : "ECONNRESET";
  return new SocketError(code, error.message, { cause: error });
}
