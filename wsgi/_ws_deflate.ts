// permessage-deflate (RFC 7692): negotiation on both ends, and the
// compressor/decompressor pair of one connection over node:zlib streams,
// which (unlike CompressionStream) can sync-flush at each message's end and
// keep their window from one message to the next (context takeover).

import { concat } from "./_bytes.ts";
import zlib from "node:zlib";
import { CLOSE_INVALID_DATA, CLOSE_TOO_BIG } from "./_ws_frame.ts";
import { WebSocketProtocolError } from "./_ws_frame.ts";

// Every compressed message ends with this empty stored block, which the
// sender strips and the receiver appends back (RFC 7692 7.2.1).
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The parameters agreed for permessage-deflate (RFC 7692 section 7.1). */
export interface DeflateParams {
  /** The server starts each message with an empty window. */
  serverNoContextTakeover: boolean;
  /** The client starts each message with an empty window. */
  clientNoContextTakeover: boolean;
  /** Window bits of the server's compressor (8-15). */
  serverMaxWindowBits: number;
  /** Window bits of the client's compressor (8-15). */
  clientMaxWindowBits: number;
}

/**
 * The offer our client sends. It leaves out `client_max_window_bits`: zlib
 * cannot compress raw deflate with an 8-bit window, which a server could
 * then demand.
 */
export const CLIENT_OFFER = "permessage-deflate";

/**
 * Server side: picks the first acceptable permessage-deflate offer of a
 * `Sec-WebSocket-Extensions` header value and returns the agreed parameters
 * with the response header value, or `undefined` to decline (no extension).
 */
export function negotiateDeflate(
  header: string | undefined,
): { params: DeflateParams; response: string } | undefined {
  if (!header) return undefined;
  for (const offer of splitList(header)) {
    const params = parseParams(offer, true);
    if (params === undefined) continue;
    // zlib makes no raw deflate stream with an 8-bit window: decline.
    if (params.serverMaxWindowBits === 8) continue;
    return { params, response: formatParams(params) };
  }
  return undefined;
}

/**
 * The parameters of an agreed `Sec-WebSocket-Extensions` value (as the
 * server answers it), or `undefined` when it is not exactly one valid
 * permessage-deflate element.
 */
export function parseAgreedDeflate(header: string): DeflateParams | undefined {
  const elements = splitList(header);
  if (elements.length !== 1) return undefined;
  return parseParams(elements[0], false);
}

/**
 * Client side: the parameters of the server's `Sec-WebSocket-Extensions`
 * answer to {@linkcode CLIENT_OFFER}, or `undefined` when it is not a valid
 * answer to it (the client must then fail the connection).
 */
export function parseDeflateResponse(
  header: string,
): DeflateParams | undefined {
  const params = parseAgreedDeflate(header);
  // We did not offer client_max_window_bits, so the server may not set it.
  if (params === undefined || params.clientMaxWindowBits !== 15) {
    return undefined;
  }
  return params;
}

function splitList(header: string): string[] {
  return header.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * The parameters of one `permessage-deflate; a; b=1` element, or `undefined`
 * when it is another extension or has an unknown, repeated or bad parameter.
 */
function parseParams(
  element: string,
  isOffer: boolean,
): DeflateParams | undefined {
  const [name, ...rawParams] = element.split(";").map((s) => s.trim());
  if (name.toLowerCase() !== "permessage-deflate") return undefined;
  const params: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const seen = new Set<string>();
  for (const raw of rawParams) {
    if (raw === "") return undefined;
    const eq = raw.indexOf("=");
    const key = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
    let value = eq < 0 ? undefined : raw.slice(eq + 1).trim();
    if (value !== undefined && /^"[^"]*"$/.test(value)) {
      value = value.slice(1, -1);
    }
    if (seen.has(key)) return undefined; // a repeated parameter voids it
    seen.add(key);
    switch (key) {
      case "server_no_context_takeover":
        if (value !== undefined) return undefined;
        params.serverNoContextTakeover = true;
        break;
      case "client_no_context_takeover":
        if (value !== undefined) return undefined;
        params.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = windowBits(value);
        if (bits === undefined) return undefined;
        params.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        // In an offer, a bare parameter only allows the server to limit it.
        if (value === undefined && isOffer) break;
        const bits = windowBits(value);
        if (bits === undefined) return undefined;
        params.clientMaxWindowBits = bits;
        break;
      }
      default:
        return undefined;
    }
  }
  return params;
}

function windowBits(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,2}$/.test(value)) return undefined;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : undefined;
}

function formatParams(params: DeflateParams): string {
  const parts = ["permessage-deflate"];
  if (params.serverNoContextTakeover) parts.push("server_no_context_takeover");
  if (params.clientNoContextTakeover) parts.push("client_no_context_takeover");
  if (params.serverMaxWindowBits < 15) {
    parts.push(`server_max_window_bits=${params.serverMaxWindowBits}`);
  }
  if (params.clientMaxWindowBits < 15) {
    parts.push(`client_max_window_bits=${params.clientMaxWindowBits}`);
  }
  return parts.join("; ");
}

/**
 * One zlib stream and the job it runs now: chunks in, everything up to a
 * sync flush out. Jobs run one at a time (the callers queue them).
 */
class ZlibJob {
  readonly stream: zlib.DeflateRaw | zlib.InflateRaw;
  #out: Uint8Array[] = [];
  #size = 0;
  #limit = Infinity;
  #resolve: ((data: Uint8Array) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #failed = false;

  constructor(stream: zlib.DeflateRaw | zlib.InflateRaw) {
    this.stream = stream;
    stream.on("data", (data: Uint8Array) => {
      if (this.#resolve === undefined) return;
      this.#size += data.length;
      if (this.#size > this.#limit) {
        this.#fail(
          new WebSocketProtocolError(CLOSE_TOO_BIG, "message too big"),
        );
        return;
      }
      this.#out.push(data);
    });
    stream.on("error", (error: Error) => {
      this.#fail(
        new WebSocketProtocolError(
          CLOSE_INVALID_DATA,
          `bad compressed data: ${error.message}`,
        ),
      );
    });
  }

  /** True once the stream failed or overflowed: it cannot be used again. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Runs `chunks` through the stream; at most `limit` output bytes. */
  run(chunks: Uint8Array[], limit: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#out = [];
      this.#size = 0;
      this.#limit = limit;
      this.#resolve = resolve;
      this.#reject = reject;
      const stream = this.stream;
      for (const chunk of chunks) stream.write(chunk);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const done = this.#resolve;
        if (done === undefined) return;
        // A data error may be recorded before its "error" event is emitted.
        const failure = stream.errored ??
          (stream.destroyed ? new Error("closed") : null);
        if (failure) {
          this.#fail(
            new WebSocketProtocolError(
              CLOSE_INVALID_DATA,
              `bad compressed data: ${failure.message}`,
            ),
          );
          return;
        }
        this.#resolve = this.#reject = undefined;
        const out = this.#out;
        this.#out = [];
        // A plain Uint8Array, not zlib's Buffer subclass.
        const data = out.length === 1
          ? new Uint8Array(out[0].buffer, out[0].byteOffset, out[0].length)
          : concat(out, this.#size);
        done(data);
      });
    });
  }

  close(): void {
    this.#resolve = this.#reject = undefined;
    this.stream.close();
  }

  #fail(error: WebSocketProtocolError): void {
    const reject = this.#reject;
    this.#failed = true;
    this.#resolve = this.#reject = undefined;
    this.#out = [];
    // Stop inflating at once: a bomb must not be expanded to its end.
    this.stream.close();
    reject?.(error);
  }
}

/**
 * The compressor and decompressor of one connection's permessage-deflate,
 * seen from one end (`isServer`: compress with the server's parameters).
 * Calls of each kind must not overlap (the connection queues them).
 */
export class PerMessageDeflate {
  #compressBits: number;
  #compressReset: boolean;
  #decompressReset: boolean;
  #deflater: ZlibJob | undefined;
  #inflater: ZlibJob | undefined;

  constructor(params: DeflateParams, isServer: boolean) {
    // zlib has no 8-bit raw window; 9 is only offered to a peer that
    // accepted 9 or more (negotiation declines 8 for our compressor).
    this.#compressBits = Math.max(
      9,
      isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits,
    );
    this.#compressReset = isServer
      ? params.serverNoContextTakeover
      : params.clientNoContextTakeover;
    this.#decompressReset = isServer
      ? params.clientNoContextTakeover
      : params.serverNoContextTakeover;
  }

  /** Compresses one message payload (the 4-byte tail stripped). */
  async compress(data: Uint8Array): Promise<Uint8Array> {
    this.#deflater ??= new ZlibJob(
      zlib.createDeflateRaw({ windowBits: this.#compressBits, level: 6 }),
    );
    const out = await this.#deflater.run([data], Infinity);
    if (this.#compressReset) this.#closeDeflater();
    const n = out.length;
    const end = n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 &&
        out[n - 2] === 0xff && out[n - 1] === 0xff
      ? n - 4
      : n;
    // An empty message still needs one byte: an empty final block.
    return end === 0 ? new Uint8Array([0x00]) : out.subarray(0, end);
  }

  /**
   * Decompresses one message from its frames' payloads; more than `limit`
   * bytes fail with 1009, bad data with 1007.
   */
  async decompress(parts: Uint8Array[], limit: number): Promise<Uint8Array> {
    // A 15-bit window reads every smaller one: the peer's limit needs no
    // matching here.
    this.#inflater ??= new ZlibJob(zlib.createInflateRaw({ windowBits: 15 }));
    const job = this.#inflater;
    try {
      return await job.run([...parts, TAIL], limit);
    } finally {
      if (this.#decompressReset || job.failed) this.#closeInflater();
    }
  }

  /** Releases the zlib streams. */
  close(): void {
    this.#closeDeflater();
    this.#closeInflater();
  }

  #closeDeflater(): void {
    this.#deflater?.close();
    this.#deflater = undefined;
  }

  #closeInflater(): void {
    this.#inflater?.close();
    this.#inflater = undefined;
  }
}
