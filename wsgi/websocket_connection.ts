// One open WebSocket. Frames are parsed straight out of the socket's read
// buffer by whoever reads: the app's receive() itself (no hand-off on the
// hot path), or, when the app stays away from receive() for a while or waits
// for a pong or the close handshake, a watcher tasklet that reads for it, so
// that pings and the peer's close are answered without the app's help.

import {
  Channel,
  ChannelClosedError,
  Event,
  Lock,
  moveOnAfter,
  type NbSocket,
  sleep,
  SocketError,
  spawn,
  type Tasklet,
  waitFor,
} from "../coio/mod.ts";
import { concat } from "./_bytes.ts";
import { parseAgreedDeflate, PerMessageDeflate } from "./_ws_deflate.ts";
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_INVALID_DATA,
  CLOSE_NO_STATUS,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TOO_BIG,
  encodeFrame,
  encodeTextFrame,
  finalByte,
  isValidCloseCode,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  unmask,
  WebSocketProtocolError,
} from "./_ws_frame.ts";
import { WebSocketInput } from "./_ws_input.ts";
import { WebSocketOutput } from "./_ws_output.ts";
import { resolveOptions } from "./_ws_options.ts";

/** A message: a `string` for text, a `Uint8Array` for binary. */
export type WebSocketMessage = string | Uint8Array;

/** Options shared by both ends of a {@linkcode WebSocketConnection}. */
export interface WebSocketConnectionOptions {
  /**
   * The largest message accepted, in bytes after decompression; a bigger one
   * closes the connection with 1009. A message of exactly this size is fine.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /**
   * Send a ping after this many ms without a byte from the peer while
   * reading, and close with 1001 if the next period passes silently too.
   * `null`: never.
   * @default {null}
   */
  idleTimeout?: number | null;
  /**
   * How long `close()` waits for the peer's close frame before dropping the
   * connection, in ms.
   * @default {5000}
   */
  closeTimeout?: number;
  /**
   * When this signal aborts, the connection is closed with 1001 ("going
   * away"), as by `close(1001, "going away")`. {@linkcode upgradeWebSocket}
   * also ties every connection to the server's shutdown (`serve()`'s
   * `shutdown()` or `signal`).
   * @default {undefined}
   */
  shutdownSignal?: AbortSignal;
}

/**
 * A connected socket whose WebSocket opening handshake is done, and what the
 * handshake agreed: what {@linkcode WebSocketConnection} runs on.
 * {@linkcode upgradeWebSocket} and {@linkcode connectWebSocket} make one;
 * build one yourself to speak WebSocket after a handshake done elsewhere.
 */
export interface WebSocketTransport {
  /** The connection; any bytes already buffered are the first frames. */
  socket: NbSocket;
  /** True on the server's end: frames from the peer must be masked, ours are not. */
  isServer: boolean;
  /** The agreed subprotocol, or `""`. @default {""} */
  protocol?: string;
  /**
   * The agreed `Sec-WebSocket-Extensions` value, or `""`; permessage-deflate
   * is the only extension understood.
   * @default {""}
   */
  extensions?: string;
}

// How long the app may stay away from receive() before the watcher reads
// (answers pings, notices the peer's close) for it. While the app keeps
// reading, the watcher looks less and less often, up to WATCH_MAX_MS.
const WATCH_MIN_MS = 200;
const WATCH_MAX_MS = 3200;
// After a failure, how long and how much the connection keeps reading (and
// dropping) so that the peer gets the close frame rather than a reset.
const LINGER_MS = 1000;
const LINGER_BYTES = 1 << 20;
// Strings up to this length are encoded straight into the frame.
const DIRECT_TEXT = 16384;
// Short ASCII-only text is decoded in JavaScript: cheaper than a decoder call.
const ASCII_MAX = 128;

const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the message, not a marker.
const strictDecoder = new TextDecoder("utf-8", {
  fatal: true,
  ignoreBOM: true,
});
const EMPTY = new Uint8Array(0);
const TURN = Symbol("turn");
const STREAM = { stream: true };
const noop = () => {};

// Client frames are masked with keys from a pool of random bytes.
let maskPool = new Uint8Array(0);
let maskOffset = 0;
function nextMask(): Uint8Array {
  if (maskOffset + 4 > maskPool.length) {
    maskPool = crypto.getRandomValues(new Uint8Array(4096));
    maskOffset = 0;
  }
  const mask = maskPool.subarray(maskOffset, maskOffset + 4);
  maskOffset += 4;
  return mask;
}

/**
 * One open WebSocket (RFC 6455, with permessage-deflate from RFC 7692), on
 * either end: made by {@linkcode upgradeWebSocket} on the server and by
 * {@linkcode connectWebSocket} on a client. Pings are answered, the close
 * handshake is completed and protocol errors are answered with a close frame
 * carrying their code (1002, 1007 or 1009) before the TCP connection
 * closes; after any of these `receive()` returns `null` and `closeCode` /
 * `closeReason` tell why.
 *
 * Frames are read when the app calls `receive()`; while it stays away for
 * more than 200 ms, a watcher tasklet reads on its behalf, holding at most
 * one message for it (so a peer cannot make it buffer without bound). Close
 * it with `close()` (or `await using`) when done.
 *
 * @example Echo every message
 * ```ts
 * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
 *
 * const server = serve(async (environ) => {
 *   const ws = await upgradeWebSocket(environ);
 *   for await (const message of ws) await ws.send(message);
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 */
export class WebSocketConnection
  implements AsyncIterable<WebSocketMessage>, AsyncDisposable {
  /** The subprotocol agreed in the handshake, or `""`. */
  readonly protocol: string;
  /** The extensions agreed in the handshake, or `""`. */
  readonly extensions: string;
  #socket: NbSocket;
  #in: WebSocketInput;
  #out: WebSocketOutput;
  #isServer: boolean;
  #deflate: PerMessageDeflate | undefined;
  #sendLock: Lock | undefined;
  #maxMessageSize: number;
  #maxCompressedSize: number;
  #idleTimeout: number | null;
  #closeTimeout: number;
  #shutdownSignal: AbortSignal | undefined;

  // Who reads: at most one tasklet at a time parses frames.
  #reading = false;
  #generation = 0;
  #stash: WebSocketMessage | undefined = undefined;
  #handoff = new Channel<WebSocketMessage | typeof TURN>();
  // Receivers waiting on #handoff (cheaper than its `balance`, which counts).
  #handoffWaiting = 0;
  #watcher: Tasklet<void>;

  // The message being assembled from its frames.
  #messageOpcode = 0;
  #messageCompressed = false;
  #messageBytes = 0;
  #parts: Uint8Array[] = [];
  #textParts: string[] = [];
  #textDecoder: TextDecoder | undefined = undefined;
  #inflating: { data: Promise<Uint8Array>; text: boolean } | undefined =
    undefined;

  // The close handshake and the end.
  #closing = false;
  #closeSent = false;
  #closeReceived = false;
  #failure: WebSocketProtocolError | undefined = undefined;
  #ended = false;
  #endedEvent = new Event();
  #closeCode: number | undefined = undefined;
  #closeReason = "";
  #pongWaiters: { resolve(): void; reject(error: unknown): void }[] = [];

  /**
   * Runs the WebSocket protocol on `transport`, whose handshake is done.
   * Usually made by {@linkcode upgradeWebSocket} or
   * {@linkcode connectWebSocket}.
   *
   * @example Speak WebSocket over one end of a socket pair
   * ```ts
   * import { socketpair } from "@syncless/syncless/coio";
   * import { WebSocketConnection } from "@syncless/syncless/wsgi";
   *
   * const [a, b] = await socketpair();
   * const server = new WebSocketConnection({ socket: a, isServer: true });
   * const client = new WebSocketConnection({ socket: b, isServer: false });
   * await client.send("hi");
   * console.log(await server.receive()); // "hi"
   * await Promise.all([client.close(), server.receive()]);
   * ```
   * @throws {RangeError} for an option out of range.
   * @throws {TypeError} for extensions other than permessage-deflate.
   */
  constructor(
    transport: WebSocketTransport,
    options: WebSocketConnectionOptions = {},
  ) {
    const { maxMessageSize, idleTimeout, closeTimeout, shutdownSignal } =
      resolveOptions(options);
    const { socket, isServer, protocol = "", extensions = "" } = transport;
    if (extensions !== "") {
      const params = parseAgreedDeflate(extensions);
      if (params === undefined) {
        throw new TypeError(`unsupported WebSocket extensions: ${extensions}`);
      }
      this.#deflate = new PerMessageDeflate(params, isServer);
      this.#sendLock = new Lock();
    }
    this.protocol = protocol;
    this.extensions = extensions;
    this.#socket = socket;
    // Two files over the socket: they share its read buffer, and each has
    // its own lock, so a blocked send never holds up reading.
    // Frames are read straight from the connection, starting with the bytes
    // the handshake's reader buffered past its end.
    const file = socket.makefile({ writeBufferLimit: 0 });
    const early = file.getReadBuffer().slice();
    file.discard(early.length).catch(noop); // buffered: done at once
    this.#in = new WebSocketInput(socket.conn, early);
    // Messages are small and latency matters: no Nagle delay (as npm:ws does).
    const conn = socket.conn as Partial<Deno.TcpConn>;
    if (typeof conn.setNoDelay === "function") conn.setNoDelay(true);
    this.#out = new WebSocketOutput(socket.conn);
    this.#isServer = isServer;
    this.#maxMessageSize = maxMessageSize;
    // Incompressible data grows a little when deflated: leave room so that
    // a message of exactly maxMessageSize still fits.
    this.#maxCompressedSize = maxMessageSize + (maxMessageSize >>> 8) + 1024;
    this.#idleTimeout = idleTimeout;
    this.#closeTimeout = closeTimeout;
    this.#watcher = spawn(
      { name: "websocket-watcher", onError: this.#onWatcherError },
      () => this.#watch(),
    );
    if (shutdownSignal !== undefined) {
      this.#shutdownSignal = shutdownSignal;
      if (shutdownSignal.aborted) this.#goAway();
      else shutdownSignal.addEventListener("abort", this.#goAway);
    }
  }

  /** The shutdown signal aborted: close with 1001, in a tasklet of its own. */
  #goAway = (): void => {
    if (this.#closeSent || this.#ended) return;
    spawn(
      { name: "websocket-going-away", onError: noop },
      () => this.close(CLOSE_GOING_AWAY, "going away"),
    );
  };

  /** True once the connection has ended (after the close handshake or an error). */
  get closed(): boolean {
    return this.#ended;
  }

  /**
   * Why the connection closed: the code of the peer's close frame (1005 if
   * it had none), the code we failed it with (1002, 1007, 1009, 1001 for an
   * idle timeout), or 1006 when it ended without a close frame. `undefined`
   * while open.
   */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  /** The reason that came with `closeCode` (`""` if none). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /**
   * Sends a message: a string as text, bytes as binary. Resolves when the
   * frame is handed to the socket, so a slow reader slows the sender down
   * instead of making it buffer without bound.
   *
   * @example
   * ```ts
   * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
   *
   * const server = serve(async (environ) => {
   *   const ws = await upgradeWebSocket(environ);
   *   await ws.send("hello");
   *   await ws.send(new Uint8Array([1, 2, 3]));
   *   await ws.close();
   * }, { port: 0 });
   * await server.shutdown();
   * ```
   * @throws {WebSocketClosedError} once a close frame was sent or received.
   * @throws {TypeError} for anything but a string or a `Uint8Array`.
   */
  send(data: WebSocketMessage): Promise<void> {
    let text: boolean;
    if (typeof data === "string") text = true;
    else if (data instanceof Uint8Array) text = false;
    else {
      return Promise.reject(
        new TypeError("send() takes a string or a Uint8Array"),
      );
    }
    if (this.#closeSent || this.#ended) return Promise.reject(closedError());
    if (this.#deflate !== undefined) return this.#sendCompressed(data, text);
    const mask = this.#isServer ? undefined : nextMask();
    if (text && (data as string).length <= DIRECT_TEXT) {
      if ((data as string).length < 126) {
        const sent = this.#out.writeShortText(data as string, mask);
        if (sent !== undefined) return sent;
      }
      return this.#out.write(encodeTextFrame(data as string, mask));
    }
    const payload = text ? encoder.encode(data as string) : data as Uint8Array;
    return this.#out.write(
      encodeFrame(finalByte(text ? OP_TEXT : OP_BINARY), payload, mask),
    );
  }

  /**
   * The next message, or `null` once the connection has closed (then
   * `closeCode` and `closeReason` tell why). Cancelling the wait (kill,
   * timeout scope) loses nothing: the next call goes on where it stopped.
   *
   * @example
   * ```ts
   * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
   *
   * const server = serve(async (environ) => {
   *   const ws = await upgradeWebSocket(environ);
   *   const first = await ws.receive();
   *   if (first !== null) await ws.send(`you said ${first}`);
   *   await ws.close();
   * }, { port: 0 });
   * await server.shutdown();
   * ```
   */
  receive(): Promise<WebSocketMessage | null> {
    const stash = this.#stash;
    if (stash !== undefined) {
      this.#stash = undefined;
      return Promise.resolve(stash);
    }
    if (this.#ended) return Promise.resolve(null);
    if (this.#reading) return this.#receiveFromReader();
    this.#reading = true;
    this.#generation++;
    return this.#startRead(asMessage, this.#readyMessage);
  }

  /** `receive()` as an iterator result, with no promise in between. */
  #next(): Promise<IteratorResult<WebSocketMessage>> {
    if (this.#stash === undefined && !this.#ended && !this.#reading) {
      this.#reading = true;
      this.#generation++;
      return this.#startRead(toIteratorResult, this.#readyResult);
    }
    return this.receive().then(toIteratorResult);
  }

  /** Waits for the tasklet that reads now to hand over a message or the turn. */
  async #receiveFromReader(): Promise<WebSocketMessage | null> {
    let value: WebSocketMessage | typeof TURN;
    this.#handoffWaiting++;
    try {
      value = await this.#handoff.receive();
    } catch (error) {
      if (error instanceof ChannelClosedError) return null;
      throw error;
    } finally {
      this.#handoffWaiting--;
    }
    return value === TURN ? this.receive() : value;
  }

  /**
   * Iterates over the messages until the connection closes.
   *
   * @example
   * ```ts
   * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
   *
   * const server = serve(async (environ) => {
   *   const ws = await upgradeWebSocket(environ);
   *   for await (const message of ws) {
   *     if (message === "bye") break;
   *     await ws.send(message);
   *   }
   *   await ws.close();
   * }, { port: 0 });
   * await server.shutdown();
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocketMessage> {
    const iterator: AsyncIterableIterator<WebSocketMessage> = {
      next: () => this.#next(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Sends a ping (with up to 125 bytes of data) and resolves when the peer's
   * pong arrives (any pong counts, as RFC 6455 allows).
   *
   * @example Measure a round trip
   * ```ts
   * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
   *
   * const server = serve(async (environ) => {
   *   const ws = await upgradeWebSocket(environ);
   *   const start = performance.now();
   *   await ws.ping();
   *   console.log(`${performance.now() - start} ms`);
   *   await ws.close();
   * }, { port: 0 });
   * await server.shutdown();
   * ```
   * @throws {RangeError} for more than 125 bytes of data.
   * @throws {WebSocketClosedError} when the connection closes first.
   */
  async ping(data: Uint8Array | string = EMPTY): Promise<void> {
    const payload = typeof data === "string" ? encoder.encode(data) : data;
    if (!(payload instanceof Uint8Array)) {
      throw new TypeError("ping() takes a string or a Uint8Array");
    }
    if (payload.length > 125) throw new RangeError("ping data over 125 bytes");
    if (this.#closeSent || this.#ended) throw closedError();
    const pong = new Promise<void>((resolve, reject) => {
      this.#pongWaiters.push({ resolve, reject });
    });
    pong.catch(noop);
    await this.#writeControl(OP_PING, payload);
    // Someone must read for the pong to be seen.
    this.#watcher.wake();
    await waitFor(pong);
  }

  /**
   * Starts the close handshake with `code` and `reason`, waits (up to
   * `closeTimeout`) for the peer's answer, then closes the connection.
   * Messages that arrive meanwhile are dropped. Closing again is harmless.
   *
   * @example
   * ```ts
   * import { serve, upgradeWebSocket } from "@syncless/syncless/wsgi";
   *
   * const server = serve(async (environ) => {
   *   const ws = await upgradeWebSocket(environ);
   *   await ws.close(4000, "done");
   * }, { port: 0 });
   * await server.shutdown();
   * ```
   * @throws {RangeError} for a code that may not be sent (valid: 1000-1003,
   * 1007-1014, 3000-4999) or a reason over 123 bytes.
   */
  async close(code = 1000, reason = ""): Promise<void> {
    if (!Number.isInteger(code) || !isValidCloseCode(code)) {
      throw new RangeError(`invalid close code ${code}`);
    }
    const reasonBytes = encoder.encode(reason);
    if (reasonBytes.length > 123) {
      throw new RangeError("close reason over 123 bytes");
    }
    this.#closing = true;
    this.#stash = undefined;
    if (!this.#closeSent && !this.#ended) {
      const lock = this.#sendLock;
      if (lock !== undefined) {
        // Compressed messages queued before the close go out first.
        await lock.acquire();
        lock.release();
      }
      if (!this.#closeSent && !this.#ended) {
        this.#closeSent = true;
        await this.#writeControl(OP_CLOSE, closePayload(code, reasonBytes))
          .catch(ignoreTransportError);
      }
    }
    if (this.#ended) return;
    this.#watcher.wake();
    await moveOnAfter(this.#closeTimeout, () => this.#endedEvent.wait());
    if (!this.#ended) {
      this.#closeCode ??= CLOSE_ABNORMAL;
      this.#terminate();
    }
  }

  /** Closes the connection (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ------------------------------------------------------------ reading

  /**
   * Starts reading as the one reader (`#reading` is set by the caller). The
   * hot path: nothing is buffered, no read is in flight and nothing else is
   * due, so the caller waits for a read right here (a coio wait) and the
   * frame that comes is parsed in the read's callback, with no async
   * function or extra promise in between. A whole message already buffered
   * (a peer that sent several at once) is taken at once, with no wait.
   * Anything else goes through {@linkcode #read}.
   */
  #startRead<R>(
    wrap: (message: WebSocketMessage | null) => R,
    ready: () => R | PromiseLike<R>,
  ): Promise<R> {
    const input = this.#in;
    if (
      this.#idleTimeout === null && this.#inflating === undefined &&
      this.#failure === undefined && !this.#closeReceived && !this.#ended
    ) {
      if (input.end - input.start < 2) {
        if (!input.pending && !input.eof) {
          return input.waitReady(2, ready, this.#readCancelled);
        }
      } else {
        let message;
        try {
          message = this.#takeWholeMessage();
        } catch (error) {
          this.#readingEnded();
          return Promise.reject(error);
        }
        if (message !== undefined) {
          this.#readingEnded();
          return Promise.resolve(wrap(message));
        }
      }
    }
    return this.#read(false, wrap);
  }

  #readyMessage = () => this.#hotFrame(asMessage);
  #readyResult = () => this.#hotFrame(toIteratorResult);
  #readCancelled = (): void => this.#readingEnded();

  /**
   * The hot path's read settled (its waiter has not resumed yet): a whole
   * data message is taken at once; anything else (a control frame, a
   * partial or compressed one, an error) is left to {@linkcode #read},
   * which the wait then follows. Nothing here waits.
   */
  #hotFrame<R>(
    wrap: (message: WebSocketMessage | null) => R,
  ): R | PromiseLike<R> {
    let message;
    try {
      this.#in.adopt();
      message = this.#takeWholeMessage();
    } catch (error) {
      if (!isTransportError(error)) {
        this.#readingEnded();
        throw error;
      }
      this.#closeCode ??= CLOSE_ABNORMAL;
      this.#terminate();
      this.#readingEnded();
      return wrap(null);
    }
    if (message !== undefined) {
      this.#readingEnded();
      return wrap(message);
    }
    // Started when the wait's promise follows it, after the tasklet resumed.
    return {
      then: (resolve, reject) => this.#read(false, wrap).then(resolve, reject),
    };
  }

  /**
   * The message that the buffer starts with, when it is a whole
   * uncompressed data frame that ends a message (with a 7- or 16-bit
   * length): parsed and consumed, with no wait. `undefined` when the buffer
   * holds anything else (left for {@linkcode #read}, or a fragment that
   * {@linkcode #readFrame} took), or the frame broke the protocol (kept in
   * `#failure` for {@linkcode #read} to answer).
   */
  #takeWholeMessage(): WebSocketMessage | undefined {
    if (this.#ended || this.#closing || this.#messageCompressed) return;
    const input = this.#in;
    const n = input.end - input.start;
    if (n < 2) return;
    const buf = input.buf;
    const at = input.start;
    const b0 = buf[at];
    const b1 = buf[at + 1];
    let length = b1 & 0x7f;
    const masked = b1 >= 0x80;
    // The common case first: a short whole text message, ASCII, framed as
    // the role requires, within maxMessageSize.
    if (
      b0 === 0x81 && length < 126 && masked === this.#isServer &&
      this.#messageOpcode === 0 && length <= this.#maxMessageSize
    ) {
      const head = masked ? 6 : 2;
      if (n < head + length) return;
      const text = masked
        ? asciiText(
          buf,
          at + 6,
          length,
          buf[at + 2],
          buf[at + 3],
          buf[at + 4],
          buf[at + 5],
        )
        : asciiText(buf, at + 2, length, 0, 0, 0, 0);
      if (text !== undefined) {
        input.consume(head + length);
        return text;
      }
    }
    // Any other whole data frame with a 7- or 16-bit length.
    if ((b0 & 0x0f) > OP_BINARY || (b0 & 0x40) !== 0) return;
    let head = masked ? 6 : 2;
    if (length === 126) {
      if (n < 4) return;
      length = (buf[at + 2] << 8) | buf[at + 3];
      head += 2;
    } else if (length === 127) {
      return;
    }
    if (n < head + length) return;
    let message;
    try {
      message = this.#readFrame();
    } catch (error) {
      if (!(error instanceof WebSocketProtocolError)) throw error;
      this.#failure ??= error;
      return;
    }
    if (typeof message === "string" || message instanceof Uint8Array) {
      return message;
    }
  }

  /**
   * Reads frames until a message is complete, as the one reader (`#reading`
   * is set by the caller and cleared here); `null` once the connection
   * ended. With `deliver` (the watcher), the message goes to a waiting
   * receiver or the stash. `wrap` shapes what it resolves to (the message,
   * or an iterator result for `for await`). Only cancellation errors
   * escape, with the state kept for the next reader.
   */
  async #read<R>(
    deliver: boolean,
    wrap: (message: WebSocketMessage | null) => R,
  ): Promise<R> {
    try {
      for (;;) {
        if (this.#ended) return wrap(null);
        if (this.#failure !== undefined) {
          await this.#fail(this.#failure);
          return wrap(null);
        }
        if (this.#closeReceived) {
          await this.#finish();
          return wrap(null);
        }
        const input = this.#in;
        if (
          input.end - input.start < 2 && this.#idleTimeout === null &&
          this.#inflating === undefined
        ) {
          // The hot path: wait for bytes right here, with no wait nested
          // in another async call, then parse what came.
          if (input.eof) return wrap(this.#eof());
          const wait = input.wait(2);
          if (wait !== undefined) await wait;
          input.adopt();
          continue;
        }
        let message = this.#inflating !== undefined
          ? this.#finishInflate()
          : this.#readFrame();
        if (message instanceof Promise) message = await message;
        if (message === undefined) continue;
        if (message === null) return wrap(null);
        if (this.#closing) continue; // the app closed: drop what still comes
        if (deliver && !this.#handoff.trySend(message)) this.#stash = message;
        return wrap(message);
      }
    } catch (error) {
      if (error instanceof WebSocketProtocolError) {
        this.#failure ??= error;
        await this.#fail(this.#failure);
        return wrap(null);
      }
      if (isTransportError(error)) {
        this.#closeCode ??= CLOSE_ABNORMAL;
        this.#terminate();
        return wrap(null);
      }
      throw error;
    } finally {
      this.#readingEnded();
    }
  }

  /**
   * Reads and handles one frame: a message it completes, `undefined` when it
   * completes none, `null` when the connection ended.
   */
  #readFrame():
    | WebSocketMessage
    | null
    | undefined
    | Promise<WebSocketMessage | null | undefined> {
    const input = this.#in;
    const n = input.end - input.start;
    if (n < 2) return this.#fillThenFrame(2);
    const buf = input.buf;
    const at = input.start;
    const b0 = buf[at];
    const b1 = buf[at + 1];
    let length = b1 & 0x7f;
    const masked = b1 >= 0x80;
    const keyAt = length < 126 ? 2 : length === 126 ? 4 : 10;
    const head = keyAt + (masked ? 4 : 0);
    if (n < head) return this.#fillThenFrame(head);
    const opcode = b0 & 0x0f;
    const fin = b0 >= 0x80;
    const rsv1 = (b0 & 0x40) !== 0;
    if ((b0 & 0x30) !== 0) throw protocolError("reserved bits RSV2/RSV3 set");
    if (length === 126) {
      length = (buf[at + 2] << 8) | buf[at + 3];
    } else if (length === 127) {
      const high = ((buf[at + 2] << 24) | (buf[at + 3] << 16) |
        (buf[at + 4] << 8) | buf[at + 5]) >>> 0;
      if (high >= 0x80000000) {
        throw protocolError("frame length with the most significant bit set");
      }
      if (high >= 0x200000) {
        throw new WebSocketProtocolError(CLOSE_TOO_BIG, "message too big");
      }
      length = high * 0x100000000 +
        (((buf[at + 6] << 24) | (buf[at + 7] << 16) | (buf[at + 8] << 8) |
          buf[at + 9]) >>> 0);
    }
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG) throw protocolError(`unknown opcode ${opcode}`);
      if (!fin) throw protocolError("fragmented control frame");
      if (length > 125) throw protocolError("control frame over 125 bytes");
      if (rsv1) throw protocolError("RSV1 set on a control frame");
    } else if (opcode > OP_BINARY) {
      throw protocolError(`unknown opcode ${opcode}`);
    }
    if (masked !== this.#isServer) {
      throw protocolError(
        this.#isServer ? "unmasked client frame" : "masked server frame",
      );
    }
    let compressed = false;
    if (opcode < OP_CLOSE) {
      if (opcode === OP_CONTINUATION) {
        if (this.#messageOpcode === 0) {
          throw protocolError("continuation frame without a message");
        }
        if (rsv1) throw protocolError("RSV1 set on a continuation frame");
        compressed = this.#messageCompressed;
      } else {
        if (this.#messageOpcode !== 0) {
          throw protocolError("new message inside a fragmented one");
        }
        if (rsv1 && this.#deflate === undefined) {
          throw protocolError("RSV1 set without permessage-deflate");
        }
        compressed = rsv1;
      }
      const limit = compressed ? this.#maxCompressedSize : this.#maxMessageSize;
      if (this.#messageBytes + length > limit) {
        throw new WebSocketProtocolError(CLOSE_TOO_BIG, "message too big");
      }
    }
    const total = head + length;
    // Checked again when the rest has come (nothing was changed yet).
    if (n < total) return this.#fillThenFrame(total);
    if (opcode === OP_TEXT && fin && !compressed && length <= ASCII_MAX) {
      // A short whole text message (the common case): unmasked and decoded
      // in one pass over the buffer, with no view made of it.
      const k = at + keyAt;
      const text = masked
        ? asciiText(
          buf,
          at + head,
          length,
          buf[k],
          buf[k + 1],
          buf[k + 2],
          buf[k + 3],
        )
        : asciiText(buf, at + head, length, 0, 0, 0, 0);
      if (text !== undefined) {
        input.consume(total);
        return text; // the message state was untouched: nothing to reset
      }
    }
    const payload = buf.subarray(at + head, at + total);
    if (masked) {
      const k = at + keyAt;
      unmask(payload, buf[k], buf[k + 1], buf[k + 2], buf[k + 3]);
    }

    // The payload is a view of the read buffer: use it, then consume it,
    // before any wait (a cancelled reader must not see it again).
    if (opcode >= OP_CLOSE) {
      const data = payload.slice();
      input.consume(total);
      return this.#onControl(opcode, data);
    }
    if (opcode !== OP_CONTINUATION) {
      this.#messageOpcode = opcode;
      this.#messageCompressed = compressed;
    }
    this.#messageBytes += length;
    if (compressed) {
      this.#parts.push(payload.slice());
      input.consume(total);
      if (!fin) return undefined;
      const parts = this.#parts;
      const text = this.#messageOpcode === OP_TEXT;
      this.#endMessage();
      const data = this.#deflate!.decompress(parts, this.#maxMessageSize);
      data.catch(noop); // awaited below, or by the next reader
      this.#inflating = { data, text };
      return this.#finishInflate();
    }
    if (this.#messageOpcode === OP_TEXT) {
      // Validated as each fragment arrives, so bad text fails at once.
      let text: string;
      if (fin && this.#textDecoder === undefined) {
        text = decodeText(strictDecoder, payload, false);
      } else {
        this.#textDecoder ??= new TextDecoder("utf-8", {
          fatal: true,
          ignoreBOM: true,
        });
        text = decodeText(this.#textDecoder, payload, !fin);
      }
      input.consume(total);
      if (!fin) {
        this.#textParts.push(text);
        return undefined;
      }
      if (this.#textParts.length > 0) {
        this.#textParts.push(text);
        text = this.#textParts.join("");
      }
      this.#endMessage();
      return text;
    }
    let bytes: Uint8Array = payload.slice();
    input.consume(total);
    if (!fin) {
      this.#parts.push(bytes);
      return undefined;
    }
    if (this.#parts.length > 0) {
      this.#parts.push(bytes);
      bytes = concat(this.#parts, this.#messageBytes);
    }
    this.#endMessage();
    return bytes;
  }

  /** Reads until `need` bytes are buffered, then reads the frame. */
  async #fillThenFrame(
    need: number,
  ): Promise<WebSocketMessage | null | undefined> {
    if (await this.#fill(need) < need) return this.#eof();
    return this.#readFrame();
  }

  #endMessage(): void {
    this.#messageOpcode = 0;
    this.#messageCompressed = false;
    this.#messageBytes = 0;
    this.#parts = [];
    this.#textParts = [];
    this.#textDecoder = undefined;
  }

  async #finishInflate(): Promise<WebSocketMessage> {
    const { data, text } = this.#inflating!;
    const bytes = await waitFor(data);
    this.#inflating = undefined;
    return text ? decodeText(strictDecoder, bytes, false) : bytes;
  }

  async #onControl(
    opcode: number,
    data: Uint8Array,
  ): Promise<null | undefined> {
    if (opcode === OP_PING) {
      if (!this.#closeSent) await this.#writeControl(OP_PONG, data);
      return undefined;
    }
    if (opcode === OP_PONG) {
      const waiters = this.#pongWaiters;
      this.#pongWaiters = [];
      for (const waiter of waiters) waiter.resolve();
      return undefined;
    }
    let code = CLOSE_NO_STATUS;
    let reason = "";
    if (data.length === 1) throw protocolError("close frame of 1 byte");
    if (data.length >= 2) {
      code = (data[0] << 8) | data[1];
      if (!isValidCloseCode(code)) {
        throw protocolError(`invalid close code ${code}`);
      }
      reason = decodeText(strictDecoder, data.subarray(2), false);
    }
    this.#closeReceived = true;
    this.#closeCode ??= code;
    this.#closeReason ||= reason;
    if (!this.#closeSent) {
      // Echo the peer's code and reason; an empty close is answered empty.
      this.#closeSent = true;
      await this.#writeControl(OP_CLOSE, data).catch(ignoreTransportError);
    }
    await this.#finish();
    return null;
  }

  /** Reads until `n` bytes are buffered (fewer at EOF); pings an idle peer. */
  async #fill(n: number): Promise<number> {
    const input = this.#in;
    const idle = this.#idleTimeout;
    if (idle === null) return await input.fill(n);
    let pinged = false;
    while (input.length < n) {
      const before = input.length;
      const got = await moveOnAfter(idle, () => input.fill(before + 1));
      if (got === undefined) {
        if (pinged) {
          throw new WebSocketProtocolError(CLOSE_GOING_AWAY, "ping timeout");
        }
        pinged = true;
        await this.#writeControl(OP_PING, EMPTY);
      } else if (got === before) {
        break; // EOF
      } else {
        pinged = false;
      }
    }
    return input.length;
  }

  /** The peer's EOF (or a reset) without a close frame. */
  #eof(): null {
    this.#closeCode ??= CLOSE_ABNORMAL;
    this.#terminate();
    return null;
  }

  // ------------------------------------------------------- who reads

  #readingEnded(): void {
    this.#reading = false;
    // A receiver waiting for the last reader's message reads next.
    if (
      this.#handoffWaiting > 0 && !this.#ended && this.#stash === undefined
    ) {
      this.#handoff.trySend(TURN);
    }
  }

  /** True when reading cannot wait for the app: a pong or the close is due. */
  #urgent(): boolean {
    return this.#closing || this.#pongWaiters.length > 0;
  }

  /**
   * The watcher: reads for the app when nobody has read for a while, or at
   * once when a pong or the peer's close is awaited (`ping()` and `close()`
   * wake it).
   */
  async #watch(): Promise<void> {
    let delay = WATCH_MIN_MS;
    while (!this.#ended) {
      const held = this.#stash !== undefined && !this.#closing;
      if (!this.#reading && !held && this.#urgent()) {
        await this.#pump();
        continue;
      }
      const generation = this.#generation;
      await sleep(delay);
      if (this.#ended) return;
      if (
        this.#reading || generation !== this.#generation ||
        (this.#stash !== undefined && !this.#closing)
      ) {
        // The app reads (or has a message to take): look again later.
        delay = Math.min(delay * 2, WATCH_MAX_MS);
        continue;
      }
      delay = WATCH_MIN_MS;
      await this.#pump();
    }
  }

  /** The watcher reads one message and leaves it for the app. */
  async #pump(): Promise<void> {
    this.#reading = true;
    this.#generation++;
    await this.#read(true, asMessage);
  }

  #onWatcherError = (error: unknown): void => {
    console.error("WebSocket watcher failed:", error);
    this.#closeCode ??= CLOSE_ABNORMAL;
    this.#terminate();
  };

  // ------------------------------------------------------------ writing

  async #sendCompressed(data: WebSocketMessage, text: boolean): Promise<void> {
    const payload = text ? encoder.encode(data as string) : data as Uint8Array;
    const opcode = text ? OP_TEXT : OP_BINARY;
    // A separate tasklet compresses and writes, so that a cancelled sender
    // cannot leave the compressor's context ahead of what the peer got.
    const job = spawn(
      { name: "websocket-deflate", onError: noop },
      async () => {
        const lock = this.#sendLock!;
        await lock.acquire();
        try {
          if (this.#closeSent || this.#ended) throw closedError();
          const body = payload.length === 0
            ? payload
            : await this.#deflate!.compress(payload);
          const mask = this.#isServer ? undefined : nextMask();
          await this.#out.write(
            encodeFrame(finalByte(opcode, payload.length > 0), body, mask),
          );
        } finally {
          lock.release();
        }
      },
    );
    await job.join();
  }

  #writeControl(opcode: number, payload: Uint8Array): Promise<void> {
    const mask = this.#isServer ? undefined : nextMask();
    return this.#out.write(encodeFrame(finalByte(opcode), payload, mask));
  }

  // ------------------------------------------------------------ the end

  /** The close handshake is complete: end the connection. */
  async #finish(): Promise<void> {
    // RFC 6455 7.1.1: the server closes TCP first; a client waits for it.
    if (!this.#isServer) await this.#drain(false);
    this.#terminate();
  }

  /** Fails the connection: close frame with the error's code, then the end. */
  async #fail(error: WebSocketProtocolError): Promise<void> {
    this.#closeCode ??= error.code;
    this.#closeReason ||= error.message;
    if (!this.#closeSent) {
      this.#closeSent = true;
      const reason = encoder.encode(error.message.slice(0, 123));
      await this.#writeControl(OP_CLOSE, closePayload(error.code, reason))
        .catch(ignoreTransportError);
    }
    await this.#drain(true);
    this.#terminate();
  }

  /**
   * Reads and drops what the peer still sends until its EOF, briefly, so
   * that it reads our last frame instead of a reset. `halfClose` sends our
   * FIN first.
   */
  async #drain(halfClose: boolean): Promise<void> {
    const input = this.#in;
    try {
      if (halfClose) {
        await this.#out.drained();
        await this.#socket.shutdown();
      }
      await moveOnAfter(LINGER_MS, async () => {
        let total = 0;
        while (total < LINGER_BYTES) {
          total += input.length;
          input.consume(input.length);
          if (await input.fill(1) === 0) return;
        }
      });
    } catch (error) {
      if (!isTransportError(error)) throw error;
    }
  }

  /** Ends the connection now: wakes every waiter, closes the socket. */
  #terminate(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#closeCode ??= CLOSE_ABNORMAL;
    this.#closeSent = true;
    this.#handoff.close();
    this.#endedEvent.set();
    const waiters = this.#pongWaiters;
    this.#pongWaiters = [];
    for (const waiter of waiters) waiter.reject(closedError());
    this.#inflating = undefined;
    this.#deflate?.close();
    this.#shutdownSignal?.removeEventListener("abort", this.#goAway);
    this.#socket.close();
    this.#watcher.wake();
  }
}

/**
 * Thrown by `send()` or `ping()` on a WebSocket that is closing or closed.
 *
 * @example
 * ```ts
 * import { WebSocketClosedError } from "@syncless/syncless/wsgi";
 *
 * const error = new WebSocketClosedError("closed");
 * console.log(error.name); // "WebSocketClosedError"
 * ```
 */
export class WebSocketClosedError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "WebSocketClosedError";
  }
}

function asMessage(message: WebSocketMessage | null): WebSocketMessage | null {
  return message;
}

function toIteratorResult(
  value: WebSocketMessage | null,
): IteratorResult<WebSocketMessage> {
  return value === null
    ? { done: true, value: undefined }
    : { done: false, value };
}

function closedError(): WebSocketClosedError {
  return new WebSocketClosedError("the WebSocket is closing or closed");
}

function protocolError(message: string): WebSocketProtocolError {
  return new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, message);
}

/** Errors that mean the connection itself is gone. */
function isTransportError(error: unknown): boolean {
  return error instanceof SocketError;
}

function ignoreTransportError(error: unknown): void {
  if (!isTransportError(error)) throw error;
}

function decodeText(
  decoder: TextDecoder,
  data: Uint8Array,
  stream: boolean,
): string {
  try {
    return stream ? decoder.decode(data, STREAM) : decoder.decode(data);
  } catch {
    throw new WebSocketProtocolError(
      CLOSE_INVALID_DATA,
      "invalid UTF-8 in text",
    );
  }
}

// Per length, an array of char codes for asciiText: `apply` spreads a plain
// array onto the stack, where a typed array would first be copied to a list.
const asciiCodes: number[][] = [];

/**
 * The `length` bytes at `buf[from]`, unmasked with `k0..k3` (zeros: not
 * masked), as a string when every byte is ASCII (< 0x80), else `undefined`.
 * The buffer is left as it was.
 */
function asciiText(
  buf: Uint8Array,
  from: number,
  length: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): string | undefined {
  const codes = asciiCodes[length] ??= new Array<number>(length).fill(0);
  let any = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    const p = from + i;
    const c0 = buf[p] ^ k0;
    const c1 = buf[p + 1] ^ k1;
    const c2 = buf[p + 2] ^ k2;
    const c3 = buf[p + 3] ^ k3;
    codes[i] = c0;
    codes[i + 1] = c1;
    codes[i + 2] = c2;
    codes[i + 3] = c3;
    any |= c0 | c1 | c2 | c3;
  }
  if (i < length) any |= codes[i] = buf[from + i++] ^ k0;
  if (i < length) any |= codes[i] = buf[from + i++] ^ k1;
  if (i < length) any |= codes[i] = buf[from + i] ^ k2;
  if (any >= 0x80) return undefined;
  return String.fromCharCode.apply(null, codes);
}

function closePayload(code: number, reason: Uint8Array): Uint8Array {
  const payload = new Uint8Array(2 + reason.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(reason, 2);
  return payload;
}
