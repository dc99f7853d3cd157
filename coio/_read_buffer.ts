import { EMPTY } from "./_bytes.ts";
import { closedError, toIoError } from "./_io_errors.ts";
import { FifoLock } from "./_fifo_lock.ts";
import { rawReader, usesCoreOps } from "./_raw_io.ts";
import { trackIo } from "./_runqueue.ts";
import { suspend, type Waiter } from "./_waiter.ts";
import { WouldBlockError } from "./errors.ts";

/** What an {@linkcode NbFile} reads from: `Deno.Conn`, `Deno.FsFile`, stdin... */
export interface ByteReader {
  /** Reads into `p`; resolves to the number of bytes read, `null` at EOF. */
  read(p: Uint8Array): Promise<number | null>;
}

/** The smallest free space a read asks the source to fill. */
export const MIN_READ = 16384;

// Reads that fill all the space they were given double the next one's, up
// to this: bulk transfers get big reads, idle connections small buffers.
const MAX_READ = 262144;

/**
 * The read side shared by a socket and the files made from it: one growable
 * buffer holding `buf[start, end)`, at most one read op in flight (Deno
 * cannot cancel one, so a reader that gives up leaves it running and the
 * next read adopts its bytes) and a FIFO lock for whole read operations.
 */
export class ReadBuffer {
  buf: Uint8Array = EMPTY;
  #view: Uint8Array | undefined = undefined;
  start = 0;
  end = 0;
  closed = false;
  /** Serialises whole read operations, first come first served. */
  readonly lock: FifoLock = new FifoLock();
  source: ByteReader | undefined;
  #minRead: number;
  #readSize: number;
  #opLen = 0;
  #inflight = false;
  #opBuf: Uint8Array = EMPTY;
  #opOff = 0;
  #waiter: Waiter<number> | undefined = undefined;
  #tracked = false;
  #error: unknown = undefined;
  #eofPending = false;
  // Views of consumed bytes were handed out: the array must not be reused.
  #handedOut = false;
  // Bytes added by read ops so far (lets a poll tell what it got).
  #total = 0;
  // The source resolves to 0, not null, at EOF (Deno's core read op).
  #zeroIsEof = false;
  // Called once when a read op settles with no reader waiting (see watch).
  #onReady: (() => void) | undefined = undefined;

  constructor(source: ByteReader | undefined, minRead = MIN_READ) {
    this.source = source;
    this.#minRead = minRead;
    this.#readSize = minRead;
  }

  /**
   * Reads from `conn` through Deno's core read op when possible (see
   * `_raw_io.ts`): no async wrapper, promise or set entry per read.
   */
  setConnSource(conn: Deno.Conn): void {
    // Anything else is read as it is (a wrapper would add a promise per read).
    this.#zeroIsEof = usesCoreOps(conn);
    this.source = this.#zeroIsEof ? { read: rawReader(conn) } : conn;
  }

  /** Sets the space the next reads ask to fill (it still doubles while reads fill it). */
  setReadSize(n: number): void {
    this.#minRead = n;
    this.#readSize = n;
  }

  /** `buf.subarray(0, end)`: bounded searches without a view per search. */
  get view(): Uint8Array {
    return this.#view ??= this.buf.subarray(0, this.end);
  }

  /** Number of buffered bytes. */
  get length(): number {
    return this.end - this.start;
  }

  /** True while a read op is running in the background. */
  get inflight(): boolean {
    return this.#inflight;
  }

  /** True when an EOF was read that no reader has reported yet. */
  get eofPending(): boolean {
    return this.#eofPending;
  }

  /** Puts back an EOF that a fill reported, for the next reader. */
  unreadEof(): void {
    this.#eofPending = true;
  }

  /** Drops `n` buffered bytes from the front. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end && !this.#inflight) this.#recycle();
  }

  /**
   * Consumes `n` buffered bytes and returns them as a view of the buffer.
   * The bytes stay valid: memory handed out is never written again (the
   * buffer is replaced instead of compacted or reused).
   */
  takeView(n: number): Uint8Array {
    const start = this.start;
    const out = this.buf.subarray(start, start + n);
    this.#handedOut = true;
    this.consume(n);
    return out;
  }

  /** Copies buffered bytes into `out` (as many as fit) and consumes them. */
  copyOut(out: Uint8Array): number {
    const n = Math.min(out.length, this.end - this.start);
    out.set(this.buf.subarray(this.start, this.start + n));
    this.consume(n);
    return n;
  }

  /** Consumes bytes `[start, start + n)` and returns `[start, start + k)`. */
  takeViewOf(n: number, k: number): Uint8Array {
    const start = this.start;
    const out = this.buf.subarray(start, start + k);
    this.#handedOut = true;
    this.consume(n);
    return out;
  }

  /** The buffer is empty: start over at offset 0, or in a new array. */
  #recycle(): void {
    this.start = 0;
    if (this.#handedOut) {
      // Views of the old array are out there: never write into it again.
      this.#handedOut = false;
      this.buf = EMPTY;
    }
    this.#setEnd(0);
  }

  /** Appends bytes to the buffer (never into the region a read op owns). */
  append(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    this.#reserve(n);
    this.buf.set(bytes, this.end);
    this.#setEnd(this.end + n);
  }

  /** Prepends bytes to the buffer. */
  prepend(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    if (this.start >= n && !this.#handedOut) {
      this.start -= n;
      this.buf.set(bytes, this.start);
      return;
    }
    const length = this.end - this.start;
    const next = new Uint8Array(
      Math.max(this.buf.length, grow(n + length + this.#minRead)),
    );
    next.set(bytes, 0);
    next.set(this.buf.subarray(this.start, this.end), n);
    this.#handedOut = false;
    this.buf = next;
    this.start = 0;
    this.#setEnd(n + length);
  }

  /** Makes room for `n` more bytes at `end`, outside any in-flight op's region. */
  #reserve(n: number): void {
    const length = this.end - this.start;
    if (!this.#inflight && this.buf.length - this.end >= n) return;
    if (
      !this.#inflight && !this.#handedOut && this.start > 0 &&
      this.buf.length - length >= n
    ) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      // A new array: a read op may still target the old one, or views of
      // it may have been handed out.
      this.#handedOut = false;
      const next = new Uint8Array(grow(length + n));
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
    }
    this.start = 0;
    this.#setEnd(length);
  }

  #setEnd(end: number): void {
    this.end = end;
    // Made when a search needs it: most fills are never searched.
    this.#view = undefined;
  }

  /**
   * Waits for one read op to add bytes to the buffer and resolves to the
   * number added, 0 at EOF. `timeout` follows coio rules (0: only what is
   * ready now, else `WouldBlockError`). A cancelled fill leaves the op running.
   */
  fill(timeout: number | null, signal?: AbortSignal): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    if (this.#eofPending) {
      this.#eofPending = false;
      return Promise.resolve(0);
    }
    if (this.source === undefined) {
      return Promise.reject(closedError("file not open for reading; it"));
    }
    if (!this.#inflight) this.#startRead();
    if (timeout === 0) return this.#poll();
    return suspend<number>(
      this.#park,
      timeout === null && signal === undefined
        ? undefined
        : { timeout, signal },
    );
  }

  /**
   * Lets a read op run with no reader waiting and calls `onReady` once it
   * settles (bytes, EOF or an error, kept for the next reader): an idle
   * connection then needs no tasklet. False, and no call, when something
   * can be read now. Closing the buffer drops the call.
   */
  watch(onReady: () => void): boolean {
    if (
      this.closed || this.end > this.start || this.#eofPending ||
      this.#error !== undefined || this.source === undefined ||
      this.lock.locked || this.#waiter !== undefined
    ) {
      return false;
    }
    if (!this.#inflight) this.#startRead();
    this.#onReady = onReady;
    // The scheduler yields more often while I/O is in flight.
    if (!this.#tracked) {
      this.#tracked = true;
      trackIo(1);
    }
    return true;
  }

  /** Calls the `watch` callback, if any (a read op settled with no reader). */
  #ready(): void {
    const onReady = this.#onReady;
    if (onReady === undefined) return;
    this.#onReady = undefined;
    onReady();
  }

  /** Starts a read op into the free tail of the buffer. */
  #startRead(): void {
    if (this.start === this.end) this.#recycle();
    if (this.buf.length - this.end < this.#readSize) {
      this.#reserve(this.#readSize);
    }
    this.#inflight = true;
    this.#opBuf = this.buf;
    this.#opOff = this.end;
    this.#opLen = this.buf.length - this.end;
    let op: Promise<number | null>;
    try {
      // Reads mostly land at the start of the buffer: no new view then.
      const end = this.end;
      op = this.source!.read(end === 0 ? this.buf : this.buf.subarray(end));
    } catch (error) {
      op = Promise.reject(error);
    }
    op.then(this.#onRead, this.#onError);
  }

  // A poll with timeout 0: an op that completes at once (the data was ready)
  // settles within a microtask or two; anything slower would block.
  async #poll(): Promise<number> {
    const mark = this.#total;
    await null;
    await null;
    await null;
    if (this.#total > mark) return this.#total - mark;
    // Settled without data: an EOF or an error is pending; fill() reports it.
    if (!this.#inflight) return this.fill(null);
    throw new WouldBlockError();
  }

  #park = (waiter: Waiter<number>): void => {
    this.#waiter = waiter;
    // A reader that comes first takes the op over from a watch.
    this.#onReady = undefined;
    waiter.onCancel = this.#unpark;
    if (!this.#tracked) {
      this.#tracked = true;
      trackIo(1);
    }
  };

  #unpark = (): void => {
    this.#waiter = undefined;
    this.#untrack();
  };

  #untrack(): void {
    if (this.#tracked) {
      this.#tracked = false;
      trackIo(-1);
    }
  }

  #onRead = (n: number | null): void => {
    if (n === 0 && this.#zeroIsEof) n = null;
    this.#inflight = false;
    this.#untrack();
    const opBuf = this.#opBuf;
    this.#opBuf = EMPTY;
    if (this.closed) return;
    let added = 0;
    if (n !== null && n > 0) {
      added = n;
      this.#total += n;
      if (n === this.#opLen && this.#readSize < MAX_READ) this.#readSize *= 2;
      if (opBuf === this.buf && this.#opOff === this.end) {
        this.#setEnd(this.end + n);
      } else {
        this.append(opBuf.subarray(this.#opOff, this.#opOff + n));
      }
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) {
      waiter.resume(added);
    } else {
      if (n === null) this.#eofPending = true;
      this.#ready();
    }
  };

  #onError = (error: unknown): void => {
    this.#inflight = false;
    this.#untrack();
    this.#opBuf = EMPTY;
    if (this.closed) return;
    const mapped = toIoError(error);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) {
      waiter.fail(mapped);
    } else {
      this.#error = mapped;
      this.#ready();
    }
  };

  /**
   * Marks the buffer closed: waiting readers fail with `EBADF`; an op still
   * in flight ends when its source is closed and its result is dropped.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#onReady = undefined;
    this.#untrack();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.fail(closedError());
    this.lock.failAll(closedError);
    this.buf = EMPTY;
    this.#view = undefined;
    this.start = this.end = 0;
    this.#handedOut = false;
  }
}

/** A buffer capacity >= n: the next power of two. */
function grow(n: number): number {
  let size = 1024;
  while (size < n) size *= 2;
  return size;
}
