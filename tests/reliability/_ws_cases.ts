// Generated WebSocket client byte streams for the frame fuzz, and a plain
// reference reading of RFC 6455 that says what a server must make of them:
// the messages it delivers, the pongs it sends, and how it ends (the
// client's close echoed, a close frame with an error code, or EOF).

import { Prng } from "./_prng.ts";

const encoder = new TextEncoder();

/** One client frame to encode. */
interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Uint8Array;
  masked: boolean;
  /** Force the 16- or 64-bit length form even for short payloads. */
  lengthForm?: 126 | 127;
}

/** Encodes a frame as a client sends it (masked unless `masked` is false). */
export function encodeClientFrame(rng: Prng, frame: Frame): Uint8Array {
  const n = frame.payload.length;
  const form = frame.lengthForm ?? (n < 126 ? 0 : n < 65536 ? 126 : 127);
  const headLength = 2 + (form === 126 ? 2 : form === 127 ? 8 : 0) +
    (frame.masked ? 4 : 0);
  const out = new Uint8Array(headLength + n);
  out[0] = (frame.fin ? 0x80 : 0) | (frame.rsv << 4) | frame.opcode;
  out[1] = (frame.masked ? 0x80 : 0) | (form === 0 ? n : form);
  let p = 2;
  if (form === 126) {
    out[p++] = n >> 8;
    out[p++] = n & 0xff;
  } else if (form === 127) {
    p += 4; // high 32 bits: 0
    out[p++] = n >>> 24;
    out[p++] = (n >>> 16) & 0xff;
    out[p++] = (n >>> 8) & 0xff;
    out[p++] = n & 0xff;
  }
  const key = frame.masked ? rng.bytes(4) : undefined;
  if (key !== undefined) {
    out.set(key, p);
    p += 4;
  }
  for (let i = 0; i < n; i++) {
    out[p + i] = key === undefined
      ? frame.payload[i]
      : frame.payload[i] ^ key[i & 3];
  }
  return out;
}

const TEXTS = [
  "",
  "hello",
  "héllo wörld",
  "日本語のテキスト",
  "emoji 😀🎉",
  "\uFEFFbom",
  "a".repeat(300),
];
const BAD_UTF8 = [
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe6, 0x97],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
];
const CLOSE_CODES = [
  1000,
  1001,
  1002,
  1003,
  1007,
  1008,
  1011,
  3000,
  4999,
  999,
  1004,
  1005,
  1006,
  1015,
  1016,
  2999,
  5000,
];

function closePayload(rng: Prng): Uint8Array {
  const r = rng.int(10);
  if (r === 0) return new Uint8Array(0);
  if (r === 1) return Uint8Array.of(0x03);
  const code = rng.pick(CLOSE_CODES);
  const reason = rng.chance(0.15)
    ? Uint8Array.from(rng.pick(BAD_UTF8))
    : encoder.encode(rng.pick(["", "bye", "über"]));
  const out = new Uint8Array(2 + reason.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(reason, 2);
  return out;
}

/** Splits `payload` into 1..4 fragments at random byte positions. */
function fragments(rng: Prng, payload: Uint8Array): Uint8Array[] {
  const count = rng.chance(0.6) ? 1 : rng.range(2, 4);
  const cuts = Array.from(
    { length: count - 1 },
    () => rng.int(payload.length + 1),
  ).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const cut of cuts) {
    out.push(payload.subarray(last, cut));
    last = cut;
  }
  out.push(payload.subarray(last));
  return out;
}

/** A stream of client frames: mostly valid, sometimes mutated. */
export function wsCase(
  seed: number,
  i: number,
  maxMessageSize: number,
): Uint8Array {
  const rng = new Prng(Prng.caseSeed(seed, i));
  const frames: Frame[] = [];
  const count = rng.range(0, 8);
  for (let k = 0; k < count; k++) {
    const kind = rng.int(8);
    const control = (opcode: number, payload: Uint8Array) =>
      frames.push({ fin: true, rsv: 0, opcode, payload, masked: true });
    if (kind <= 2) {
      let payload: Uint8Array;
      const text = kind !== 2;
      if (text) {
        payload = rng.chance(0.1)
          ? Uint8Array.from([
            ...encoder.encode(rng.pick(TEXTS)),
            ...rng.pick(BAD_UTF8),
          ])
          : encoder.encode(rng.pick(TEXTS));
      } else {
        payload = rng.bytes(
          rng.chance(0.05)
            ? maxMessageSize + rng.range(-2, 50)
            : rng.range(0, 300),
        );
      }
      const parts = fragments(rng, payload);
      parts.forEach((part, j) => {
        frames.push({
          fin: j === parts.length - 1,
          rsv: 0,
          opcode: j === 0 ? (text ? 1 : 2) : 0,
          payload: part,
          masked: true,
          lengthForm: rng.chance(0.05)
            ? rng.pick([126, 127] as const)
            : undefined,
        });
        // A control frame may come between fragments.
        if (j < parts.length - 1 && rng.chance(0.2)) {
          control(9, rng.bytes(rng.range(0, 20)));
        }
      });
    } else if (kind === 3) control(9, rng.bytes(rng.range(0, 125)));
    else if (kind === 4) control(10, rng.bytes(rng.range(0, 20)));
    else if (kind === 5) {
      // Something a server must refuse.
      const r = rng.int(6);
      if (r === 0) {
        frames.push({
          fin: true,
          rsv: rng.range(1, 7),
          opcode: 1,
          payload: encoder.encode("x"),
          masked: true,
        });
      } else if (r === 1) {
        frames.push({
          fin: true,
          rsv: 0,
          opcode: rng.pick([3, 7, 11, 15]),
          payload: new Uint8Array(1),
          masked: true,
        });
      } else if (r === 2) {
        frames.push({
          fin: false,
          rsv: 0,
          opcode: 9,
          payload: new Uint8Array(0),
          masked: true,
        });
      } else if (r === 3) {
        frames.push({
          fin: true,
          rsv: 0,
          opcode: 9,
          payload: new Uint8Array(126),
          masked: true,
        });
      } else if (r === 4) {
        frames.push({
          fin: true,
          rsv: 0,
          opcode: 0,
          payload: encoder.encode("c"),
          masked: true,
        });
      } else {frames.push({
          fin: true,
          rsv: 0,
          opcode: 2,
          payload: encoder.encode("u"),
          masked: false,
        });}
    } else if (kind === 6) {
      control(8, closePayload(rng));
    }
  }
  if (rng.chance(0.5)) {
    frames.push({
      fin: true,
      rsv: 0,
      opcode: 8,
      payload: closePayload(rng),
      masked: true,
    });
  }
  const parts = frames.map((frame) => encodeClientFrame(rng, frame));
  let total = 0;
  for (const part of parts) total += part.length;
  let out: Uint8Array = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  if (rng.chance(0.3)) out = mutateBytes(rng, out);
  return out;
}

function mutateBytes(rng: Prng, data: Uint8Array): Uint8Array {
  const out = Array.from(data);
  const rounds = rng.range(1, 3);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(5)) {
      case 0:
        if (out.length > 0) out[rng.int(out.length)] ^= 1 << rng.int(8);
        break;
      case 1:
        out.splice(at, 0, ...rng.bytes(rng.range(1, 10)));
        break;
      case 2:
        out.splice(at, rng.range(1, 10));
        break;
      case 3:
        out.length = at;
        break;
      case 4: // a 64-bit length with high bits set
        out.splice(at, 0, 0x82, 0xff, rng.next() & 0xff, 0, 0, 0, 0, 0, 0, 1);
        break;
    }
  }
  return Uint8Array.from(out);
}

/** How a reference server ends the connection. */
export type WsEnd =
  | { kind: "close"; payload: Uint8Array; code: number }
  | { kind: "fail"; codes: Set<number> }
  | { kind: "eof" };

/** What a correct server makes of a client byte stream. */
export interface WsExpected {
  messages: (string | Uint8Array)[];
  pongs: Uint8Array[];
  end: WsEnd;
}

/** True for close codes a peer may send (RFC 6455 §7.4, IANA registry). */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/** Reads `data` as RFC 6455 says a server without extensions must. */
export function expectWs(data: Uint8Array, maxMessageSize: number): WsExpected {
  const messages: (string | Uint8Array)[] = [];
  const pongs: Uint8Array[] = [];
  const fail = (...codes: number[]): WsExpected => ({
    messages,
    pongs,
    end: { kind: "fail", codes: new Set(codes) },
  });
  const eof: WsExpected = { messages, pongs, end: { kind: "eof" } };
  let p = 0;
  let messageOpcode = 0;
  let size = 0;
  let parts: Uint8Array[] = [];
  let decoder: TextDecoder | undefined;
  let text = "";
  for (;;) {
    if (data.length - p < 2) return eof;
    const b0 = data[p];
    const b1 = data[p + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let head = 2;
    const codes: number[] = [];
    if (length === 126) head = 4;
    else if (length === 127) head = 10;
    const keyAt = head;
    if (masked) head += 4;
    if (data.length - p < head) return eof;
    if (length === 126) length = (data[p + 2] << 8) | data[p + 3];
    else if (length === 127) {
      const high =
        ((data[p + 2] << 24) | (data[p + 3] << 16) | (data[p + 4] << 8) |
          data[p + 5]) >>> 0;
      const low =
        ((data[p + 6] << 24) | (data[p + 7] << 16) | (data[p + 8] << 8) |
          data[p + 9]) >>> 0;
      if (high >= 0x80000000) codes.push(1002);
      if (high >= 0x200000) codes.push(1009);
      length = high * 0x100000000 + low;
    }
    if (rsv !== 0) codes.push(1002);
    const known = opcode <= 2 || (opcode >= 8 && opcode <= 10);
    if (!known) codes.push(1002);
    if (opcode >= 8 && (!fin || length > 125)) codes.push(1002);
    if (!masked) codes.push(1002);
    if (opcode === 0 && messageOpcode === 0) codes.push(1002);
    if ((opcode === 1 || opcode === 2) && messageOpcode !== 0) codes.push(1002);
    if (known && opcode < 8 && size + length > maxMessageSize) codes.push(1009);
    if (codes.length > 0) return fail(...codes);
    if (data.length - p < head + length) return eof;
    const payload = data.slice(p + head, p + head + length);
    if (masked) {
      for (let i = 0; i < length; i++) payload[i] ^= data[p + keyAt + (i & 3)];
    }
    p += head + length;
    if (opcode === 8) {
      if (length === 1) return fail(1002);
      let code = 1005;
      if (length >= 2) {
        code = (payload[0] << 8) | payload[1];
        if (!validCloseCode(code)) return fail(1002);
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2));
        } catch {
          return fail(1007);
        }
      }
      return { messages, pongs, end: { kind: "close", payload, code } };
    }
    if (opcode === 9) {
      pongs.push(payload);
      continue;
    }
    if (opcode === 10) continue;
    if (opcode !== 0) {
      messageOpcode = opcode;
      if (opcode === 1) {
        decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
      }
    }
    size += length;
    if (messageOpcode === 1) {
      try {
        text += decoder!.decode(payload, { stream: !fin });
      } catch {
        return fail(1007);
      }
    } else parts.push(payload);
    if (fin) {
      if (messageOpcode === 1) messages.push(text);
      else {
        const out = new Uint8Array(size);
        let at = 0;
        for (const part of parts) {
          out.set(part, at);
          at += part.length;
        }
        messages.push(out);
      }
      messageOpcode = 0;
      size = 0;
      parts = [];
      text = "";
      decoder = undefined;
    }
  }
}

/** A frame the server sent. */
export interface ServerFrame {
  opcode: number;
  payload: Uint8Array;
}

/** Splits what the server sent into frames; throws on anything a server may not send. */
export function serverFrames(data: Uint8Array): ServerFrame[] {
  const out: ServerFrame[] = [];
  let p = 0;
  while (p < data.length) {
    if (data.length - p < 2) throw new Error("truncated server frame head");
    const b0 = data[p];
    const b1 = data[p + 1];
    if ((b0 & 0x70) !== 0) throw new Error("server frame with RSV bits");
    if ((b1 & 0x80) !== 0) throw new Error("masked server frame");
    if ((b0 & 0x80) === 0) throw new Error("fragmented server control frame");
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 126) {
      length = (data[p + 2] << 8) | data[p + 3];
      head = 4;
    } else if (length === 127) {
      throw new Error("unexpected 64-bit server frame");
    }
    if (data.length - p < head + length) {
      throw new Error("truncated server frame");
    }
    out.push({
      opcode: b0 & 0x0f,
      payload: data.slice(p + head, p + head + length),
    });
    p += head + length;
  }
  return out;
}
