// The read side of one connection: a view of the NbFile's read buffer plus
// how much of it has been consumed. Consumption is only recorded (`start`)
// and handed to the file in bulk before the next read, so parsing a
// pipelined batch of requests costs no I/O call and no new view per request.

import type { NbFile } from "../coio/mod.ts";
import { discardBuffered } from "../coio/nb_file.ts";

const EMPTY = new Uint8Array(0);
// Consumed bytes handed back to the file at once, at the latest.
const COMPACT_AT = 16384;

/** The buffered input of a connection, consumed by the head parser and body readers. */
export class ConnectionInput {
  /** The buffered bytes: a view of the file's read buffer, valid until the next `fill`. */
  buf: Uint8Array = EMPTY;
  /** Bytes at the front of `buf` already consumed. */
  start = 0;
  /** True once the peer's EOF was seen. */
  eof = false;

  constructor(readonly file: NbFile) {}

  /** Unconsumed bytes buffered now. */
  get length(): number {
    return this.buf.length - this.start;
  }

  /** A view of the unconsumed bytes (valid until the next `fill`). */
  view(): Uint8Array {
    return this.buf.subarray(this.start);
  }

  /** Marks `n` bytes as consumed. */
  consume(n: number): void {
    this.start += n;
  }

  /** A copy of the next `n` bytes, consumed. */
  take(n: number): Uint8Array {
    const start = this.start;
    this.start = start + n;
    return this.buf.slice(start, start + n);
  }

  /**
   * Reads more bytes from the peer, waiting at most `timeout` ms (`null`:
   * forever); resolves to the number added, 0 at EOF.
   *
   * @throws {TimeoutError} when nothing arrived in time.
   */
  async fill(timeout: number | null): Promise<number> {
    const file = this.file;
    try {
      // Consumed bytes go back to the file only now and then: the new bytes
      // land after them, and offsets into the buffer stay valid meanwhile.
      if (this.start >= COMPACT_AT) {
        const discarded = file.discard(this.start);
        this.start = 0;
        this.buf = EMPTY;
        await discarded;
      }
      if (this.eof) return 0;
      if (timeout !== null) file.settimeout(timeout);
      const n = await file.readMore(1);
      if (n === 0) this.eof = true;
      return n;
    } finally {
      // The file is shared with the writes, which must not inherit it.
      if (timeout !== null) file.settimeout(null);
      this.buf = file.getReadBuffer();
    }
  }

  /**
   * Reads more bytes, without a timeout: resolves to the number added (0 at
   * EOF). Call {@linkcode refresh} with the result (or -1 after an error).
   */
  readMore(): Promise<number> {
    if (this.start >= COMPACT_AT) this.release();
    return this.file.readMore(1);
  }

  /** Takes in what {@linkcode readMore} added. */
  refresh(added: number): void {
    if (added === 0) this.eof = true;
    this.buf = this.file.getReadBuffer();
  }

  /** Hands the consumed bytes back to the file, so that another reader starts after them. */
  release(): void {
    if (this.start === 0) return;
    // At once: the bytes are buffered and nobody else reads (discard() would
    // only be needed if that ever changed).
    if (!discardBuffered(this.file, this.start)) {
      this.file.discard(this.start).catch(ignore);
    }
    this.start = 0;
    this.buf = this.file.getReadBuffer();
  }
}

function ignore(): void {}
