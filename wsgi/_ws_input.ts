// The read side of a WebSocket: a buffer filled straight from the
// connection. Each wait is a coio wait (kill, raise and timeout scopes reach
// it); a read that is given up stays in flight and the next fill adopts its
// bytes, so nothing is lost.

import { SocketError, waitFor } from "../coio/mod.ts";

const MIN_READ = 16384;
const MAX_READ = 262144;

/** A growable buffer holding `buf[start, end)`, filled by reads of `conn`. */
export class WebSocketInput {
  buf: Uint8Array;
  start = 0;
  end = 0;
  #conn: Deno.Conn;
  #pending: Promise<number | null> | undefined = undefined;
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
    if (this.start === this.end && this.#pending === undefined) {
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
      if (this.#pending === undefined) {
        this.#reserve(n);
        this.#pending = this.#conn.read(this.buf.subarray(this.end));
      }
      let got: number | null;
      try {
        got = await waitFor(this.#pending);
      } catch (error) {
        const failure = toSocketError(error);
        if (failure === undefined) throw error; // cancelled: the read stays in flight
        this.#pending = undefined;
        throw failure;
      }
      this.#pending = undefined;
      if (got === null) {
        this.#eof = true;
        break;
      }
      // Reads that fill their space get bigger ones, up to MAX_READ.
      if (got === this.buf.length - this.end && this.#readSize < MAX_READ) {
        this.#readSize *= 2;
      }
      this.end += got;
    }
    return this.end - this.start;
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
