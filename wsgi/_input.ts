// The read side of one connection: the NbFile's read buffer plus how much of
// it the parser has consumed. Consumption is only recorded (`pos`) and handed
// to the file in bulk before the next read, so parsing a pipelined batch of
// requests costs no I/O call per request.

import type { NbFile } from "../coio/mod.ts";

/** The buffered input of a connection, consumed by the head parser and body readers. */
export class ConnectionInput {
  /** Bytes at the front of the file's read buffer already consumed. */
  pos = 0;
  /** True once the peer's EOF was seen. */
  eof = false;

  constructor(readonly file: NbFile) {}

  /** Unconsumed bytes buffered now. */
  get length(): number {
    return this.file.readBufferLength - this.pos;
  }

  /** A view of the unconsumed bytes (valid until the next `fill`). */
  view(): Uint8Array {
    return this.file.getReadBuffer(this.pos);
  }

  /** Marks `n` bytes as consumed. */
  consume(n: number): void {
    this.pos += n;
  }

  /** A copy of the next `n` bytes, consumed. */
  take(n: number): Uint8Array {
    const bytes = this.file.getReadBuffer(this.pos, this.pos + n).slice();
    this.pos += n;
    return bytes;
  }

  /**
   * Reads more bytes from the peer, waiting at most `timeout` ms (`null`:
   * forever); resolves to the number added, 0 at EOF.
   *
   * @throws {TimeoutError} when nothing arrived in time.
   */
  async fill(timeout: number | null): Promise<number> {
    const file = this.file;
    if (this.pos > 0) {
      const discarded = file.discard(this.pos);
      this.pos = 0;
      await discarded;
    }
    if (this.eof) return 0;
    file.settimeout(timeout);
    const n = await file.readMore(1);
    if (n === 0) this.eof = true;
    return n;
  }
}
