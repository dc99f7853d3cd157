// WebSocket framing (RFC 6455 section 5): opcodes, the protocol error that
// carries its close code, masking and frame encoding. Frame heads are parsed
// in place by WebSocketConnection, straight out of the read buffer.

/** WebSocket opcodes (RFC 6455 section 5.2). */
export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes this implementation sends by itself. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_NO_STATUS = 1005;
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

/**
 * A violation of the WebSocket protocol by the peer; `code` is the close code
 * it is answered with (1002 protocol error, 1007 invalid data, 1009 too big).
 */
export class WebSocketProtocolError extends Error {
  /** The close code that this error is answered with. */
  readonly code: number;
  /** Creates the error with its close code. */
  constructor(code: number, message: string) {
    super(message);
    this.name = "WebSocketProtocolError";
    this.code = code;
  }
}

/** True for close codes a peer may send in a close frame (RFC 6455 7.4, IANA registry). */
export function isValidCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

// A scratch word for building the rotated key without allocating.
const keyWord = new Uint32Array(1);
const keyBytes = new Uint8Array(keyWord.buffer);

/**
 * XORs `data` in place with the masking key `k0..k3` (RFC 6455 5.3), whose
 * first byte applies to `data[0]`. Long payloads go four bytes at a time.
 */
export function unmask(
  data: Uint8Array,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): void {
  const length = data.length;
  let i = 0;
  if (length >= 128) {
    // Bytes up to a 4-byte boundary, then aligned words with the key rotated
    // to match (the word's byte order is the platform's, as is the key's).
    const lead = (4 - (data.byteOffset & 3)) & 3;
    const key = lead === 0
      ? [k0, k1, k2, k3]
      : lead === 1
      ? [k1, k2, k3, k0]
      : lead === 2
      ? [k2, k3, k0, k1]
      : [k3, k0, k1, k2];
    if (lead > 0) data[0] ^= k0;
    if (lead > 1) data[1] ^= k1;
    if (lead > 2) data[2] ^= k2;
    keyBytes[0] = key[0];
    keyBytes[1] = key[1];
    keyBytes[2] = key[2];
    keyBytes[3] = key[3];
    const word = keyWord[0];
    const count = (length - lead) >> 2;
    const words = new Uint32Array(data.buffer, data.byteOffset + lead, count);
    for (let w = 0; w < count; w++) words[w] ^= word;
    for (let j = lead + (count << 2); j < length; j++) {
      data[j] ^= key[(j - lead) & 3];
    }
    return;
  }
  for (; i + 3 < length; i += 4) {
    data[i] ^= k0;
    data[i + 1] ^= k1;
    data[i + 2] ^= k2;
    data[i + 3] ^= k3;
  }
  if (i < length) data[i++] ^= k0;
  if (i < length) data[i++] ^= k1;
  if (i < length) data[i] ^= k2;
}

/** Length of a frame head for `length` payload bytes, mask included. */
export function headLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame head ending right before `frame[end]`, for a payload of
 * `length` bytes, and returns where it starts. With `mask` (a client's
 * frames) the 4-byte key is written too; masking the payload is up to the
 * caller.
 */
export function writeHead(
  frame: Uint8Array,
  end: number,
  byte0: number,
  length: number,
  mask: Uint8Array | undefined,
): number {
  const start = end - headLength(length, mask !== undefined);
  let i = start;
  frame[i++] = byte0;
  const maskBit = mask !== undefined ? 0x80 : 0;
  if (length < 126) {
    frame[i++] = maskBit | length;
  } else if (length < 65536) {
    frame[i++] = maskBit | 126;
    frame[i++] = length >>> 8;
    frame[i++] = length & 0xff;
  } else {
    frame[i++] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    frame[i++] = high >>> 24;
    frame[i++] = (high >>> 16) & 0xff;
    frame[i++] = (high >>> 8) & 0xff;
    frame[i++] = high & 0xff;
    frame[i++] = length >>> 24;
    frame[i++] = (length >>> 16) & 0xff;
    frame[i++] = (length >>> 8) & 0xff;
    frame[i++] = length & 0xff;
  }
  if (mask !== undefined) frame.set(mask, i);
  return start;
}

// Small outgoing frames are carved out of shared slabs instead of each
// getting its own ArrayBuffer (an allocation that costs more than the
// framing). Slab memory is never reused: a slab is dropped when full and
// freed once no frame in flight refers to it.
const SLAB_SIZE = 65536;
const SLAB_MAX = 4096;
let slab = new Uint8Array(0);
let slabOffset = 0;

/**
 * `n` bytes for an outgoing frame, never handed out twice (not necessarily
 * zeroed: space given back by `shrinkLastFrame` may have been written to).
 */
export function allocateFrame(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabOffset + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabOffset = 0;
  }
  // The constructor makes the view with less work than subarray().
  const frame = new Uint8Array(slab.buffer, slabOffset, n);
  slabOffset += n;
  return frame;
}

/**
 * Gives back the unused end of the frame that `allocateFrame` returned
 * last, keeping its first `used` bytes.
 */
export function shrinkLastFrame(frame: Uint8Array, used: number): void {
  if (
    frame.buffer === slab.buffer &&
    frame.byteOffset + frame.length === slabOffset
  ) {
    slabOffset = frame.byteOffset + used;
  }
}

/**
 * Encodes one whole frame: head and a copy of `payload` in one buffer,
 * masked with `mask` when given (a client's frames).
 */
export function encodeFrame(
  byte0: number,
  payload: Uint8Array,
  mask?: Uint8Array,
): Uint8Array {
  const length = payload.length;
  const head = headLength(length, mask !== undefined);
  const frame = allocateFrame(head + length);
  writeHead(frame, head, byte0, length, mask);
  frame.set(payload, head);
  if (mask !== undefined) {
    unmask(frame.subarray(head), mask[0], mask[1], mask[2], mask[3]);
  }
  return frame;
}

const encoder = new TextEncoder();

/**
 * A final text frame of `text`, encoded straight into the frame buffer
 * (masked with `mask` when given).
 */
export function encodeTextFrame(
  text: string,
  mask: Uint8Array | undefined,
): Uint8Array {
  const length = text.length;
  if (length < 126) {
    // Short ASCII text is copied char by char: no encoder call, no views;
    // the slab space is given back if it is not ASCII.
    const frame = allocateFrame(length + (mask === undefined ? 2 : 6));
    if (encodeAsciiFrameInto(frame, text, mask)) return frame;
    shrinkLastFrame(frame, 0);
  }
  const most = length * 3;
  const room = headLength(most, mask !== undefined);
  const frame = allocateFrame(room + most);
  const { written } = encoder.encodeInto(text, frame.subarray(room));
  shrinkLastFrame(frame, room + written);
  const start = writeHead(frame, room, finalByte(OP_TEXT), written, mask);
  if (mask !== undefined) {
    unmask(
      frame.subarray(room, room + written),
      mask[0],
      mask[1],
      mask[2],
      mask[3],
    );
  }
  return frame.subarray(start, room + written);
}

/**
 * Encodes `text` (under 126 UTF-16 units) as a whole final text frame that
 * fills `frame` exactly (`text.length` + 2 bytes, + 6 with `mask`), char by
 * char, as long as it is ASCII. Returns false (`frame` then holds garbage)
 * when `text` is not all ASCII: it needs the UTF-8 encoder.
 */
export function encodeAsciiFrameInto(
  frame: Uint8Array,
  text: string,
  mask: Uint8Array | undefined,
): boolean {
  const length = text.length;
  const head = frame.length - length;
  let any = 0;
  if (mask === undefined) {
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      any |= c;
      frame[head + i] = c;
    }
  } else {
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      any |= c;
      frame[head + i] = c ^ mask[i & 3];
    }
  }
  if (any >= 0x80) return false;
  writeHead(frame, head, finalByte(OP_TEXT), length, mask);
  return true;
}

/** The first byte of a final frame with `opcode`, RSV1 set when `compressed`. */
export function finalByte(opcode: number, compressed = false): number {
  return 0x80 | (compressed ? 0x40 : 0) | opcode;
}
