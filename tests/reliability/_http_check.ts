// The checks the HTTP fuzz runs on each case: the request-head parser fed
// whole, in random pieces (as a connection sees it) and embedded in a larger
// buffer must agree with itself, and whatever it accepts is re-derived from
// the raw bytes by a deliberately simple second reading, so that no head can
// mean one thing to the parser and another to a plain line splitter (the
// root of request smuggling). Chunk-size lines and trailers are checked
// against regular expressions written from the RFC 9112 grammar.

import assert from "node:assert/strict";
import {
  MAX_CHUNK_LINE,
  parseChunkHeader,
  parseTrailers,
} from "../../wsgi/_chunked.ts";
import {
  checkIncompleteHead,
  findHeadEnd,
  type HeadLimits,
  parseRequestHead,
  RequestHead,
  resumeScanAt,
  skipEmptyLines,
} from "../../wsgi/_request_head.ts";
import { HttpError } from "../../wsgi/errors.ts";
import { chunkLine, type HttpCase, latin1, makeCase } from "./_http_cases.ts";
import { Prng } from "./_prng.ts";

/** Limits small enough that generated cases cross them. */
export const FUZZ_LIMITS: HeadLimits = {
  maxRequestLineSize: 1024,
  maxHeaderSize: 4096,
  maxHeaderCount: 20,
  maxBodySize: 1_000_000,
};

/** Statuses a request head may earn. */
const HEAD_STATUSES = new Set([400, 413, 414, 421, 431, 501, 505]);
/** Statuses an incomplete head may earn early. */
const EARLY_STATUSES = new Set([400, 414, 431, 505]);

/**
 * What parsing one head gave: a summary of the head, an error status, or
 * `incomplete` (no blank line yet, nothing refused so far).
 */
export type Outcome =
  | { status: number }
  | { head: HeadSummary }
  | { incomplete: true };

/** The fields of a parsed head that tests compare. */
export interface HeadSummary {
  method: string;
  target: string;
  path: string;
  query: string;
  minor: number;
  names: string[];
  values: string[];
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
  host: string;
  scheme: string;
  length: number;
}

function summary(head: RequestHead): HeadSummary {
  return {
    method: head.method,
    target: head.target,
    path: head.path,
    query: head.query,
    minor: head.minor,
    names: head.names,
    values: head.values.slice(0, head.count),
    contentLength: head.contentLength,
    chunked: head.chunked,
    keepAlive: head.keepAlive,
    expectContinue: head.expectContinue,
    host: head.host,
    scheme: head.scheme,
    length: head.length,
  };
}

/**
 * Parses the head at the start of `buf[start, end)` (into `into` when
 * given); anything but an `HttpError` is rethrown.
 */
export function parseOutcome(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits = FUZZ_LIMITS,
  into?: RequestHead,
): Outcome {
  try {
    const head = parseRequestHead(buf, start, end, limits, false, into);
    return head === null ? { incomplete: true } : { head: summary(head) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status };
  }
}

// One head object reused across cases, as a connection reuses its head:
// nothing of an earlier request may show through.
const reused = new RequestHead();

/** Counters of one fuzz run, by outcome. */
export interface FuzzStats {
  cases: number;
  accepted: number;
  incomplete: number;
  rejectedEarly: number;
  byStatus: Record<number, number>;
}

/** An empty set of counters. */
export function newStats(): FuzzStats {
  return {
    cases: 0,
    accepted: 0,
    incomplete: 0,
    rejectedEarly: 0,
    byStatus: {},
  };
}

/**
 * Runs every parser check on one case; throws an `AssertionError` naming
 * what broke. `rng` chooses the piece boundaries and the embedding.
 */
export function checkHeadCase(c: HttpCase, rng: Prng, stats: FuzzStats): void {
  stats.cases++;
  const buf = c.bytes;
  const len = buf.length;
  const start = skipEmptyLines(buf, 0, len);
  const end = findHeadEnd(buf, start, len);

  // 1. Fed in random pieces, the way a connection sees it.
  const early = feedInPieces(buf, rng);
  if (early.end !== -1) assert.equal(early.end, end, "piecewise head end");
  if (early.status !== 0) {
    assert.ok(EARLY_STATUSES.has(early.status), `early status ${early.status}`);
    stats.rejectedEarly++;
    stats.byStatus[early.status] = (stats.byStatus[early.status] ?? 0) + 1;
    if (end !== -1) {
      const outcome = parseOutcome(buf, start, end);
      assert.ok(
        "status" in outcome,
        "a head refused while incomplete must be refused when complete",
      );
    }
    return;
  }
  if (end === -1) {
    stats.incomplete++;
    assert.equal(c.kind === "valid", false, "a valid head must be complete");
    return;
  }

  // 2. Whole, with whatever follows the head (a body, more requests).
  const outcome = parseOutcome(buf, start, len);
  assert.deepEqual(
    parseOutcome(buf, start, end),
    outcome,
    "the bytes after the head changed its outcome",
  );
  assert.deepEqual(
    parseOutcome(buf, start, len, FUZZ_LIMITS, reused),
    outcome,
    "a reused head object changed the outcome",
  );

  // 3. Embedded at another offset, with garbage around: the same outcome.
  const offset = rng.range(1, 64);
  const big = new Uint8Array(offset + len + 64);
  for (let i = 0; i < big.length; i++) big[i] = rng.next() & 0xff;
  big.set(buf, offset);
  assert.deepEqual(
    parseOutcome(big, offset + start, big.length),
    outcome,
    "the outcome depends on the bytes around the head",
  );
  assert.ok(!("incomplete" in outcome), "a complete head parsed as incomplete");

  if ("status" in outcome) {
    assert.ok(HEAD_STATUSES.has(outcome.status), `status ${outcome.status}`);
    stats.byStatus[outcome.status] = (stats.byStatus[outcome.status] ?? 0) + 1;
    if (c.expected !== undefined) {
      assert.fail(`a valid request was refused with ${outcome.status}`);
    }
    return;
  }
  stats.accepted++;
  const head = (outcome as { head: HeadSummary }).head;
  assert.equal(head.length, end - start);
  rereadAccepted(latin1(buf.subarray(start, end)), head);
  if (c.expected !== undefined) {
    const e = c.expected;
    assert.equal(head.method, e.method);
    assert.equal(head.target, e.target);
    assert.equal(head.minor, e.minor);
    assert.deepEqual(head.names, e.names);
    assert.deepEqual(head.values, e.values);
    assert.equal(head.contentLength, e.contentLength);
    assert.equal(head.keepAlive, e.keepAlive);
    assert.equal(head.length, e.headLength);
  }
}

/**
 * The connection's incremental path over random pieces (one-pass parse,
 * then end scans resumed while incomplete): where it found the head's end
 * (-1: never), or the status it refused the incomplete head with.
 */
function feedInPieces(
  buf: Uint8Array,
  rng: Prng,
): { end: number; status: number } {
  let start = 0;
  let scanFrom = -1;
  let have = 0;
  while (have < buf.length) {
    have = Math.min(buf.length, have + rng.range(1, 64));
    const first = skipEmptyLines(buf, start, have);
    if (first > start) {
      start = first;
      scanFrom = -1;
      if (start === have) continue;
    }
    try {
      let headEnd = have;
      if (scanFrom >= 0) {
        headEnd = findHeadEnd(buf, start, have, start + scanFrom);
        if (headEnd === -1) {
          checkIncompleteHead(buf, start, have, FUZZ_LIMITS);
          scanFrom = resumeScanAt(buf, start, have) - start;
          continue;
        }
      }
      const head = parseRequestHead(buf, start, headEnd, FUZZ_LIMITS, false);
      if (head !== null) return { end: start + head.length, status: 0 };
      scanFrom = resumeScanAt(buf, start, have) - start;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // Refused: early only if the head is not complete yet.
      if (findHeadEnd(buf, start, have) !== -1) {
        return { end: findHeadEnd(buf, start, have), status: 0 };
      }
      return { end: -1, status: error.status };
    }
  }
  return { end: -1, status: 0 };
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Reads an accepted head again the simplest way (split on LF, then on the
 * first colon) and checks that the parser saw the same fields, the same
 * framing and nothing a proxy could read differently.
 */
function rereadAccepted(raw: string, head: HeadSummary): void {
  assert.ok(!raw.includes("\0"), "NUL in an accepted head");
  const lines = raw.split("\n");
  assert.deepEqual(lines.slice(-2).map(stripCr), ["", ""], "head end");
  const body = lines.slice(0, -2);
  for (const line of body) {
    assert.ok(!stripCr(line).includes("\r"), "bare CR in an accepted head");
  }
  const [requestLine, ...fieldLines] = body.map(stripCr);
  const parts = requestLine.split(" ");
  assert.equal(parts.length, 3, "request line has exactly two spaces");
  assert.equal(parts[0], head.method);
  assert.ok(TOKEN_RE.test(parts[0]), "method is a token");
  assert.equal(parts[1], head.target);
  assert.ok(/^[\x21-\x22\x24-\x7e]+$/.test(parts[1]), "target bytes");
  assert.ok(/^HTTP\/1\.[0-9]$/.test(parts[2]), "version");
  assert.equal(fieldLines.length, head.names.length, "number of fields");
  const contentLengths: string[] = [];
  const codings: string[] = [];
  let hosts = 0;
  fieldLines.forEach((line, i) => {
    const colon = line.indexOf(":");
    assert.ok(colon > 0, "field line has a name and a colon");
    const name = line.slice(0, colon);
    assert.ok(TOKEN_RE.test(name), `field name ${JSON.stringify(name)}`);
    assert.equal(name, head.names[i]);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    assert.equal(value, head.values[i]);
    for (let k = 0; k < value.length; k++) {
      const c = value.charCodeAt(k);
      assert.ok(c === 9 || (c >= 0x20 && c !== 0x7f), "control in value");
    }
    const lower = name.toLowerCase();
    if (lower === "content-length") contentLengths.push(value);
    if (lower === "transfer-encoding") codings.push(value);
    if (lower === "host") hosts++;
  });
  if (head.minor === 1) assert.equal(hosts, 1, "exactly one Host in 1.1");
  else assert.ok(hosts <= 1, "at most one Host");
  if (codings.length > 0) {
    assert.equal(
      contentLengths.length,
      0,
      "Content-Length with Transfer-Encoding",
    );
    assert.equal(head.minor, 1, "Transfer-Encoding in HTTP/1.0");
    assert.ok(head.chunked && head.contentLength === -1, "TE means chunked");
    const list = codings.join(",").split(",").map((s) => s.trim()).filter((s) =>
      s !== ""
    );
    assert.deepEqual(list.map((s) => s.toLowerCase()), ["chunked"], "codings");
  } else if (contentLengths.length > 0) {
    const items = contentLengths.join(",").split(",").map((s) => s.trim());
    for (const item of items) assert.ok(/^[0-9]+$/.test(item), "CL digits");
    const numbers = new Set(items.map(Number));
    assert.equal(numbers.size, 1, "one Content-Length value");
    assert.equal(head.contentLength, [...numbers][0]);
    assert.equal(head.chunked, false);
  } else {
    assert.equal(head.contentLength, 0, "no framing means no body");
    assert.equal(head.chunked, false);
  }
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

// RFC 9112 §7.1.1: chunk-size [ chunk-ext ] CRLF, where
// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QDTEXT = "[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]";
const QUOTED_PAIR = "\\\\[\\t \\x21-\\x7e\\x80-\\xff]";
const QUOTED = `"(?:${QDTEXT}|${QUOTED_PAIR})*"`;
const EXT = `[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?`;
const CHUNK_LINE = new RegExp(`^([0-9A-Fa-f]+)(?:${EXT})*\\r\\n$`);
const TRAILER_LINE = new RegExp(
  `^${TOKEN}:[ \\t]*[\\t \\x21-\\x7e\\x80-\\xff]*\\r\\n$`,
);

/**
 * Checks `parseChunkHeader` (and, after a last chunk, `parseTrailers`) on
 * `data` against the grammar: returns the status it refused with, 0 when
 * accepted, -1 when it (rightly) waited for more.
 */
export function checkChunkCase(data: Uint8Array): number {
  const text = latin1(data);
  let result;
  let status = 0;
  try {
    result = parseChunkHeader(data, 0, data.length);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    status = error.status;
  }
  const lf = text.indexOf("\n");
  if (lf === -1) {
    if (data.length > MAX_CHUNK_LINE) assert.equal(status, 400);
    else assert.equal(result, null, "incomplete line must wait");
    return -1;
  }
  const line = text.slice(0, lf + 1);
  const digits = /^[0-9A-Fa-f]*/.exec(line)![0].length;
  if (lf > MAX_CHUNK_LINE) {
    assert.equal(status, 400, "over-long chunk line");
    return status;
  }
  if (digits > 13) {
    // Too many digits for any size we accept (413), or malformed too (400).
    assert.ok(
      status === 413 || status === 400,
      `chunk size of ${digits} digits`,
    );
    return status;
  }
  const match = CHUNK_LINE.exec(line);
  if (match === null) {
    assert.equal(status, 400, `chunk line ${JSON.stringify(line)} accepted`);
    return status;
  }
  assert.equal(status, 0, `chunk line ${JSON.stringify(line)} refused`);
  assert.equal(result!.size, parseInt(match[1], 16));
  assert.equal(result!.next, lf + 1);
  if (result!.size === 0) return checkTrailers(data, lf + 1);
  return 0;
}

function checkTrailers(data: Uint8Array, start: number): number {
  let status = 0;
  let result;
  try {
    result = parseTrailers(data, start, data.length, 4096, 20);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    status = error.status;
  }
  // The expected reading: lines up to the first empty one.
  const text = latin1(data.subarray(start));
  let p = 0;
  let fields = 0;
  for (;;) {
    const lf = text.indexOf("\n", p);
    if (lf === -1) {
      assert.equal(result, null, "incomplete trailers must wait");
      return -1;
    }
    const line = text.slice(p, lf + 1);
    if (line === "\r\n") break;
    if (!TRAILER_LINE.test(line)) {
      assert.equal(status, 400, `trailer ${JSON.stringify(line)} accepted`);
      return status;
    }
    fields++;
    p = lf + 1;
  }
  assert.equal(status, 0, "valid trailers refused");
  assert.equal(result!.fields.length, fields);
  assert.equal(result!.next, start + p + 2);
  return 0;
}

/** Where a fuzz run failed: the seed and case reproduce it alone. */
export class FuzzFailure extends Error {
  constructor(seed: number, index: number, data: Uint8Array, cause: unknown) {
    super(
      `case ${index} of seed ${seed} failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }\n  bytes: ${JSON.stringify(latin1(data)).slice(0, 2000)}`,
      { cause },
    );
    this.name = "FuzzFailure";
  }
}

/** Runs `count` head cases of `seed` through {@linkcode checkHeadCase}. */
export function runHeadFuzz(seed: number, count: number, first = 0): FuzzStats {
  const stats = newStats();
  for (let i = first; i < first + count; i++) {
    const c = makeCase(seed, i);
    try {
      checkHeadCase(c, new Prng(Prng.caseSeed(seed ^ 0x5bd1e995, i)), stats);
    } catch (error) {
      throw new FuzzFailure(seed, i, c.bytes, error);
    }
  }
  return stats;
}

/** Counters of a chunked-framing fuzz run. */
export interface ChunkStats {
  cases: number;
  accepted: number;
  refused: number;
  waiting: number;
}

/** Runs `count` chunk-line cases of `seed` through {@linkcode checkChunkCase}. */
export function runChunkFuzz(
  seed: number,
  count: number,
  first = 0,
): ChunkStats {
  const stats = { cases: 0, accepted: 0, refused: 0, waiting: 0 };
  for (let i = first; i < first + count; i++) {
    const data = chunkLine(new Prng(Prng.caseSeed(seed, i)));
    let result: number;
    try {
      result = checkChunkCase(data);
    } catch (error) {
      throw new FuzzFailure(seed, i, data, error);
    }
    stats.cases++;
    if (result === 0) stats.accepted++;
    else if (result === -1) stats.waiting++;
    else stats.refused++;
  }
  return stats;
}
