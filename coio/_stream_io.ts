import type { ByteReader } from "./_read_buffer.ts";
import type { ByteWriter } from "./nb_file.ts";

/**
 * A `read(p)` source over a `ReadableStream` of bytes (a child's stdout):
 * each chunk is copied into the caller's buffer, the rest kept for later.
 */
export class StreamReader implements ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #rest: Uint8Array | undefined = undefined;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async read(p: Uint8Array): Promise<number | null> {
    let chunk = this.#rest;
    this.#rest = undefined;
    while (chunk === undefined || chunk.length === 0) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      chunk = value;
    }
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#rest = chunk.subarray(n);
    return n;
  }

  /** Stops reading: the stream is cancelled and its resources freed. */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/**
 * A `write(p)` sink over a `WritableStream` of bytes (a child's stdin). The
 * bytes are copied, as the stream may hold on to a chunk after `write`.
 */
export class StreamWriter implements ByteWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  async write(p: Uint8Array): Promise<number> {
    await this.#writer.write(p.slice());
    return p.length;
  }

  /** Closes the stream: the other end reads EOF. */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }
}
