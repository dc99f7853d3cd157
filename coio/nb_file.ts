import {
  checkInteger,
  checkSize,
  EMPTY,
  indexOfBytes,
  lastIndexOfBytes,
  latin1,
  sliceIndex,
  toBytes,
  toDelimiter,
  toPattern,
} from "./_bytes.ts";
import { FifoLock } from "./_fifo_lock.ts";
import { closedError, toIoError } from "./_io_errors.ts";
import { type ByteReader, MIN_READ, ReadBuffer } from "./_read_buffer.ts";
import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";
import { TimeoutError, WouldBlockError } from "./errors.ts";

export type { ByteReader };

/** What an {@linkcode NbFile} writes to: `Deno.Conn`, `Deno.FsFile`, stdout... */
export interface ByteWriter {
  /** Writes some of `p`; resolves to the number of bytes written. */
  write(p: Uint8Array): Promise<number>;
}

/** Options for the {@linkcode NbFile} constructor. */
export interface NbFileOptions {
  /**
   * Write buffering: `0` unbuffered, `1` line-buffered, `2` buffer until
   * `flush()`, `>= 3` a block size (see {@linkcode NbFile.writeBufferLimit}).
   * @default {8192}
   */
  writeBufferLimit?: number;
  /**
   * Milliseconds each wait of a read or write may take: `null` forever, `0`
   * never wait (`WouldBlockError`), `> 0` then `TimeoutError`.
   * @default {null}
   */
  timeout?: number | null;
  /**
   * The least free buffer space each read from the source asks to fill.
   * @default {16384}
   */
  readBufferSize?: number;
  /**
   * What the first `close()` does once the write buffer is flushed; its
   * (awaited) result is what `close()` resolves to. By default `close()`
   * closes the reader and the writer (each once) if they have a `close()`.
   */
  onClose?: () => unknown;
}

const DEFAULT_WRITE_BUFFER_LIMIT = 8192;
const NEWLINE = 10;
const CR = 13;
const RESOLVED: Promise<void> = Promise.resolve();
const encoder = new TextEncoder();

// Set while NbSocket builds a file that shares its read buffer.
let sharedReadBuffer: ReadBuffer | undefined;

/**
 * Drops a file's write buffer if it holds nothing and no write runs (the
 * next write takes one from the spares): an idle connection of the HTTP
 * server keeps no output memory. Internal to the package.
 */
export let releaseWriteBuffer: (file: NbFile) => void;

// Write buffers given back by idle files, by size (1 KiB << i), for the next
// file that needs one: a busy server then allocates no buffer per response
// (allocating an ArrayBuffer costs about 1 µs). At most SPARE_BYTES in all.
const spareWriteBuffers: Uint8Array[][] = [[], [], [], [], [], [], []];
const SPARE_BYTES = 1 << 20;
let spareBytes = 0;

/** A write buffer of `size` bytes (a power of two >= 1 KiB), a spare if any. */
function takeWriteBuffer(size: number): Uint8Array {
  const spares = spareWriteBuffers[Math.log2(size) - 10];
  const spare = spares?.pop();
  if (spare === undefined) return new Uint8Array(size);
  spareBytes -= size;
  return spare;
}

/** Keeps `buffer` (no longer used by anyone) for the next takeWriteBuffer. */
function giveBackWriteBuffer(buffer: Uint8Array): void {
  const spares = spareWriteBuffers[Math.log2(buffer.length) - 10];
  if (spares === undefined || spareBytes + buffer.length > SPARE_BYTES) return;
  spareBytes += buffer.length;
  spares.push(buffer);
}

/**
 * Writes the whole write buffer out without a tasklet wait, then calls
 * `onDone` (or `onFailed` with the error, as `flush()` would throw it).
 * False, and nothing done, when a write or flush is under way: use
 * `flush()` then. Internal to the package: the HTTP server sends a batch of
 * responses this way while its connection goes idle.
 */
export let flushInBackground: (
  file: NbFile,
  onDone: () => void,
  onFailed: (error: unknown) => void,
) => boolean;

/**
 * Starts a read with no reader waiting and calls `onReady` once it settles;
 * false (and no call) when the file can be read at once. See
 * `ReadBuffer.watch`. Internal to the package: it lets an idle connection
 * of the HTTP server wait without a tasklet.
 */
export let watchReadable: (file: NbFile, onReady: () => void) => boolean;

/**
 * Drops `n` buffered bytes at once, what `discard(n)` does when they are
 * buffered and no reader is busy: true if done, false (nothing done) if
 * not, or if the file is closed. Internal to the package: the HTTP server
 * hands back what it parsed this way, without a promise per request.
 */
export let discardBuffered: (file: NbFile, n: number) => boolean;

/**
 * Creates an {@linkcode NbFile} that reads through an existing read buffer
 * (a socket's), so that bytes one of them buffered are never hidden from the
 * other. Closing the file leaves the buffer open.
 */
export function nbFileSharing(
  readBuffer: ReadBuffer,
  writer: ByteWriter | undefined,
  options: NbFileOptions,
): NbFile {
  sharedReadBuffer = readBuffer;
  try {
    return new NbFile(undefined, writer, options);
  } finally {
    sharedReadBuffer = undefined;
  }
}

/**
 * A buffered file over any byte source and/or sink (a `Deno.Conn`, a
 * `Deno.FsFile`, stdin/stdout, a child's pipes): Syncless's `nbfile`. Reads
 * fill one growable buffer and answer from it, so protocol parsers can look
 * at bytes in place (`readUpto`, `find`, `getReadBuffer`, `discard`). Writes
 * are buffered by `writeBufferLimit`.
 *
 * Every wait obeys the file's `timeout`, the current tasklet's kill/raise and
 * any enclosing timeout scope. No byte is ever lost: a read that gives up
 * leaves its read running and the next read takes its bytes; concurrent
 * readers (and writers) are served first come, first served.
 *
 * Strings written are UTF-8. Delimiters and search patterns are byte
 * strings: a number 0-255, or a string whose char codes are all <= 255.
 *
 * The bytes that reads return are views of the read buffer, not copies: the
 * file never writes into memory it has handed out (it moves on to a new
 * buffer instead), so they stay valid, and reading a line allocates no new
 * memory block. Keeping one small result alive keeps its whole buffer block
 * (tens of KiB) alive too: `.slice()` what you store for long.
 *
 * @example Read lines from a socket
 * ```ts
 * import { connect, listen } from "@syncless/syncless/coio";
 *
 * using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await listener.accept();
 * await client.sendall("hello\nworld\n");
 * client.close();
 * const file = server.makefile();
 * for await (const line of file) console.log(new TextDecoder().decode(line));
 * server.close();
 * ```
 */
export class NbFile implements AsyncIterable<Uint8Array> {
  #rb: ReadBuffer;
  #sharedReadBuffer: boolean;
  #reader: ByteReader | undefined;
  #writer: ByteWriter | undefined;
  #timeout: number | null;
  #closed = false;
  #closeResult: Promise<unknown> | undefined = undefined;
  #onClose: (() => unknown) | undefined;
  // Bytes the last readline consumed (the limit reader counts them).
  #consumed = 0;

  // Write side: pending bytes are wbuf[wstart, wend).
  #wlimit: number;
  static {
    releaseWriteBuffer = (file) => {
      if (
        !file.#wlock.locked && !file.#wInflight &&
        file.#wend === file.#wstart &&
        file.#wbuf !== EMPTY
      ) {
        giveBackWriteBuffer(file.#wbuf);
        file.#wbuf = file.#wView = file.#wViewOf = EMPTY;
        file.#wstart = file.#wend = 0;
      }
    };
    flushInBackground = (file, onDone, onFailed) =>
      file.#flushInBackground(onDone, onFailed);
    watchReadable = (file, onReady) => !file.#closed && file.#rb.watch(onReady);
    discardBuffered = (file, n) => !file.#closed && file.#discardNow(n);
  }

  #wbuf: Uint8Array = EMPTY;
  #wstart = 0;
  #wend = 0;
  #wlock = new FifoLock();
  #wInflight = false;
  // A write op whose waiter gave up: it covers the first bytes of wbuf.
  #wDetached = false;
  #wWaiter: Waiter<number> | undefined = undefined;
  #wSrc: Uint8Array = EMPTY;
  // The view the last write op was given, and of what: a server writing
  // answers of one size from one buffer makes it once.
  #wView: Uint8Array = EMPTY;
  #wViewOf: Uint8Array = EMPTY;
  #wViewOff = 0;
  #wOff = 0;
  #wEnd = 0;
  #wLastN = 0;
  #wError: unknown = undefined;
  // Set while flushInBackground runs: the write ops' handlers go on with it.
  #bgDone: (() => void) | undefined = undefined;
  #bgFailed: ((error: unknown) => void) | undefined = undefined;

  /**
   * Wraps a byte source and/or sink. Either may be `undefined` for a
   * read-only or write-only file (using the missing side throws
   * `SocketError` `EBADF`).
   *
   * @example A file over a pair of streams
   * ```ts
   * import { NbFile } from "@syncless/syncless/coio";
   *
   * const out = new NbFile(undefined, Deno.stdout, { writeBufferLimit: 1 });
   * await out.write("line-buffered\n");
   * ```
   */
  constructor(
    reader?: ByteReader,
    writer?: ByteWriter,
    options: NbFileOptions = {},
  ) {
    const {
      writeBufferLimit = DEFAULT_WRITE_BUFFER_LIMIT,
      timeout = null,
      readBufferSize = MIN_READ,
      onClose,
    } = options;
    checkTimeout(timeout);
    checkSize(writeBufferLimit, "writeBufferLimit");
    checkSize(readBufferSize, "readBufferSize");
    if (reader !== undefined && typeof reader.read !== "function") {
      throw new TypeError("reader must have a read(p) method");
    }
    if (writer !== undefined && typeof writer.write !== "function") {
      throw new TypeError("writer must have a write(p) method");
    }
    this.#sharedReadBuffer = sharedReadBuffer !== undefined;
    this.#rb = sharedReadBuffer ??
      new ReadBuffer(reader, Math.max(readBufferSize, 16));
    this.#reader = reader;
    this.#writer = writer;
    this.#timeout = timeout;
    this.#wlimit = writeBufferLimit;
    this.#onClose = onClose;
  }

  // ---------------------------------------------------------------- state

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The per-wait timeout in milliseconds (`null`: wait forever). */
  get timeout(): number | null {
    return this.#timeout;
  }

  /** Sets the per-wait timeout; `null` waits forever, `0` never waits. */
  settimeout(ms: number | null): void {
    checkTimeout(ms);
    this.#timeout = ms ?? null;
  }

  /** Number of bytes read from the source and not consumed yet. */
  get readBufferLength(): number {
    return this.#rb.length;
  }

  /** Number of bytes written to the file and not yet to its sink. */
  get writeBufferLength(): number {
    return this.#wend - this.#wstart;
  }

  /**
   * Write buffering: `0` writes at once; `1` writes through the last newline
   * of each write (line buffering); `2` buffers until `flush()` or
   * `close()`; `>= 3` buffers up to that many bytes, and writes of at least
   * that size bypass the buffer. Setting it never flushes.
   */
  get writeBufferLimit(): number {
    return this.#wlimit;
  }

  set writeBufferLimit(limit: number) {
    checkSize(limit, "writeBufferLimit");
    this.#wlimit = limit;
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads exactly `n` bytes (fewer only at EOF; empty at EOF). With `n < 0`
   * (the default) reads everything up to EOF.
   * @example Read a length-prefixed record
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("5:hello");
   * a.close();
   * const file = b.makefile();
   * const header = await file.readline(-1, ":");
   * const length = Number(new TextDecoder().decode(header.subarray(0, -1)));
   * console.log(new TextDecoder().decode(await file.read(length))); // "hello"
   * b.close();
   * ```
   */
  read(n = -1): Promise<Uint8Array> {
    try {
      checkInteger(n, "n");
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (n === 0) return Promise.resolve(new Uint8Array(0));
    const rb = this.#rb;
    if (n > 0 && !rb.lock.locked && rb.length >= n) {
      return Promise.resolve(rb.takeView(n));
    }
    return this.#readSlow(n);
  }

  async #readSlow(n: number): Promise<Uint8Array> {
    const rb = this.#rb;
    await this.#lock();
    try {
      while (n < 0 || rb.length < n) {
        if (await rb.fill(this.#timeout) === 0) break;
      }
      return rb.takeView(n < 0 ? rb.length : Math.min(n, rb.length));
    } finally {
      rb.lock.release();
    }
  }

  /**
   * Returns up to `n` bytes: what is buffered, or else what one read from
   * the source brings. Empty at EOF (or for `n === 0`).
   * @throws {RangeError} when `n` is negative.
   * @example Take what has arrived
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("some bytes");
   * a.close();
   * const file = b.makefile();
   * console.log((await file.readAtMost(4)).length); // 4
   * b.close();
   * ```
   */
  readAtMost(n: number): Promise<Uint8Array> {
    try {
      checkSize(n, "n");
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    const rb = this.#rb;
    if (n === 0) return Promise.resolve(new Uint8Array(0));
    if (!rb.lock.locked && rb.length > 0) {
      return Promise.resolve(rb.takeView(Math.min(n, rb.length)));
    }
    return this.#readAtMostSlow(n);
  }

  async #readAtMostSlow(n: number): Promise<Uint8Array> {
    const rb = this.#rb;
    await this.#lock();
    try {
      if (rb.length === 0) await rb.fill(this.#timeout);
      return rb.takeView(Math.min(n, rb.length));
    } finally {
      rb.lock.release();
    }
  }

  /**
   * Reads up to `buf.length` bytes into `buf`: what is buffered, or else what
   * one read from the source brings. Resolves to the number of bytes, 0 at
   * EOF. Nothing is allocated, and the read buffer is reused.
   * @example Reuse one buffer for a bulk transfer
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall(new Uint8Array(100_000));
   * a.close();
   * const file = b.makefile();
   * const buf = new Uint8Array(65536);
   * let total = 0;
   * for (let n; (n = await file.readInto(buf)) > 0;) total += n;
   * console.log(total); // 100000
   * b.close();
   * ```
   */
  readInto(buf: Uint8Array): Promise<number> {
    try {
      if (!(buf instanceof Uint8Array)) {
        throw new TypeError("readInto() needs a Uint8Array");
      }
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    const rb = this.#rb;
    if (buf.length === 0) return Promise.resolve(0);
    if (!rb.lock.locked && rb.length > 0) {
      return Promise.resolve(rb.copyOut(buf));
    }
    return this.#readIntoSlow(buf);
  }

  async #readIntoSlow(buf: Uint8Array): Promise<number> {
    const rb = this.#rb;
    await this.#lock();
    try {
      if (rb.length === 0) await rb.fill(this.#timeout);
      return rb.copyOut(buf);
    } finally {
      rb.lock.release();
    }
  }

  /**
   * Reads one line, delimiter included. At EOF returns the partial last line,
   * then empty arrays. With `limit >= 0` returns at most `limit` bytes (the
   * rest stays buffered), and `limit === 0` returns at once.
   * @param limit the most bytes to return; negative for no limit.
   * @param delim the one-byte delimiter. @default {"\n"}
   * @throws {TypeError} when `delim` is not one byte.
   * @example Lines with a length limit
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("a very long line\nshort\n");
   * a.close();
   * const file = b.makefile();
   * const decoder = new TextDecoder();
   * console.log(decoder.decode(await file.readline(6))); // "a very"
   * console.log(decoder.decode(await file.readline())); // " long line\n"
   * console.log(decoder.decode(await file.readline())); // "short\n"
   * console.log((await file.readline()).length); // 0: EOF
   * b.close();
   * ```
   */
  readline(limit = -1, delim?: number | string): Promise<Uint8Array> {
    let d: number;
    try {
      checkInteger(limit, "limit");
      d = toDelimiter(delim, NEWLINE);
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (limit === 0) return Promise.resolve(new Uint8Array(0));
    if (!this.#rb.lock.locked) {
      const line = this.#takeLine(limit, d, false, 0);
      if (line !== undefined) return Promise.resolve(line);
    }
    return this.#readlineSlow(limit, d);
  }

  async #readlineSlow(limit: number, d: number): Promise<Uint8Array> {
    const rb = this.#rb;
    await this.#lock();
    try {
      // Bytes already searched: a long line is scanned once, not per fill.
      let scanned = 0;
      for (;;) {
        const line = this.#takeLine(limit, d, false, scanned);
        if (line !== undefined) return line;
        scanned = rb.length;
        if (await rb.fill(this.#timeout) === 0) {
          return this.#takeLine(limit, d, true, scanned)!;
        }
      }
    } finally {
      rb.lock.release();
    }
  }

  #takeLine(
    limit: number,
    d: number,
    eof: boolean,
    scanned: number,
  ): Uint8Array | undefined {
    const rb = this.#rb;
    const start = rb.start;
    const available = rb.end - start;
    const i = rb.view.indexOf(d, start + scanned);
    if (i >= 0 && (limit < 0 || i - start < limit)) {
      this.#consumed = i + 1 - start;
      return rb.takeView(this.#consumed);
    }
    if (limit >= 0 && available >= limit) {
      this.#consumed = limit;
      return rb.takeView(limit);
    }
    if (!eof) return undefined;
    this.#consumed = available;
    return rb.takeView(available);
  }

  /**
   * Like {@linkcode readline}, but without the delimiter: by default a `\n`
   * and one `\r` right before it (in the same call's `limit` window); with
   * `delim` exactly that byte. Resolves to `null` at EOF; a partial last
   * line, or a line cut by `limit`, is returned as it is.
   * @throws {TypeError} when `delim` is not one byte.
   * @example Header lines without CRLF
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("Host: example.com\r\nAccept: text/plain\r\n\r\n");
   * a.close();
   * const file = b.makefile();
   * const decoder = new TextDecoder();
   * for (let line; (line = await file.readlineStripend()) !== null && line.length > 0;) {
   *   console.log(decoder.decode(line)); // "Host: example.com", then "Accept: text/plain"
   * }
   * b.close();
   * ```
   */
  readlineStripend(
    limit = -1,
    delim?: number | string,
  ): Promise<Uint8Array | null> {
    let d: number;
    try {
      checkInteger(limit, "limit");
      d = toDelimiter(delim, -1);
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (limit === 0) return Promise.resolve(null);
    if (!this.#rb.lock.locked) {
      const line = this.#takeStripped(limit, d, false, 0);
      if (line !== undefined) return Promise.resolve(line);
    }
    return this.#readlineStripendSlow(limit, d);
  }

  async #readlineStripendSlow(
    limit: number,
    d: number,
  ): Promise<Uint8Array | null> {
    const rb = this.#rb;
    await this.#lock();
    try {
      let scanned = 0;
      for (;;) {
        const line = this.#takeStripped(limit, d, false, scanned);
        if (line !== undefined) return line;
        scanned = rb.length;
        if (await rb.fill(this.#timeout) === 0) {
          return this.#takeStripped(limit, d, true, scanned)!;
        }
      }
    } finally {
      rb.lock.release();
    }
  }

  #takeStripped(
    limit: number,
    d: number,
    eof: boolean,
    scanned: number,
  ): Uint8Array | null | undefined {
    const rb = this.#rb;
    const start = rb.start;
    const available = rb.end - start;
    const i = rb.view.indexOf(d < 0 ? NEWLINE : d, start + scanned);
    if (i >= 0 && (limit < 0 || i - start < limit)) {
      let lineEnd = i;
      if (d < 0 && lineEnd > start && rb.buf[lineEnd - 1] === CR) lineEnd--;
      this.#consumed = i + 1 - start;
      return rb.takeViewOf(this.#consumed, lineEnd - start);
    }
    if (limit >= 0 && available >= limit) {
      this.#consumed = limit;
      return rb.takeView(limit);
    }
    if (!eof) return undefined;
    this.#consumed = available;
    return available === 0 ? null : rb.takeView(available);
  }

  /**
   * Reads until at least `n` bytes are buffered or EOF, without consuming
   * any; resolves to the number buffered (which may exceed `n`).
   * @example Parse in place: look, then consume
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("HEAD\r\n\r\nBODY");
   * a.close();
   * const file = b.makefile();
   * while (file.find("\r\n\r\n") < 0) {
   *   const before = file.readBufferLength;
   *   if (await file.readUpto(before + 1) === before) break; // EOF
   * }
   * const end = file.find("\r\n\r\n");
   * console.log(file.getString(0, end)); // "HEAD"
   * await file.discard(end + 4);
   * console.log(file.getString()); // "BODY"
   * b.close();
   * ```
   */
  readUpto(n: number): Promise<number> {
    try {
      checkInteger(n, "n");
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    const rb = this.#rb;
    if (rb.length >= n) return Promise.resolve(rb.length);
    return this.#readUptoSlow(n);
  }

  async #readUptoSlow(n: number): Promise<number> {
    const rb = this.#rb;
    await this.#lock();
    try {
      while (rb.length < n) {
        if (await rb.fill(this.#timeout) === 0) break;
      }
      return rb.length;
    } finally {
      rb.lock.release();
    }
  }

  /**
   * Reads at least `n` more bytes into the buffer (fewer only at EOF),
   * without consuming any; resolves to the number added (which may exceed
   * `n`). `n <= 0` does nothing.
   * @example Read at least a few more bytes
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("abcdef");
   * a.close();
   * const file = b.makefile();
   * console.log(await file.readMore(2) >= 2); // true
   * console.log(file.getString()); // "abcdef" (or a prefix of it)
   * b.close();
   * ```
   */
  readMore(n: number): Promise<number> {
    try {
      checkInteger(n, "n");
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (n <= 0) return Promise.resolve(0);
    return this.#readMoreSlow(n);
  }

  async #readMoreSlow(n: number): Promise<number> {
    const rb = this.#rb;
    await this.#lock();
    try {
      let added = 0;
      while (added < n) {
        const got = await rb.fill(this.#timeout);
        if (got === 0) break;
        added += got;
      }
      return added;
    } finally {
      rb.lock.release();
    }
  }

  /**
   * Consumes `n` bytes, reading as needed but never past them; resolves to
   * the number that could not be discarded because EOF came first.
   * @example Skip a fixed-size header
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("HDRpayload");
   * a.close();
   * const file = b.makefile();
   * console.log(await file.discard(3)); // 0: all 3 bytes skipped
   * console.log(new TextDecoder().decode(await file.read())); // "payload"
   * b.close();
   * ```
   */
  discard(n: number): Promise<number> {
    try {
      checkInteger(n, "n");
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (n <= 0 || this.#discardNow(n)) return Promise.resolve(0);
    return this.#discardSlow(n);
  }

  /** Drops `n` bytes if they are buffered and no reader is busy; false if not. */
  #discardNow(n: number): boolean {
    const rb = this.#rb;
    if (rb.lock.locked || rb.length < n) return false;
    rb.consume(n);
    return true;
  }

  async #discardSlow(n: number): Promise<number> {
    const rb = this.#rb;
    await this.#lock();
    try {
      for (;;) {
        const k = Math.min(n, rb.length);
        rb.consume(k);
        n -= k;
        if (n === 0) return 0;
        if (await rb.fill(this.#timeout) === 0) return n;
      }
    } finally {
      rb.lock.release();
    }
  }

  /**
   * Waits until data is buffered or EOF was reached (both: true) or `ms`
   * passes (false). Consumes nothing. `ms` defaults to the file's timeout;
   * `options.signal` cancels the wait (it rejects with `signal.reason`).
   */
  async waitForReadable(
    ms: number | null = this.#timeout,
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    checkTimeout(ms);
    this.#checkReadable();
    const { signal } = options;
    const rb = this.#rb;
    if (rb.length > 0 || rb.eofPending) return true;
    try {
      await (rb.lock.acquire(ms, signal) ?? RESOLVED);
    } catch (error) {
      if (isTimeout(error)) return false;
      throw error;
    }
    try {
      if (rb.length > 0 || rb.eofPending) return true;
      if (await rb.fill(ms, signal) === 0) rb.unreadEof();
      return true;
    } catch (error) {
      if (isTimeout(error)) return false;
      throw error;
    } finally {
      rb.lock.release();
    }
  }

  /** True when a read would return at once: data is buffered or EOF is known. */
  get readable(): boolean {
    return this.#rb.length > 0 || this.#rb.eofPending;
  }

  /** Reads all lines up to EOF, each with its delimiter. */
  async readlines(): Promise<Uint8Array[]> {
    const lines: Uint8Array[] = [];
    for await (const line of this) lines.push(line);
    return lines;
  }

  /**
   * Iterates over lines, each with its `\n` (the last one may lack it), up
   * to EOF. Buffered lines are answered without waiting.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return new LineIterator(this);
  }

  /** @internal The line iterator's fast path: a buffered line, or undefined. */
  _bufferedLine(): Uint8Array | undefined {
    if (this.#closed || this.#rb.lock.locked) return undefined;
    return this.#takeLine(-1, NEWLINE, false, 0);
  }

  /** @internal Bytes the last readline/readlineStripend consumed. */
  _consumed(): number {
    return this.#consumed;
  }

  // ------------------------------------------------- buffer inspection

  /**
   * The offset of the first `sub` inside the buffered bytes
   * `[start, end)` (Python slice rules), or -1. No I/O.
   * @example Find a delimiter in the buffer
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("key=value;");
   * a.close();
   * const file = b.makefile();
   * await file.readUpto(10);
   * console.log(file.find("=")); // 3
   * console.log(file.find(";", 4)); // 9
   * b.close();
   * ```
   */
  find(sub: Uint8Array | string, start?: number, end?: number): number {
    const pattern = toPattern(sub);
    const rb = this.#rb;
    const length = rb.length;
    const from = sliceIndex(start, length, 0);
    const to = sliceIndex(end, length, length);
    if (from > to) return -1;
    const i = indexOfBytes(rb.buf, pattern, rb.start + from, rb.start + to);
    return i < 0 ? -1 : i - rb.start;
  }

  /** Like {@linkcode find}, but the offset of the last `sub`. */
  rfind(sub: Uint8Array | string, start?: number, end?: number): number {
    const pattern = toPattern(sub);
    const rb = this.#rb;
    const length = rb.length;
    const from = sliceIndex(start, length, 0);
    const to = sliceIndex(end, length, length);
    if (from > to) return -1;
    const i = lastIndexOfBytes(rb.buf, pattern, rb.start + from, rb.start + to);
    return i < 0 ? -1 : i - rb.start;
  }

  /**
   * A copy of buffered bytes `[start, end)` (Python slice rules) as a byte
   * string (latin1: one char per byte). No I/O.
   */
  getString(start?: number, end?: number): string {
    return latin1(this.getReadBuffer(start, end));
  }

  /**
   * A view of buffered bytes `[start, end)` (Python slice rules): writing
   * into it changes the buffered data. Valid until the next read, discard,
   * unread or close.
   * @example Look at buffered bytes without copying
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("\x01\x02rest");
   * a.close();
   * const file = b.makefile();
   * await file.readUpto(2);
   * const [major, minor] = file.getReadBuffer(0, 2);
   * console.log(major, minor); // 1 2
   * b.close();
   * ```
   */
  getReadBuffer(start?: number, end?: number): Uint8Array {
    const rb = this.#rb;
    const length = rb.length;
    const from = sliceIndex(start, length, 0);
    const to = sliceIndex(end, length, length);
    if (from >= to) return EMPTY;
    return rb.buf.subarray(rb.start + from, rb.start + to);
  }

  /** Puts `data` back in front of the read buffer (a string as UTF-8). */
  unread(data: Uint8Array | string): void {
    this.#checkOpen();
    this.#rb.prepend(toBytes(data).slice());
  }

  /** Appends `data` to the read buffer, as if it had been read. */
  unreadAppend(data: Uint8Array | string): void {
    this.#checkOpen();
    this.#rb.append(toBytes(data));
  }

  // --------------------------------------------------------------- writes

  /**
   * Writes `data` (a string as UTF-8), buffered by `writeBufferLimit`.
   * Resolves once the bytes are buffered or written. On a timeout the
   * unwritten bytes stay in the write buffer and go out with the next write
   * or flush (`discardWriteBuffer()` drops them).
   * @example Buffer output, then flush it
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * const out = a.makefile({ writeBufferLimit: 2 });
   * await out.write("HTTP/1.1 200 OK\r\n");
   * await out.write("Content-Length: 0\r\n\r\n");
   * console.log(out.writeBufferLength); // 38: nothing sent yet
   * await out.flush();
   * a.close();
   * console.log((await b.makefile().read()).length); // 38
   * b.close();
   * ```
   */
  write(data: Uint8Array | string): Promise<void> {
    let bytes: Uint8Array;
    try {
      this.#checkWritable();
      // A string that surely fits is encoded straight into the buffer.
      if (
        typeof data === "string" && !this.#wlock.locked &&
        this.#wError === undefined &&
        (this.#wlimit === 2 ||
          (this.#wlimit >= 3 &&
            this.#wend - this.#wstart + 3 * data.length < this.#wlimit))
      ) {
        this.#reserveWrite(3 * data.length);
        this.#wend += encoder.encodeInto(
          data,
          this.#wbuf.subarray(this.#wend),
        ).written;
        return RESOLVED;
      }
      bytes = toBytes(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const n = bytes.length;
    if (n === 0) return RESOLVED;
    if (!this.#wlock.locked && this.#wError === undefined) {
      const limit = this.#wlimit;
      if (
        limit === 2 ||
        (limit >= 3 && this.#wend - this.#wstart + n < limit) ||
        (limit === 1 && bytes.lastIndexOf(NEWLINE) < 0)
      ) {
        this.#append(bytes);
        return RESOLVED;
      }
    }
    return this.#writeSlow(bytes);
  }

  async #writeSlow(bytes: Uint8Array): Promise<void> {
    await this.#lockWrite();
    try {
      const limit = this.#wlimit;
      if (limit === 2) {
        this.#append(bytes);
      } else if (limit === 0) {
        await this.#drain();
        await this.#sendDirect(bytes);
      } else if (limit === 1) {
        const nl = bytes.lastIndexOf(NEWLINE);
        if (nl < 0) {
          this.#append(bytes);
        } else {
          this.#append(bytes.subarray(0, nl + 1));
          await this.#drain();
          this.#append(bytes.subarray(nl + 1));
        }
      } else {
        const pending = this.#wend - this.#wstart;
        if (pending > 0) {
          if (bytes.length < limit - pending) {
            this.#append(bytes);
            return;
          }
          const head = Math.max(0, limit - pending);
          this.#append(bytes.subarray(0, head));
          bytes = bytes.subarray(head);
          await this.#drain();
        }
        if (bytes.length >= limit) await this.#sendDirect(bytes);
        else this.#append(bytes);
      }
    } finally {
      this.#wlock.release();
    }
  }

  /** Writes each item in turn, as {@linkcode write} does. */
  async writelines(
    items: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
  ): Promise<void> {
    for await (const item of items) await this.write(item);
  }

  /**
   * Writes out the whole write buffer. It may fail after part of it was
   * written; the rest then stays buffered.
   */
  async flush(): Promise<void> {
    this.#checkWritable();
    await this.#lockWrite();
    try {
      await this.#drain();
    } finally {
      this.#wlock.release();
    }
  }

  /**
   * Drops the buffered output that was not handed to the sink yet (the HTTP
   * server does this after an error).
   */
  discardWriteBuffer(): void {
    // Bytes a running write op covers are already on their way.
    if (this.#wInflight && this.#wDetached) {
      this.#wend = Math.min(this.#wend, this.#wstart + this.#wEnd - this.#wOff);
    } else if (!this.#wInflight) {
      this.#wstart = this.#wend = 0;
    }
  }

  #append(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    this.#reserveWrite(n);
    this.#wbuf.set(bytes, this.#wend);
    this.#wend += n;
  }

  /** Makes room for `n` more bytes at the end of the write buffer. */
  #reserveWrite(n: number): void {
    if (this.#wbuf.length - this.#wend < n) {
      const pending = this.#wend - this.#wstart;
      if (!this.#wInflight && this.#wbuf.length - pending >= n) {
        this.#wbuf.copyWithin(0, this.#wstart, this.#wend);
      } else {
        // A new array: a running write op may still be reading the old one.
        let size = Math.max(1024, this.#wbuf.length);
        while (size < pending + n) size *= 2;
        const next = takeWriteBuffer(size);
        next.set(this.#wbuf.subarray(this.#wstart, this.#wend));
        this.#wbuf = next;
      }
      this.#wstart = 0;
      this.#wend = pending;
    }
  }

  /** Writes the whole buffer out (write lock held). */
  async #drain(): Promise<void> {
    this.#throwWriteError();
    if (this.#wInflight) await this.#waitWriteOp();
    while (this.#wend > this.#wstart) {
      const n = await this.#writeOp(this.#wbuf, this.#wstart, this.#wend);
      this.#wstart += n;
    }
    this.#wstart = this.#wend = 0;
  }

  /** Writes `bytes` straight to the sink (write lock held, buffer empty). */
  async #sendDirect(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      off += await this.#writeOp(bytes, off, bytes.length);
    }
  }

  /** One write op for `src[off, end)`; resolves to the bytes it wrote. */
  #writeOp(src: Uint8Array, off: number, end: number): Promise<number> {
    this.#startWriteOp(src, off, end);
    if (this.#timeout === 0) return this.#pollWrite();
    return this.#waitWriteOp();
  }

  /** Hands `src[off, end)` to the sink; #onWritten or #onWriteError follows. */
  #startWriteOp(src: Uint8Array, off: number, end: number): void {
    this.#wInflight = true;
    this.#wSrc = src;
    this.#wOff = off;
    this.#wEnd = end;
    let view = this.#wView;
    if (
      this.#wViewOf !== src || this.#wViewOff !== off ||
      view.length !== end - off
    ) {
      view = this.#wView = src.subarray(off, end);
      this.#wViewOf = src;
      this.#wViewOff = off;
    }
    let op: Promise<number>;
    try {
      op = this.#writer!.write(view);
    } catch (error) {
      op = Promise.reject(error);
    }
    op.then(this.#onWritten, this.#onWriteError);
  }

  #waitWriteOp(): Promise<number> {
    const timeout = this.#timeout;
    return suspend<number>(
      this.#parkWrite,
      timeout === null ? undefined : { timeout },
    );
  }

  async #pollWrite(): Promise<number> {
    await null;
    await null;
    await null;
    if (this.#wInflight) {
      this.#detach();
      throw new WouldBlockError();
    }
    this.#throwWriteError();
    return this.#wLastN;
  }

  #parkWrite = (waiter: Waiter<number>): void => {
    this.#wWaiter = waiter;
    waiter.onCancel = this.#detach;
  };

  // The waiter gave up on a running write op: keep the bytes it covers and
  // the rest in the write buffer, in a fresh array the op does not read.
  #detach = (): void => {
    this.#wWaiter = undefined;
    if (!this.#wInflight || this.#wDetached) return;
    this.#wDetached = true;
    const src = this.#wSrc;
    const off = this.#wOff;
    const rest = src === this.#wbuf
      ? src.subarray(off, this.#wend)
      : src.subarray(off, this.#wEnd);
    const next = new Uint8Array(Math.max(1024, this.#wbuf.length, rest.length));
    next.set(rest);
    this.#wbuf = next;
    this.#wstart = 0;
    this.#wend = rest.length;
    this.#wOff = 0;
    this.#wEnd = this.#wEnd - off;
    this.#wSrc = EMPTY;
  };

  #flushInBackground(
    onDone: () => void,
    onFailed: (error: unknown) => void,
  ): boolean {
    if (
      this.#closed || this.#writer === undefined || this.#wInflight ||
      this.#wError !== undefined || this.#wlock.acquire() !== undefined
    ) {
      return false;
    }
    // The lock is held until the last byte is out: other writers queue.
    this.#bgDone = onDone;
    this.#bgFailed = onFailed;
    this.#bgStep();
    return true;
  }

  /** The next write op of a background flush, or its end. */
  #bgStep(): void {
    if (this.#wend > this.#wstart) {
      this.#startWriteOp(this.#wbuf, this.#wstart, this.#wend);
      return;
    }
    this.#wstart = this.#wend = 0;
    const done = this.#bgDone!;
    this.#bgDone = this.#bgFailed = undefined;
    this.#wlock.release();
    done();
  }

  #onWritten = (n: number): void => {
    this.#wInflight = false;
    this.#wSrc = EMPTY;
    if (this.#bgDone !== undefined) {
      this.#wstart += n;
      this.#bgStep();
      return;
    }
    if (this.#wDetached) {
      this.#wDetached = false;
      this.#wstart = Math.min(this.#wstart + n, this.#wend);
    }
    this.#wLastN = n;
    const waiter = this.#wWaiter;
    this.#wWaiter = undefined;
    waiter?.resume(n);
  };

  #onWriteError = (error: unknown): void => {
    this.#wInflight = false;
    this.#wSrc = EMPTY;
    this.#wDetached = false;
    const mapped = toIoError(error);
    const failed = this.#bgFailed;
    if (failed !== undefined) {
      // What flush() does on a failure: the unwritten rest stays buffered.
      this.#bgDone = this.#bgFailed = undefined;
      this.#wlock.release();
      failed(mapped);
      return;
    }
    const waiter = this.#wWaiter;
    this.#wWaiter = undefined;
    if (waiter !== undefined) waiter.fail(mapped);
    else this.#wError = mapped;
  };

  #throwWriteError(): void {
    const error = this.#wError;
    if (error !== undefined) {
      this.#wError = undefined;
      throw error;
    }
  }

  /**
   * Flushes, then closes only the write side, so the other end reads EOF
   * (a child's stdin, a socket's sending half); reading goes on. Later
   * writes throw `SocketError` `EBADF`.
   */
  async closeWrite(): Promise<void> {
    this.#checkWritable();
    await this.flush();
    const writer = this.#writer as {
      closeWrite?: () => unknown;
      close?: () => unknown;
    };
    this.#writer = undefined;
    if (typeof writer.closeWrite === "function") {
      await writer.closeWrite();
    } else if (writer !== this.#reader && typeof writer.close === "function") {
      await writer.close();
    }
  }

  // ---------------------------------------------------------------- close

  /**
   * Flushes the write buffer, then closes: by default the reader and the
   * writer, or whatever `onClose` does (a `popen()` file resolves to the
   * child's exit status). Later calls resolve to the same result. Waiting
   * readers fail with `SocketError` `EBADF`.
   * @example Close a file, keep its socket
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * const file = a.makefile();
   * await file.write("bye\n");
   * await file.close(); // flushed; the socket stays open
   * await a.sendall("still here\n");
   * a.close();
   * console.log(new TextDecoder().decode(await b.makefile().read())); // "bye\nstill here\n"
   * b.close();
   * ```
   */
  close(): Promise<unknown> {
    this.#closeResult ??= this.#close();
    return this.#closeResult;
  }

  async #close(): Promise<unknown> {
    let flushError: unknown;
    if (this.#writer !== undefined && this.#wend > this.#wstart) {
      try {
        await this.flush();
      } catch (error) {
        flushError = error;
      }
    }
    this.#closed = true;
    this.#wlock.failAll(closedError);
    if (!this.#sharedReadBuffer) this.#rb.close();
    let result: unknown;
    if (this.#onClose !== undefined) {
      result = await this.#onClose();
    } else {
      closeQuietly(this.#reader);
      if (this.#writer !== this.#reader) closeQuietly(this.#writer);
    }
    if (flushError !== undefined) throw flushError;
    return result;
  }

  /** Flushes and closes (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // -------------------------------------------------------------- helpers

  #lock(timeout: number | null = this.#timeout): Promise<void> {
    return this.#rb.lock.acquire(timeout) ?? RESOLVED;
  }

  #lockWrite(): Promise<void> {
    return this.#wlock.acquire(this.#timeout) ?? RESOLVED;
  }

  #checkOpen(): void {
    if (this.#closed || this.#rb.closed) throw closedError();
  }

  #checkReadable(): void {
    this.#checkOpen();
    if (this.#rb.source === undefined) {
      throw closedError("file not open for reading; it");
    }
  }

  #checkWritable(): void {
    if (this.#closed) throw closedError();
    if (this.#writer === undefined) {
      throw closedError("file not open for writing; it");
    }
  }
}

/** Lines of an {@linkcode NbFile}: buffered lines resolve without waiting. */
class LineIterator implements AsyncIterableIterator<Uint8Array> {
  #file: NbFile;
  #done = false;

  constructor(file: NbFile) {
    this.#file = file;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    const line = this.#file._bufferedLine();
    if (line !== undefined) {
      return Promise.resolve({ done: false, value: line });
    }
    return this.#nextSlow();
  }

  async #nextSlow(): Promise<IteratorResult<Uint8Array>> {
    const line = await this.#file.readline();
    if (line.length === 0) {
      this.#done = true;
      return { done: true, value: undefined };
    }
    // A line without its newline only comes at EOF: do not read again.
    if (line[line.length - 1] !== NEWLINE) this.#done = true;
    return { done: false, value: line };
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.#done = true;
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }
}

function closeQuietly(resource: unknown): void {
  const close = (resource as { close?: unknown } | undefined)?.close;
  if (typeof close !== "function") return;
  try {
    close.call(resource);
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof TimeoutError || error instanceof WouldBlockError;
}
