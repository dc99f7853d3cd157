// Generated HTTP/1.1 requests for the fuzz tests: valid requests built from
// parts (with what a correct parser must make of them), mutations of them,
// random bytes, and a catalogue of header and chunked-framing edge cases.
// Everything is a function of a seed, so each case reproduces alone.

import { Prng } from "./_prng.ts";

/** Bytes of a latin1 string (one byte per char). */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** A latin1 string of bytes. */
export function latin1(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.length; i += 8192) {
    out += String.fromCharCode(...data.subarray(i, i + 8192));
  }
  return out;
}

/** What a correct parser makes of a generated valid request. */
export interface ExpectedHead {
  method: string;
  target: string;
  minor: 0 | 1;
  names: string[];
  values: string[];
  /** -1 when chunked. */
  contentLength: number;
  keepAlive: boolean;
  /** Bytes of the head, blank line included. */
  headLength: number;
}

/** A generated request: its bytes, and for valid ones what they mean. */
export interface HttpCase {
  kind: "valid" | "mutated" | "random" | "edge";
  bytes: Uint8Array;
  /** Set for `valid` cases only. */
  expected?: ExpectedHead;
  /** Body bytes of a valid case (decoded, for chunked). */
  body?: Uint8Array;
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789" +
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PATH_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/";
const METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"];
// Field names with a meaning to the parser: random names must avoid them.
const SPECIAL = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "expect",
]);

function token(rng: Prng, min: number, max: number): string {
  let s = "";
  const n = rng.range(min, max);
  for (let i = 0; i < n; i++) s += TCHARS[rng.int(TCHARS.length)];
  return s;
}

function randomCase(rng: Prng, s: string): string {
  let out = "";
  for (const c of s) out += rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase();
  return out;
}

/** A field value: visible bytes (obs-text included) with inner whitespace. */
function fieldValue(rng: Prng): string {
  let s = "";
  const n = rng.range(0, 24);
  for (let i = 0; i < n; i++) {
    const r = rng.int(20);
    if (r === 0) s += " ";
    else if (r === 1) s += "\t";
    else if (r === 2) s += String.fromCharCode(rng.range(0x80, 0xff));
    else s += String.fromCharCode(rng.range(0x21, 0x7e));
  }
  return s.replace(/^[ \t]+|[ \t]+$/g, "");
}

function path(rng: Prng): string {
  let s = "/";
  const n = rng.range(0, 30);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.05)) {
      s += "%" + rng.range(1, 255).toString(16).padStart(2, "0");
    } else s += PATH_CHARS[rng.int(PATH_CHARS.length)];
  }
  if (rng.chance(0.3)) {
    s += "?";
    const q = rng.range(0, 20);
    for (let i = 0; i < q; i++) s += PATH_CHARS[rng.int(PATH_CHARS.length)];
    if (rng.chance(0.2)) s += "?";
  }
  return s;
}

/** A chunked encoding of `body`, with random chunk sizes, extensions and trailers. */
export function chunked(rng: Prng, body: Uint8Array): string {
  let s = "";
  let p = 0;
  while (p < body.length) {
    const size = Math.min(body.length - p, rng.range(1, 64));
    let sizeText = size.toString(16);
    if (rng.chance(0.3)) sizeText = sizeText.toUpperCase();
    if (rng.chance(0.1)) sizeText = "0" + sizeText;
    s += sizeText;
    if (rng.chance(0.2)) s += `;${token(rng, 1, 6)}`;
    if (rng.chance(0.1)) s += ` ; ${token(rng, 1, 4)}="q\\"x"`;
    s += "\r\n" + latin1(body.subarray(p, p + size)) + "\r\n";
    p += size;
  }
  s += "0\r\n";
  if (rng.chance(0.3)) {
    s += `X-Trailer-${token(rng, 1, 5)}: ${token(rng, 0, 8)}\r\n`;
  }
  return s + "\r\n";
}

/** A valid request, with what a correct parser must make of it. */
export function validRequest(rng: Prng): HttpCase {
  const method = rng.chance(0.8) ? rng.pick(METHODS) : token(rng, 1, 10);
  const target = method === "OPTIONS" && rng.chance(0.2) ? "*" : path(rng);
  const minorDigit = rng.chance(0.15)
    ? 0
    : rng.chance(0.9)
    ? 1
    : rng.range(2, 9);
  const minor: 0 | 1 = minorDigit === 0 ? 0 : 1;
  const eol = rng.chance(0.8) ? "\r\n" : rng.chance(0.5) ? "\n" : "mixed";
  const fields: [string, string][] = [];
  const hostValue = rng.pick([
    "example.com",
    "127.0.0.1:8080",
    "[::1]:80",
    "h",
  ]);
  const hasHost = minor === 1 || rng.chance(0.5);
  const extra = rng.range(0, 8);
  for (let i = 0; i < extra; i++) {
    let name = token(rng, 1, 16);
    while (SPECIAL.has(name.toLowerCase())) name = token(rng, 1, 16);
    fields.push([name, fieldValue(rng)]);
  }
  if (hasHost) {
    fields.splice(rng.int(fields.length + 1), 0, [
      randomCase(rng, "Host"),
      hostValue,
    ]);
  }
  let body: Uint8Array = new Uint8Array(0);
  let contentLength = 0;
  let bodyText = "";
  const framing = rng.int(4);
  if (framing === 1 || (framing === 2 && minor === 0)) {
    body = rng.bytes(rng.range(0, 200));
    contentLength = body.length;
    const cl = randomCase(rng, "Content-Length");
    fields.splice(rng.int(fields.length + 1), 0, [cl, String(body.length)]);
    if (rng.chance(0.1)) {
      // Identical duplicates are one value (RFC 9110 §8.6).
      fields.push([cl, String(body.length)]);
    }
    bodyText = latin1(body);
  } else if (framing === 2) {
    body = rng.bytes(rng.range(0, 300));
    contentLength = -1;
    const te = rng.chance(0.9)
      ? "chunked"
      : rng.pick([", chunked", "chunked,"]);
    fields.splice(rng.int(fields.length + 1), 0, [
      randomCase(rng, "Transfer-Encoding"),
      te,
    ]);
    bodyText = chunked(rng, body);
  }
  let keepAlive = minor === 1;
  if (rng.chance(0.3)) {
    const value = rng.pick(["close", "keep-alive", "Keep-Alive, Upgrade", "x"]);
    fields.push([randomCase(rng, "Connection"), value]);
    const lower = value.toLowerCase();
    if (lower === "close") keepAlive = false;
    else if (lower.includes("keep-alive")) keepAlive = true;
  }
  let head = `${method} ${target} HTTP/1.${minorDigit}`;
  const ending = () =>
    eol === "mixed" ? (rng.chance(0.5) ? "\r\n" : "\n") : eol;
  head += ending();
  const names: string[] = [];
  const values: string[] = [];
  for (const [name, value] of fields) {
    const ows = rng.pick(["", "", " ", "\t", "  "]);
    const trailing = rng.pick(["", "", " ", "\t"]);
    head += `${name}:${ows}${value}${trailing}${ending()}`;
    names.push(name);
    values.push(value);
  }
  head += ending();
  return {
    kind: "valid",
    bytes: bytes(head + bodyText),
    body,
    expected: {
      method,
      target,
      minor,
      names,
      values,
      contentLength,
      keepAlive,
      headLength: head.length,
    },
  };
}

// Bytes that matter to HTTP parsers, favoured by mutations.
const SPECIAL_BYTES = [
  0x00,
  0x09,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x2c,
  0x3a,
  0x3b,
  0x7f,
  0x80,
  0xff,
  0x30,
  0x2b,
  0x2d,
  0x78,
];

const HEADER_EDGES = [
  "Content-Length: 5",
  "Content-Length: 6",
  "Content-Length : 5",
  "Content-Length: +5",
  "Content-Length: -1",
  "Content-Length: 0x5",
  "Content-Length: 5, 6",
  "Content-Length: 5,5",
  "Content-Length: 99999999999999999999",
  "Content-Length:",
  "Content-Length: 5 5",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: chunked, identity",
  "Transfer-Encoding: identity",
  "Transfer-Encoding: gzip, chunked",
  "Transfer-Encoding: chunked, chunked",
  "Transfer-Encoding: xchunked",
  "Transfer-Encoding:\tchunked",
  "Transfer-Encoding : chunked",
  "Transfer-Encoding: chunked;q=1",
  "Transfer-Encoding: ,",
  "Host: a",
  "Host: a b",
  "Host: [::1",
  " Host: folded",
  "\tX: tab-folded",
  "X: a\rb",
  "X: a\x00b",
  "X\x00: a",
  ": empty-name",
  "X-No-Colon",
  "Expect: 100-continue",
  "Connection: close",
  "Connection: keep-alive",
  "Upgrade: websocket",
];

const CHUNK_EDGES = [
  "0\r\n\r\n",
  "5\r\nhello\r\n0\r\n\r\n",
  "5\nhello\r\n0\r\n\r\n",
  "5\r\nhello\n0\r\n\r\n",
  "5\rhello\r\n0\r\n\r\n",
  '5;a="x\rb"\r\nhello\r\n0\r\n\r\n',
  '5;a="x\\\rb"\r\nhello\r\n0\r\n\r\n',
  "5;a\rb\r\nhello\r\n0\r\n\r\n",
  "ffffffffffffffffffff\r\n",
  "fffffffffffff\r\n",
  "-5\r\nhello\r\n0\r\n\r\n",
  "+5\r\nhello\r\n0\r\n\r\n",
  "0x5\r\nhello\r\n0\r\n\r\n",
  " 5\r\nhello\r\n0\r\n\r\n",
  "5 \r\nhello\r\n0\r\n\r\n",
  "5\r\nhello0\r\n\r\n",
  "5\r\nhelloXX0\r\n\r\n",
  "0\r\nX: t\r\n\r\n",
  "0\r\nContent-Length: 5\r\n\r\n",
  "0\r\n bad\r\n\r\n",
  "0\r\nX: a\rb\r\n\r\n",
  "0\r\n\n",
];

/** One mutation of `data`: flips, inserts, deletes, duplications, truncations. */
export function mutate(rng: Prng, data: Uint8Array): Uint8Array {
  let out = Array.from(data);
  const rounds = rng.range(1, 4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(9)) {
      case 0: // replace one byte
        if (out.length > 0) out[rng.int(out.length)] = rng.next() & 0xff;
        break;
      case 1: // replace with a byte that matters
        if (out.length > 0) out[rng.int(out.length)] = rng.pick(SPECIAL_BYTES);
        break;
      case 2: // insert one
        out.splice(at, 0, rng.pick(SPECIAL_BYTES));
        break;
      case 3: // delete a run
        out.splice(at, rng.range(1, 8));
        break;
      case 4: { // duplicate a run
        const len = rng.range(1, 40);
        out.splice(at, 0, ...out.slice(at, at + len));
        break;
      }
      case 5: // truncate
        out = out.slice(0, at);
        break;
      case 6: { // insert an edge-case header after the first line ending
        const lf = out.indexOf(0x0a);
        const line = rng.pick(HEADER_EDGES) + (rng.chance(0.8) ? "\r\n" : "\n");
        out.splice(lf + 1, 0, ...bytes(line));
        break;
      }
      case 7: // CRLF → LF or CR, or LF → CRLF
        for (let i = 0; i < out.length; i++) {
          if (out[i] === 0x0d && out[i + 1] === 0x0a && rng.chance(0.3)) {
            out.splice(rng.chance(0.5) ? i : i + 1, 1);
          }
        }
        break;
      case 8: // a long run of one byte
        out.splice(
          at,
          0,
          ...new Array(rng.range(1, 2000)).fill(rng.pick(SPECIAL_BYTES)),
        );
        break;
    }
  }
  return Uint8Array.from(out);
}

/** Random bytes, often shaped like a head (lines and a blank line). */
export function randomBytes(rng: Prng): Uint8Array {
  const out = rng.bytes(rng.range(0, 300));
  for (let i = 0; i < out.length; i++) {
    if (rng.chance(0.05)) out[i] = 0x0a;
    else if (rng.chance(0.03)) out[i] = 0x0d;
  }
  if (rng.chance(0.7)) {
    const tail = bytes("\r\n\r\n");
    const both = new Uint8Array(out.length + 4);
    both.set(out);
    both.set(tail, out.length);
    return both;
  }
  return out;
}

/** A request built around one header or chunked-framing edge case. */
export function edgeRequest(rng: Prng): Uint8Array {
  const lines = [`POST /e HTTP/1.${rng.chance(0.9) ? 1 : 0}`, "Host: h"];
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    lines.splice(rng.range(1, lines.length), 0, rng.pick(HEADER_EDGES));
  }
  const body = rng.chance(0.5) ? rng.pick(CHUNK_EDGES) : "hello";
  return bytes(lines.join("\r\n") + "\r\n\r\n" + body);
}

/** Case `i` of the run seeded `seed`: a mix of every kind. */
export function makeCase(seed: number, i: number): HttpCase {
  const rng = new Prng(Prng.caseSeed(seed, i));
  const r = rng.int(10);
  if (r < 3) return validRequest(rng);
  if (r < 7) {
    return { kind: "mutated", bytes: mutate(rng, validRequest(rng).bytes) };
  }
  if (r < 8) return { kind: "random", bytes: randomBytes(rng) };
  return { kind: "edge", bytes: edgeRequest(rng) };
}

/** Chunk-size lines for the chunked-framing fuzz: valid, edge and mutated. */
export function chunkLine(rng: Prng): Uint8Array {
  const r = rng.int(4);
  if (r === 0) return bytes(rng.pick(CHUNK_EDGES));
  const body = rng.bytes(rng.range(1, 40));
  const text = chunked(rng, body);
  const data = bytes(text);
  return r === 1 ? data : mutate(rng, data);
}
