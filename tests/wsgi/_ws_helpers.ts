// Helpers for the WebSocket tests: an echo app for our server, and a raw
// client written here from RFC 6455 (independent of wsgi/_ws_frame.ts) that
// sends exact frames, good or bad, and reads the server's frames back.

import assert from "node:assert/strict";
import { socketpair } from "../../coio/mod.ts";
import {
  type Environ,
  type HttpServer,
  serve,
  type StartResponse,
  upgradeWebSocket,
  type UpgradeWebSocketOptions,
  WebSocketConnection,
  type WebSocketConnectionOptions,
} from "../../wsgi/mod.ts";

/** Frame opcodes (RFC 6455 §5.2). */
export const CONT = 0x0;
export const TEXT = 0x1;
export const BINARY = 0x2;
export const CLOSE = 0x8;
export const PING = 0x9;
export const PONG = 0xa;

/** Both ends of one WebSocket, ours, over a socket pair: [server, client]. */
export async function connectionPair(
  serverOptions: WebSocketConnectionOptions = {},
  clientOptions: WebSocketConnectionOptions = {},
): Promise<[WebSocketConnection, WebSocketConnection]> {
  const [a, b] = await socketpair();
  return [
    new WebSocketConnection({ socket: a, isServer: true }, serverOptions),
    new WebSocketConnection({ socket: b, isServer: false }, clientOptions),
  ];
}

/** The payload of `frame` as UTF-8 text (fails on EOF). */
export function payloadText(frame: Frame | null): string {
  assert.ok(frame, "expected a frame, got EOF");
  return new TextDecoder().decode(frame.payload);
}

/** What the echo app saw of one WebSocket once it ended. */
export interface Ended {
  closeCode: number | undefined;
  closeReason: string;
  received: (string | Uint8Array)[];
  /** The extensions the server agreed to. */
  extensions: string;
}

/**
 * A server whose app echoes every WebSocket message (and answers plain
 * requests with "plain"); `ended` gets one entry per finished WebSocket.
 */
export function echoServer(
  options: UpgradeWebSocketOptions = {},
  onOpen?: (ws: WebSocketConnection, environ: Environ) => Promise<void>,
): {
  server: HttpServer;
  port: number;
  ended: Ended[];
  next(): Promise<Ended>;
} {
  const ended: Ended[] = [];
  const waiting: ((e: Ended) => void)[] = [];
  const server = serve(
    async (environ: Environ, startResponse: StartResponse) => {
      if (environ.HTTP_UPGRADE === undefined) {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return "plain";
      }
      const ws = await upgradeWebSocket(environ, options);
      const received: (string | Uint8Array)[] = [];
      if (onOpen !== undefined) {
        await onOpen(ws, environ);
      } else {
        for await (const message of ws) {
          received.push(message);
          await ws.send(message);
        }
      }
      const entry = {
        closeCode: ws.closeCode,
        closeReason: ws.closeReason,
        received,
        extensions: ws.extensions,
      };
      const waiter = waiting.shift();
      if (waiter) waiter(entry);
      else ended.push(entry);
    },
    { hostname: "127.0.0.1", port: 0, onError: (e) => console.error(e) },
  );
  return {
    server,
    port: server.addr.port!,
    ended,
    next: () => {
      const entry = ended.shift();
      if (entry) return Promise.resolve(entry);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** A frame as it comes off the wire. */
export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Options for {@linkcode clientFrame}. */
export interface FrameOptions {
  fin?: boolean;
  /** RSV1-3 bits, as the 0x70 bits of the first byte. */
  rsv?: number;
  /** Mask the payload (clients must). */
  mask?: boolean;
  /** Force a 16-bit (126) or 64-bit (127) length field. */
  lengthField?: 126 | 127;
  /** Announce this length instead of the payload's (for oversize heads). */
  announce?: number;
}

/** Encodes a frame the way a client would (masked unless told otherwise). */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: FrameOptions = {},
): Uint8Array {
  const data = typeof payload === "string" ? utf8(payload) : payload;
  const { fin = true, rsv = 0, mask = true } = options;
  const length = options.announce ?? data.length;
  const field = options.lengthField ??
    (length < 126 ? 0 : length < 65536 ? 126 : 127);
  const head: number[] = [(fin ? 0x80 : 0) | rsv | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (field === 0) head.push(maskBit | length);
  else if (field === 126) head.push(maskBit | 126, length >> 8, length & 255);
  else {
    head.push(maskBit | 127);
    const big = BigInt(length);
    for (let i = 7; i >= 0; i--) {
      head.push(Number((big >> BigInt(8 * i)) & 255n));
    }
  }
  const key = mask ? crypto.getRandomValues(new Uint8Array(4)) : undefined;
  if (key) head.push(...key);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  for (let i = 0; i < data.length; i++) {
    out[head.length + i] = key ? data[i] ^ key[i % 4] : data[i];
  }
  return out;
}

/** A close frame payload: the code and a reason. */
export function closeBody(
  code: number,
  reason: string | Uint8Array = "",
): Uint8Array {
  const r = typeof reason === "string" ? utf8(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 255;
  out.set(r, 2);
  return out;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The expected `Sec-WebSocket-Accept` for `key`, computed with WebCrypto. */
export async function expectedAccept(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", utf8(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** A raw TCP client that speaks WebSocket frames byte by byte. */
export class RawWebSocket {
  #buffer = new Uint8Array(0);
  #eof = false;

  private constructor(readonly conn: Deno.Conn) {}

  /** Connects and sends `head` (a whole request head) as it is. */
  static async connect(port: number): Promise<RawWebSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new RawWebSocket(conn);
  }

  /**
   * Connects and completes a valid handshake (with `headers` added);
   * returns the client and the response head.
   */
  static async open(
    port: number,
    headers: string[] = [],
  ): Promise<{ ws: RawWebSocket; head: string }> {
    const ws = await RawWebSocket.connect(port);
    const key = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
    );
    await ws.send(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        "Sec-WebSocket-Version: 13\r\n" +
        headers.map((h) => h + "\r\n").join("") + "\r\n",
    );
    const head = await ws.readHead();
    if (!head.startsWith("HTTP/1.1 101 ")) {
      ws.close();
      throw new Error(`no 101: ${head}`);
    }
    const accept = /\r\nSec-WebSocket-Accept: (.*)\r\n/i.exec(head)?.[1];
    if (accept !== await expectedAccept(key)) {
      ws.close();
      throw new Error(`bad accept in ${head}`);
    }
    return { ws, head };
  }

  /** Sends bytes or a latin1/ASCII string. */
  async send(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? utf8(data) : data;
    let off = 0;
    while (off < bytes.length) {
      off += await this.conn.write(bytes.subarray(off));
    }
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) n = null;
      else throw error;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  async #need(n: number): Promise<boolean> {
    while (this.#buffer.length < n) if (!await this.#fill()) return false;
    return true;
  }

  #take(n: number): Uint8Array {
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Reads an HTTP response head (through the blank line) as latin1. */
  async readHead(): Promise<string> {
    for (;;) {
      const text = String.fromCharCode(...this.#buffer.subarray(0, 65536));
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.#take(end + 4);
        return text.slice(0, end + 4);
      }
      if (!await this.#fill()) {
        throw new Error(`EOF in response head: ${JSON.stringify(text)}`);
      }
    }
  }

  /** Reads exactly `n` bytes (fewer at EOF). */
  async readBytes(n: number): Promise<Uint8Array> {
    await this.#need(n);
    return this.#take(Math.min(n, this.#buffer.length)).slice();
  }

  /** Reads one frame; `null` at EOF (or a reset). */
  async readFrame(): Promise<Frame | null> {
    if (!await this.#need(2)) return null;
    const b0 = this.#buffer[0];
    const b1 = this.#buffer[1];
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 126) head = 4;
    if (length === 127) head = 10;
    const masked = (b1 & 0x80) !== 0;
    if (masked) head += 4;
    if (!await this.#need(head)) return null;
    const view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset);
    if (length === 126) length = view.getUint16(2);
    if (length === 127) length = Number(view.getBigUint64(2));
    if (!await this.#need(head + length)) return null;
    const bytes = this.#take(head + length);
    const payload = bytes.slice(head);
    if (masked) {
      const key = bytes.subarray(head - 4, head);
      for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4];
    }
    return {
      fin: (b0 & 0x80) !== 0,
      rsv: b0 & 0x70,
      opcode: b0 & 0x0f,
      masked,
      payload,
    };
  }

  /**
   * Reads frames up to the server's close frame and returns its code (or
   * `undefined` for an empty close) and reason, and whether the connection
   * then ended (EOF) without more frames.
   */
  async readClose(): Promise<
    { code: number | undefined; reason: string; eof: boolean; before: Frame[] }
  > {
    const before: Frame[] = [];
    for (;;) {
      const frame = await this.readFrame();
      if (frame === null) throw new Error("EOF before a close frame");
      if (frame.opcode !== 0x8) {
        before.push(frame);
        continue;
      }
      const p = frame.payload;
      const code = p.length >= 2 ? (p[0] << 8) | p[1] : undefined;
      const reason = new TextDecoder().decode(p.subarray(2));
      const eof = (await this.readFrame()) === null;
      return { code, reason, eof, before };
    }
  }

  /** Reads until EOF; true when nothing but EOF came. */
  async readEof(): Promise<boolean> {
    return (await this.readFrame()) === null;
  }

  /** Closes the connection (twice is fine). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}
