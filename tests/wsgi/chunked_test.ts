import assert from "node:assert/strict";
import {
  chunkPrefix,
  LAST_CHUNK,
  MAX_CHUNK_LINE,
  parseChunkHeader,
  parseTrailers,
} from "../../wsgi/_chunked.ts";
import { HttpError } from "../../wsgi/errors.ts";

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function header(text: string) {
  const buf = bytes(text);
  return parseChunkHeader(buf, 0, buf.length);
}

function headerStatus(text: string): number {
  try {
    header(text);
    return 0;
  } catch (error) {
    assert.ok(error instanceof HttpError);
    return error.status;
  }
}

Deno.test("chunk-size lines: hex sizes, extensions, incomplete", () => {
  assert.deepEqual(header("1a\r\ndata"), { size: 26, next: 4 });
  assert.deepEqual(header("0\r\n\r\n"), { size: 0, next: 3 });
  assert.deepEqual(header("FF\r\n"), { size: 255, next: 4 });
  assert.deepEqual(header("000010\r\n"), { size: 16, next: 8 });
  assert.deepEqual(header("5;name=value\r\n"), { size: 5, next: 14 });
  assert.deepEqual(header('5 ; a = "q\\"x" ;b\r\n'), { size: 5, next: 19 });
  assert.equal(header("1a"), null);
  assert.equal(header("1a\r"), null);
  assert.equal(header(""), null);
});

Deno.test("chunk-size lines: bare LF, junk, overflow are refused", () => {
  assert.equal(headerStatus("1a\ndata"), 400); // bare LF never in framing
  assert.equal(headerStatus("\r\n"), 400);
  assert.equal(headerStatus("x\r\n"), 400);
  assert.equal(headerStatus(" 5\r\n"), 400);
  assert.equal(headerStatus("-5\r\n"), 400);
  assert.equal(headerStatus("0x5\r\n"), 400);
  assert.equal(headerStatus("5 x\r\n"), 400);
  assert.equal(headerStatus("5;\r\n"), 400);
  assert.equal(headerStatus('5;a="unterminated\r\n'), 400);
  assert.equal(headerStatus("5;a=\x01\r\n"), 400);
  assert.equal(headerStatus("5\r\r\n"), 400);
  assert.equal(headerStatus("fffffffffffffff\r\n"), 413);
  assert.equal(headerStatus("1" + ";a=b".repeat(MAX_CHUNK_LINE) + "\r\n"), 400);
  assert.equal(headerStatus("1" + ";a=b".repeat(MAX_CHUNK_LINE)), 400);
});

Deno.test("trailers: fields parsed, CRLF required, size and count limited", () => {
  const buf = bytes("X-Sum: 42\r\nExpires: never \r\n\r\nNEXT");
  const trailers = parseTrailers(buf, 0, buf.length, 1000, 10);
  assert.deepEqual(trailers, {
    fields: [["X-Sum", "42"], ["Expires", "never"]],
    next: 30,
  });
  const empty = bytes("\r\n");
  assert.deepEqual(parseTrailers(empty, 0, 2, 1000, 10), {
    fields: [],
    next: 2,
  });
  const incomplete = bytes("X-Sum: 42\r\n");
  assert.equal(parseTrailers(incomplete, 0, incomplete.length, 1000, 10), null);
  const status = (text: string, maxSize = 1000, maxCount = 10) => {
    const b = bytes(text);
    try {
      parseTrailers(b, 0, b.length, maxSize, maxCount);
      return 0;
    } catch (error) {
      return (error as HttpError).status;
    }
  };
  assert.equal(status("X: 1\n\r\n"), 400);
  assert.equal(status("X: 1\r\n\n"), 400);
  assert.equal(status(" X: 1\r\n\r\n"), 400);
  assert.equal(status("X : 1\r\n\r\n"), 400);
  assert.equal(status("X: a\x00b\r\n\r\n"), 400);
  assert.equal(status("X: 1\r\n".repeat(50) + "\r\n", 100), 431);
  assert.equal(status("X: 1\r\n".repeat(50), 100), 431);
  assert.equal(status("X: 1\r\n".repeat(5) + "\r\n", 1000, 4), 431);
});

Deno.test("encoder: size prefix in hex and the last chunk", () => {
  assert.equal(chunkPrefix(1), "1\r\n");
  assert.equal(chunkPrefix(255), "ff\r\n");
  assert.equal(chunkPrefix(65536), "10000\r\n");
  assert.equal(new TextDecoder().decode(LAST_CHUNK), "0\r\n\r\n");
});
