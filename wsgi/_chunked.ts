// The chunked transfer coding (RFC 9112 §7.1): parsing the framing of a
// request body in place, and the framing the server writes around streamed
// response chunks. Unlike the head, chunked framing accepts only CRLF.

import { HttpError } from "./errors.ts";

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;

/** Longest chunk-size line we wait for, extensions included. */
export const MAX_CHUNK_LINE = 4096;

/** The terminating zero-length chunk with an empty trailer section. */
export const LAST_CHUNK: Uint8Array = new TextEncoder().encode("0\r\n\r\n");

/** The CRLF that follows the data of every chunk. */
export const CRLF: Uint8Array = new TextEncoder().encode("\r\n");

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c;

// tchar, for chunk extensions and trailer field names.
const TCHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  TCHAR[c] = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(String.fromCharCode(c))
    ? 1
    : 0;
}

/** A parsed chunk-size line: the chunk's size and where its data starts. */
export interface ChunkHeader {
  /** Bytes of data in the chunk; 0 for the last chunk. */
  size: number;
  /** Index just after the line's CRLF. */
  next: number;
}

/**
 * Parses the chunk-size line at `buf[start, end)`: `null` while it is not
 * complete.
 *
 * @throws {HttpError} 400 when the line is malformed or too long.
 */
export function parseChunkHeader(
  buf: Uint8Array,
  start: number,
  end: number,
): ChunkHeader | null {
  const lf = buf.indexOf(LF, start);
  if (lf === -1 || lf >= end) {
    if (end - start > MAX_CHUNK_LINE) bad("chunk-size line too long");
    return null;
  }
  if (lf - start > MAX_CHUNK_LINE) bad("chunk-size line too long");
  if (lf === start || buf[lf - 1] !== CR) bad("chunk-size line without CRLF");
  const lineEnd = lf - 1;
  let p = start;
  let size = 0;
  for (; p < lineEnd; p++) {
    const digit = HEX[buf[p]];
    if (digit < 0) break;
    // More than 13 hex digits overflow a safe integer.
    if (p - start >= 13) throw new HttpError(413, "chunk too large");
    size = size * 16 + digit;
  }
  if (p === start) bad("invalid chunk size");
  if (p < lineEnd) checkExtensions(buf, p, lineEnd);
  return { size, next: lf + 1 };
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): extensions
// are checked for shape and ignored, as RFC 9112 §7.1.1 allows.
function checkExtensions(buf: Uint8Array, p: number, end: number): void {
  while (p < end) {
    while (p < end && (buf[p] === SP || buf[p] === HT)) p++;
    if (buf[p] !== 0x3b) bad("invalid chunk extension");
    p++;
    while (p < end && (buf[p] === SP || buf[p] === HT)) p++;
    const nameStart = p;
    while (p < end && TCHAR[buf[p]] === 1) p++;
    if (p === nameStart) bad("invalid chunk extension");
    const nameEnd = p;
    while (p < end && (buf[p] === SP || buf[p] === HT)) p++;
    // BWS only around "=": a line may not end in whitespace.
    if (p >= end || buf[p] !== 0x3d) p = nameEnd;
    else {
      p++;
      while (p < end && (buf[p] === SP || buf[p] === HT)) p++;
      if (buf[p] === 0x22) p = skipQuoted(buf, p + 1, end);
      else {
        const valueStart = p;
        while (p < end && TCHAR[buf[p]] === 1) p++;
        if (p === valueStart) bad("invalid chunk extension");
      }
    }
  }
}

function skipQuoted(buf: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = buf[p];
    if (c === 0x22) return p + 1;
    if (c === 0x5c) {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): no bare CR, NUL...
      const escaped = buf[++p];
      if (escaped < 0x20 && escaped !== HT || escaped === 0x7f) {
        bad("invalid chunk extension");
      }
    } else if (c < 0x20 && c !== HT || c === 0x7f) {
      bad("invalid chunk extension");
    }
    p++;
  }
  bad("unterminated quoted string in chunk extension");
}

/** A parsed trailer section. */
export interface Trailers {
  /** The trailer fields, `[name, value]`, as latin1 text. */
  fields: [string, string][];
  /** Index just after the blank line that ends the chunked body. */
  next: number;
}

/**
 * Parses the trailer section at `buf[start, end)` (after the last chunk):
 * `null` while its blank line has not arrived.
 *
 * @throws {HttpError} 400 when malformed, 431 when over `maxSize` bytes or
 * `maxCount` fields.
 */
export function parseTrailers(
  buf: Uint8Array,
  start: number,
  end: number,
  maxSize: number,
  maxCount: number,
): Trailers | null {
  const fields: [string, string][] = [];
  let p = start;
  for (;;) {
    const lf = buf.indexOf(LF, p);
    if (lf === -1 || lf >= end) {
      if (end - start > maxSize) {
        throw new HttpError(431, "trailer section too large");
      }
      return null;
    }
    if (lf - start > maxSize) {
      throw new HttpError(431, "trailer section too large");
    }
    if (lf === p || buf[lf - 1] !== CR) bad("trailer line without CRLF");
    const lineEnd = lf - 1;
    if (lineEnd === p) return { fields, next: lf + 1 };
    if (fields.length >= maxCount) {
      throw new HttpError(431, "too many trailer fields");
    }
    fields.push(parseField(buf, p, lineEnd));
    p = lf + 1;
  }
}

function parseField(
  buf: Uint8Array,
  start: number,
  end: number,
): [string, string] {
  let p = start;
  while (p < end && TCHAR[buf[p]] === 1) p++;
  if (p === start || p >= end || buf[p] !== 0x3a) {
    bad("malformed trailer field");
  }
  const nameEnd = p++;
  while (p < end && (buf[p] === SP || buf[p] === HT)) p++;
  const valueStart = p;
  let valueEnd = p;
  for (; p < end; p++) {
    const c = buf[p];
    if (c === HT || c === SP) continue;
    if (c < 0x20 || c === 0x7f) bad("control character in trailer field");
    valueEnd = p + 1;
  }
  return [
    String.fromCharCode.apply(
      null,
      buf.subarray(start, nameEnd) as unknown as number[],
    ),
    String.fromCharCode.apply(
      null,
      buf.subarray(valueStart, valueEnd) as unknown as number[],
    ),
  ];
}

/** The size line that precedes a chunk of `size` bytes, e.g. `"1f\r\n"`. */
export function chunkPrefix(size: number): string {
  return `${size.toString(16)}\r\n`;
}

function bad(message: string): never {
  throw new HttpError(400, message);
}
