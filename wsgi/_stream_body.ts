// `wsgi.input` over a web `ReadableStream` (the body of a `Request` that
// `Deno.serve` hands to `toFetchHandler`).

import { checkInteger, concat, stripLineEnd } from "./_bytes.ts";
import type { BodyReader } from "./environ.ts";

const EMPTY = new Uint8Array(0);
const LF = 10;

/** A {@linkcode BodyReader} over a byte stream (or no body at all). */
export class StreamBody implements BodyReader {
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #chunk: Uint8Array = EMPTY;
  #done: boolean;
  #length: number;
  readonly trailers: readonly [string, string][] = [];

  /** `length` is the declared body size, or -1 when unknown. */
  constructor(stream: ReadableStream<Uint8Array> | null, length: number) {
    this.#reader = stream?.getReader();
    this.#done = stream === null;
    this.#length = stream === null ? 0 : length;
  }

  get remaining(): number {
    if (this.#done && this.#chunk.length === 0) return 0;
    return this.#length;
  }

  /** Buffered bytes, reading the next chunk when none are; empty at the end. */
  async #fill(): Promise<Uint8Array> {
    while (this.#chunk.length === 0 && !this.#done) {
      const { done, value } = await this.#reader!.read();
      if (done) {
        this.#done = true;
        this.#reader!.releaseLock();
      } else if (value !== undefined) {
        this.#chunk = value;
      }
    }
    return this.#chunk;
  }

  #take(n: number): Uint8Array {
    const chunk = this.#chunk;
    const out = chunk.subarray(0, n);
    this.#chunk = chunk.subarray(n);
    if (this.#length > 0) this.#length -= n;
    return out;
  }

  async read(n = -1): Promise<Uint8Array> {
    checkInteger(n, "n");
    if (n === 0) return EMPTY;
    const parts: Uint8Array[] = [];
    let got = 0;
    while (n < 0 || got < n) {
      const chunk = await this.#fill();
      if (chunk.length === 0) break;
      const k = n < 0 ? chunk.length : Math.min(chunk.length, n - got);
      parts.push(this.#take(k));
      got += k;
    }
    return concat(parts, got);
  }

  async readAtMost(n: number): Promise<Uint8Array> {
    checkInteger(n, "n");
    if (n < 0) throw new RangeError(`n must be >= 0, got ${n}`);
    if (n === 0) return EMPTY;
    const chunk = await this.#fill();
    return this.#take(Math.min(n, chunk.length));
  }

  async readline(limit = -1): Promise<Uint8Array> {
    checkInteger(limit, "limit");
    if (limit === 0) return EMPTY;
    const parts: Uint8Array[] = [];
    let got = 0;
    for (;;) {
      const chunk = await this.#fill();
      if (chunk.length === 0) break;
      const window = limit < 0
        ? chunk.length
        : Math.min(chunk.length, limit - got);
      const lf = chunk.subarray(0, window).indexOf(LF);
      const k = lf >= 0 ? lf + 1 : window;
      parts.push(this.#take(k));
      got += k;
      if (lf >= 0 || got === limit) break;
    }
    return concat(parts, got);
  }

  async readlineStripend(limit = -1): Promise<Uint8Array | null> {
    return stripLineEnd(await this.readline(limit));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}
