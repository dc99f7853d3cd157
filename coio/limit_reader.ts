import { checkInteger, checkSize, toDelimiter } from "./_bytes.ts";
import type { NbFile } from "./nb_file.ts";

/**
 * Reads at most `limit` bytes from an {@linkcode NbFile}: a request body of
 * known length (Syncless's `nblimitreader`, the HTTP server's `wsgi.input`).
 * Its methods behave like the file's, but never read past the limit; bytes
 * after it stay in the file for the next reader.
 *
 * @example Read a body, leave the next request buffered
 * ```ts
 * import { LimitReader, socketpair } from "@syncless/syncless/coio";
 *
 * const [a, b] = await socketpair();
 * await a.sendall("name=x\nrest");
 * const file = b.makefile();
 * const body = new LimitReader(file, 7);
 * console.log(new TextDecoder().decode(await body.readline())); // "name=x\n"
 * console.log((await body.read()).length); // 0: the limit is reached
 * a.close();
 * b.close();
 * ```
 */
export class LimitReader implements AsyncIterable<Uint8Array> {
  #file: NbFile | undefined;
  #remaining: number;

  /**
   * Reads at most `limit` bytes from `file`.
   * @param file the file to read from (may be `undefined` when `limit` is 0).
   * @param limit the most bytes to read.
   * @throws {RangeError} when `limit` is negative.
   */
  constructor(file: NbFile | undefined, limit: number) {
    checkSize(limit, "limit");
    if (file === undefined && limit > 0) {
      throw new TypeError("LimitReader needs a file when limit > 0");
    }
    this.#file = file;
    this.#remaining = limit;
  }

  /** Bytes left before the limit (0 also after an early EOF). */
  get remaining(): number {
    return this.#remaining;
  }

  /**
   * Reads `size` bytes, or all that is left when `size` is negative or
   * larger; empty once the limit or EOF is reached.
   * @example Read a whole body
   * ```ts
   * import { LimitReader, socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("0123456789NEXT");
   * const file = b.makefile();
   * const body = new LimitReader(file, 10);
   * console.log(new TextDecoder().decode(await body.read())); // "0123456789"
   * console.log(body.remaining); // 0
   * a.close();
   * b.close();
   * ```
   */
  async read(size = -1): Promise<Uint8Array> {
    checkInteger(size, "size");
    const n = size < 0 || size > this.#remaining ? this.#remaining : size;
    if (n === 0) return new Uint8Array(0);
    const data = await this.#file!.read(n);
    this.#remaining = data.length < n ? 0 : this.#remaining - n;
    return data;
  }

  /**
   * Returns up to `size` bytes: what the file has buffered, or what one read
   * brings; empty at the limit or EOF.
   */
  async readAtMost(size: number): Promise<Uint8Array> {
    checkSize(size, "size");
    const n = Math.min(size, this.#remaining);
    if (n === 0) return new Uint8Array(0);
    const data = await this.#file!.readAtMost(n);
    this.#remaining = data.length === 0 ? 0 : this.#remaining - data.length;
    return data;
  }

  /** Like {@linkcode NbFile.readline}, within the limit. */
  async readline(limit = -1, delim?: number | string): Promise<Uint8Array> {
    checkInteger(limit, "limit");
    toDelimiter(delim, 10);
    const n = limit < 0 || limit > this.#remaining ? this.#remaining : limit;
    if (n === 0) return new Uint8Array(0);
    const line = await this.#file!.readline(n, delim);
    this.#remaining = line.length === 0 ? 0 : this.#remaining - line.length;
    return line;
  }

  /** Like {@linkcode NbFile.readlineStripend}, within the limit. */
  async readlineStripend(
    limit = -1,
    delim?: number | string,
  ): Promise<Uint8Array | null> {
    checkInteger(limit, "limit");
    toDelimiter(delim, 10);
    const n = limit < 0 || limit > this.#remaining ? this.#remaining : limit;
    if (n === 0) return null;
    const file = this.#file!;
    const line = await file.readlineStripend(n, delim);
    this.#remaining = line === null ? 0 : this.#remaining - file._consumed();
    return line;
  }

  /** Reads all lines up to the limit. */
  async readlines(): Promise<Uint8Array[]> {
    const lines: Uint8Array[] = [];
    for await (const line of this) lines.push(line);
    return lines;
  }

  /**
   * Discards what is left up to the limit; resolves to the number of bytes
   * that could not be discarded because EOF came first (0 on success).
   * @example Skip what the application did not read
   * ```ts
   * import { LimitReader, socketpair } from "@syncless/syncless/coio";
   *
   * const [a, b] = await socketpair();
   * await a.sendall("unread bodyNEXT REQUEST");
   * const file = b.makefile();
   * await new LimitReader(file, 11).discardToLimit();
   * console.log(new TextDecoder().decode(await file.read(4))); // "NEXT"
   * a.close();
   * b.close();
   * ```
   */
  async discardToLimit(): Promise<number> {
    const n = this.#remaining;
    if (n === 0) return 0;
    this.#remaining = 0;
    return await this.#file!.discard(n);
  }

  /** Iterates over lines (each with its delimiter) up to the limit. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}
