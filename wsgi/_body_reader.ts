// `wsgi.input`: the request body, read straight out of the connection's
// buffer and stopped at its end, whether framed by Content-Length or chunked.

import { checkInteger, concat, stripLineEnd } from "./_bytes.ts";
import { TimeoutError, WouldBlockError } from "../coio/mod.ts";
import { parseChunkHeader, parseTrailers } from "./_chunked.ts";
import type { ConnectionInput } from "./_input.ts";
import type { BodyReader } from "./environ.ts";
import { HttpError } from "./errors.ts";

const EMPTY = new Uint8Array(0);
const LF = 10;
const CR = 13;

// States of a body.
const DATA = 0; // body bytes; for chunked, of the current chunk
const SIZE = 1; // a chunk-size line is next
const DATA_END = 2; // the CRLF after a chunk's data is next
const TRAILERS = 3; // the trailer section is next
const DONE = 4;

// Trailer fields that would change framing or routing are not passed on.
const FRAMING_FIELDS = new Set([
  "content-length",
  "transfer-encoding",
  "host",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "content-type",
  "content-encoding",
  "content-range",
  "expect",
]);

/** Limits and timeout of one request body. */
export interface BodyLimits {
  /** The longest wait for the next bytes, in ms (`null`: forever). */
  bodyTimeout: number | null;
  /** Largest chunked body accepted, in bytes (→ 413). */
  maxBodySize: number;
  /** Largest trailer section, in bytes (→ 431). */
  maxHeaderSize: number;
  /** Most trailer fields (→ 431). */
  maxHeaderCount: number;
}

/** A request body read from a connection. */
export class RequestBody implements BodyReader {
  #input: ConnectionInput;
  #limits: BodyLimits;
  #chunked: boolean;
  #state: number;
  // Body bytes left: of the whole body, or of the current chunk.
  #remaining: number;
  #total = 0;
  #beforeRead: (() => Promise<void>) | undefined;
  #trailers: [string, string][] = [];
  #error: unknown = undefined;
  /** True once the app (or the server) started reading. */
  touched = false;

  constructor(
    input: ConnectionInput,
    contentLength: number,
    limits: BodyLimits,
    beforeRead?: () => Promise<void>,
  ) {
    this.#input = input;
    this.#limits = limits;
    this.#chunked = contentLength < 0;
    this.#state = this.#chunked ? SIZE : contentLength === 0 ? DONE : DATA;
    this.#remaining = this.#chunked ? 0 : contentLength;
    this.#beforeRead = beforeRead;
  }

  get remaining(): number {
    if (this.#state === DONE) return 0;
    return this.#chunked ? -1 : this.#remaining;
  }

  get trailers(): readonly [string, string][] {
    return this.#trailers;
  }

  /** True once the whole body, trailers included, has been consumed. */
  get done(): boolean {
    return this.#state === DONE && this.#error === undefined;
  }

  /** The error that ended reading, if any. */
  get error(): unknown {
    return this.#error;
  }

  async read(n = -1): Promise<Uint8Array> {
    checkInteger(n, "n");
    if (n === 0) return EMPTY;
    let available = await this.#ready();
    if (available === 0) return EMPTY;
    if (n > 0 && available >= n) return this.#take(n);
    const parts: Uint8Array[] = [];
    let got = 0;
    while (available > 0) {
      const k = n < 0 ? available : Math.min(available, n - got);
      parts.push(this.#take(k));
      got += k;
      if (got === n) break;
      available = await this.#ready();
    }
    return parts.length === 1 ? parts[0] : concat(parts, got);
  }

  async readAtMost(n: number): Promise<Uint8Array> {
    checkInteger(n, "n");
    if (n < 0) throw new RangeError(`n must be >= 0, got ${n}`);
    if (n === 0) return EMPTY;
    const available = await this.#ready();
    if (available === 0) return EMPTY;
    return this.#take(available < n ? available : n);
  }

  async readline(limit = -1): Promise<Uint8Array> {
    checkInteger(limit, "limit");
    if (limit === 0) return EMPTY;
    const parts: Uint8Array[] = [];
    let got = 0;
    for (;;) {
      const available = await this.#ready();
      if (available === 0) break;
      const window = limit < 0 ? available : Math.min(available, limit - got);
      const input = this.#input;
      const lf = input.buf.subarray(input.start, input.start + window).indexOf(
        LF,
      );
      const k = lf >= 0 ? lf + 1 : window;
      parts.push(this.#take(k));
      got += k;
      if (lf >= 0 || got === limit) break;
    }
    return parts.length === 1 ? parts[0] : concat(parts, got);
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

  /**
   * Consumes what is left of the body, at most `maxBytes` of it; true when
   * the body is then complete (the connection can carry another request).
   */
  async drain(maxBytes: number): Promise<boolean> {
    if (this.#error !== undefined) return false;
    if (this.#state === DONE) return true;
    if (!this.#chunked && this.#remaining > maxBytes) return false;
    let drained = 0;
    try {
      for (;;) {
        const available = await this.#ready();
        if (available === 0) return true;
        this.#input.consume(available);
        this.#remaining -= available;
        drained += available;
        if (drained > maxBytes) return false;
      }
    } catch {
      return false;
    }
  }

  #take(n: number): Uint8Array {
    this.#remaining -= n;
    return this.#input.take(n);
  }

  /** Resolves to the number of body bytes buffered at the input's front (0: end of body). */
  async #ready(): Promise<number> {
    if (this.#error !== undefined) throw this.#error;
    this.touched = true;
    if (this.#beforeRead !== undefined && this.#state !== DONE) {
      const beforeRead = this.#beforeRead;
      this.#beforeRead = undefined;
      await beforeRead();
    }
    try {
      return await this.#advance();
    } catch (error) {
      this.#error = error;
      this.#state = DONE;
      throw error;
    }
  }

  async #advance(): Promise<number> {
    const input = this.#input;
    for (;;) {
      switch (this.#state) {
        case DATA: {
          if (this.#remaining === 0) {
            this.#state = this.#chunked ? DATA_END : DONE;
            continue;
          }
          const n = input.length;
          if (n > 0) return n < this.#remaining ? n : this.#remaining;
          await this.#fill();
          continue;
        }
        case SIZE: {
          const header = parseChunkHeader(
            input.buf,
            input.start,
            input.buf.length,
          );
          if (header === null) {
            await this.#fill();
            continue;
          }
          input.start = header.next;
          if (header.size === 0) {
            this.#state = TRAILERS;
            continue;
          }
          this.#total += header.size;
          if (this.#total > this.#limits.maxBodySize) {
            throw new HttpError(413, "request body too large");
          }
          this.#remaining = header.size;
          this.#state = DATA;
          continue;
        }
        case DATA_END: {
          if (input.length < 2) {
            await this.#fill();
            continue;
          }
          const buf = input.buf;
          if (buf[input.start] !== CR || buf[input.start + 1] !== LF) {
            throw new HttpError(400, "chunk data not followed by CRLF");
          }
          input.consume(2);
          this.#state = SIZE;
          continue;
        }
        case TRAILERS: {
          const limits = this.#limits;
          const trailers = parseTrailers(
            input.buf,
            input.start,
            input.buf.length,
            limits.maxHeaderSize,
            limits.maxHeaderCount,
          );
          if (trailers === null) {
            await this.#fill();
            continue;
          }
          input.start = trailers.next;
          for (const field of trailers.fields) {
            if (!FRAMING_FIELDS.has(field[0].toLowerCase())) {
              this.#trailers.push(field);
            }
          }
          this.#state = DONE;
          return 0;
        }
        default:
          return 0;
      }
    }
  }

  async #fill(): Promise<void> {
    let n: number;
    try {
      n = await this.#input.fill(this.#limits.bodyTimeout);
    } catch (error) {
      if (error instanceof TimeoutError || error instanceof WouldBlockError) {
        throw new HttpError(408, "request body timed out", { cause: error });
      }
      throw error;
    }
    if (n === 0) throw new HttpError(400, "request body ended early");
  }
}

/** The body of a request without one: always at its end. */
class EmptyBody implements BodyReader {
  readonly remaining = 0;
  readonly trailers: readonly [string, string][] = [];
  readonly done = true;
  readonly touched = false;
  read(): Promise<Uint8Array> {
    return Promise.resolve(EMPTY);
  }
  readAtMost(): Promise<Uint8Array> {
    return Promise.resolve(EMPTY);
  }
  readline(): Promise<Uint8Array> {
    return Promise.resolve(EMPTY);
  }
  readlineStripend(): Promise<Uint8Array | null> {
    return Promise.resolve(null);
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {}
  drain(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** The shared body of every request that has none. */
export const EMPTY_BODY: EmptyBody = new EmptyBody();
