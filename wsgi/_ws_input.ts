// The read side of a WebSocket: a buffer filled straight from the
// connection. Each wait is a coio wait (kill, raise and timeout scopes reach
// it); a read that is given up stays in flight and the next fill adopts its
// bytes, so nothing is lost.

import { SocketError } from "../coio/mod.ts";
import { type RawRead, rawReader } from "../coio/_raw_io.ts";
import { suspend, type Waiter } from "../coio/_waiter.ts";

const MIN_READ = 16384;
const MAX_READ = 262144;

/** A growable buffer holding `buf[start, end)`, filled by reads of `conn`. */
export class WebSocketInput {
  buf: Uint8Array;
  start = 0;
  end = 0;
  #read: RawRead;
  // The read in flight, and its outcome once it settled (not yet adopted).
  // Its handlers are bound once, not made per read: this is the hot path.
  #pending = false;
  #settled = false;
  #got: number | null = null;
  #readError: unknown = undefined;
  #waiter: Waiter<unknown> | undefined = undefined;
  // Set by waitReady(): what the settled read resolves the wait to, and what
  // to call if the wait is cancelled instead.
  #ready: (() => unknown) | undefined = undefined;
  #cancelled: (() => void) | undefined = undefined;
  #eof = false;
  #readSize = MIN_READ;

  /** Reads `conn`, starting with the bytes already read from it (`initial`). */
  constructor(conn: Deno.Conn, initial: Uint8Array) {
    this.#read = rawReader(conn);
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
    if (!this.#pending) this.#startRead(n);
    return this.#settled ? undefined : suspend(this.#park);
  }

  /** True while a read is in flight or settled but not adopted yet. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * Starts a read (room for `n` bytes or more; none may be pending) and
   * returns the wait for it (a coio wait). When the read settles while the
   * wait still stands, `ready()` is called right in the read's callback,
   * before the waiting tasklet resumes: it adopts and parses, and the wait
   * resolves to what it returns (a thenable defers to a later async path).
   * If the wait is cancelled instead (or fails at once), `cancelled()` is
   * called and the read stays in flight for the next wait. `ready` must not
   * wait; an error it throws fails the wait.
   */
  waitReady<R>(
    n: number,
    ready: () => R | PromiseLike<R>,
    cancelled: () => void,
  ): Promise<R> {
    this.#startRead(n);
    this.#ready = ready;
    this.#cancelled = cancelled;
    const wait = suspend(this.#parkReady) as Promise<R>;
    if (this.#waiter === undefined) this.#unpark(); // failed without parking
    return wait;
  }

  #startRead(n: number): void {
    this.#reserve(n);
    this.#pending = true;
    this.#settled = false;
    // An empty buffer is read into whole, without a view made for it.
    const space = this.end === 0 ? this.buf : this.buf.subarray(this.end);
    this.#read(space).then(this.#onRead, this.#onReadError);
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
    this.#waiter = waiter as Waiter<unknown>;
  };

  #parkReady = (waiter: Waiter<unknown>): void => {
    this.#waiter = waiter;
    waiter.onCancel = this.#unpark;
  };

  #unpark = (): void => {
    const cancelled = this.#cancelled;
    this.#waiter = undefined;
    this.#ready = undefined;
    this.#cancelled = undefined;
    cancelled?.();
  };

  #onRead = (got: number): void => {
    this.#got = got === 0 ? null : got; // the space is never empty: EOF
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
    if (waiter === undefined) return;
    this.#waiter = undefined;
    const ready = this.#ready;
    if (ready === undefined) {
      waiter.resume(undefined); // false (ignored) if the wait was cancelled
      return;
    }
    this.#ready = undefined;
    this.#cancelled = undefined;
    waiter.onCancel = undefined;
    let value: unknown;
    try {
      value = ready();
    } catch (error) {
      waiter.fail(error);
      return;
    }
    waiter.resume(value);
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
