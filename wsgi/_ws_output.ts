// The write side of a WebSocket: whole frames written straight to the
// connection, one after another. A sender that gives up waiting (kill,
// timeout scope) does not tear its frame: the write goes on, and the frames
// queued after it follow, so the stream stays well-formed.

import { type RawWrite, rawWriter } from "../coio/_raw_io.ts";
import { waitFor } from "../coio/mod.ts";
import { encodeAsciiFrameInto } from "./_ws_frame.ts";
import { toSocketError } from "./_ws_input.ts";

const RESOLVED = Promise.resolve();
// The largest frame of short text: 125 bytes, a 2-byte head and a mask.
const SHORT_FRAME = 131;
const noop = () => {};

/** Writes frames to `conn` in the order they are given. */
export class WebSocketOutput {
  #write: RawWrite;
  // The last write queued while any is in flight, and how many are.
  #tail: Promise<void> | undefined = undefined;
  #pending = 0;
  #error: unknown = undefined;
  // The frame whose write started with no other in flight (handled by the
  // bound handlers below, with no promise or closure made per frame).
  #current: Uint8Array | undefined = undefined;
  // A frame of our own for short text, reused while no write is in flight
  // (a write op refers to its buffer until it settles): the view is kept
  // as long as the length stays the same.
  #short: Uint8Array | undefined = undefined;

  constructor(conn: Deno.Conn) {
    this.#write = rawWriter(conn);
  }

  /**
   * Hands `frame` to the socket. With no write in flight that happens at
   * once and nothing is waited for; otherwise the caller waits (a coio
   * wait: cancellable, but the frame is written whole all the same) until
   * its frame is written, so a peer that stops reading stops the sender.
   * @throws {SocketError} when the connection failed (then every later write too).
   */
  write(frame: Uint8Array): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const previous = this.#tail;
    this.#pending++;
    if (previous === undefined) {
      // Settles without failing: a failure is kept in #error for the next write.
      this.#current = frame;
      this.#tail = this.#write(frame).then(
        this.#onWritten,
        this.#onWriteFailed,
      );
      return RESOLVED;
    }
    const done = this.#writeAfter(previous, frame);
    this.#tail = done;
    return waitFor(done);
  }

  /**
   * Hands `text` (under 126 UTF-16 units) to the socket as a final text
   * frame (masked with `mask` when given) when that can be done at once
   * with no frame allocated: no write in flight (the frame is encoded into a
   * buffer of this output's own) and all of it ASCII. Otherwise returns
   * `undefined` and does nothing: the caller then encodes the frame and
   * calls {@linkcode write}.
   */
  writeShortText(
    text: string,
    mask: Uint8Array | undefined,
  ): Promise<void> | undefined {
    if (this.#tail !== undefined || this.#error !== undefined) return;
    const size = text.length + (mask === undefined ? 2 : 6);
    let frame = this.#short;
    if (frame === undefined || frame.length !== size) {
      const buffer = frame?.buffer ?? new ArrayBuffer(SHORT_FRAME);
      frame = this.#short = new Uint8Array(buffer, 0, size);
    }
    if (!encodeAsciiFrameInto(frame, text, mask)) return;
    this.#pending++;
    this.#current = frame;
    this.#tail = this.#write(frame).then(this.#onWritten, this.#onWriteFailed);
    return RESOLVED;
  }

  /** Resolves once every queued frame is written (or failed). */
  async drained(): Promise<void> {
    const tail = this.#tail;
    if (tail !== undefined) await waitFor(tail.catch(() => {}));
  }

  #onWritten = (written: number): Promise<void> | undefined => {
    const frame = this.#current!;
    this.#current = undefined;
    if (written < frame.length) {
      return this.#writeAll(frame.subarray(written)).catch(noop);
    }
    if (--this.#pending === 0) this.#tail = undefined;
    return undefined;
  };

  #onWriteFailed = (error: unknown): void => {
    this.#current = undefined;
    this.#error ??= toSocketError(error) ?? error;
    if (--this.#pending === 0) this.#tail = undefined;
  };

  async #writeAfter(previous: Promise<void>, frame: Uint8Array): Promise<void> {
    try {
      await previous;
    } catch {
      // Its error is kept in #error; this write fails with it below.
    }
    return this.#writeAll(frame);
  }

  async #writeAll(frame: Uint8Array): Promise<void> {
    try {
      if (this.#error !== undefined) throw this.#error;
      const write = this.#write;
      let written = await write(frame);
      while (written < frame.length) {
        written += await write(frame.subarray(written));
      }
    } catch (error) {
      this.#error ??= toSocketError(error) ?? error;
      throw this.#error;
    } finally {
      if (--this.#pending === 0) this.#tail = undefined;
    }
  }
}
