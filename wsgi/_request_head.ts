// The request-head parser (RFC 9112 §2-§7): pure functions over the bytes of
// the connection's read buffer, so the head is parsed in place, without
// copies, and a malformed one becomes an HttpError carrying its status.

import {
  CONNECTION,
  CONTENT_LENGTH,
  EXPECT,
  type FieldName,
  fieldName,
  HOST as HOST_FIELD,
  TRANSFER_ENCODING,
  UPGRADE,
} from "./_field_names.ts";
import { hashBytes, internBytes, latin1, sameBytes } from "./_strings.ts";
import { HttpError } from "./errors.ts";

/** Limits that bound what a request head may cost the server. */
export interface HeadLimits {
  /** Longest request line, in bytes without its line ending (→ 414). */
  maxRequestLineSize: number;
  /** Request line plus header lines, in bytes (→ 431). */
  maxHeaderSize: number;
  /** Most header lines in one head (→ 431). */
  maxHeaderCount: number;
  /** Largest `Content-Length` accepted (→ 413). */
  maxBodySize: number;
}

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;
const COLON = 58;

// Byte classes, as lookup tables (one load per byte in the hot loops).
/** tchar (RFC 9110 §5.6.2): the bytes of methods and field names. */
const TCHAR = new Uint8Array(256);
/** The bytes of a request-target: visible ASCII without `#`. */
const TARGET = new Uint8Array(256);
/** field-vchar, SP and HTAB (RFC 9110 §5.5): the bytes of a field value. */
const FIELD_VALUE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  TCHAR[c] = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(ch) ? 1 : 0;
  TARGET[c] = c > 0x20 && c < 0x7f && c !== 0x23 ? 1 : 0;
  FIELD_VALUE[c] = c === HT || (c >= 0x20 && c !== 0x7f) ? 1 : 0;
}

const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.\-]*):\/\/([^/?]*)(.*)$/;
const AUTHORITY_FORM =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]+$/;
const DIGITS = /^[0-9]+$/;

/** A parsed request head: what the connection needs to frame and route it. */
export class RequestHead {
  /** The method, a token, as sent (methods are case-sensitive). */
  method = "";
  /** The request-target exactly as sent. */
  target = "";
  /** The path of the target, still percent-encoded (`*` or `""` for the asterisk and authority forms). */
  path = "";
  /** The query of the target, without `?`. */
  query = "";
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later 1.x). */
  minor = 1;
  /** Header field names in order (parallel to `values`; `count` of them). */
  fields: FieldName[] = [];
  /** Header values with surrounding whitespace removed, as latin1 text. */
  values: string[] = [];
  /** Number of header fields (the arrays are reused and may be longer). */
  count = 0;
  /** The body length; -1 when the body is chunked; 0 when there is none. */
  contentLength = 0;
  /** True when the body uses the chunked transfer coding. */
  chunked = false;
  /** True when the client wants the connection kept open after this request. */
  keepAlive = true;
  /** True for `Expect: 100-continue` on an HTTP/1.1 request. */
  expectContinue = false;
  /** True when the request asks to switch protocols (`Upgrade`). */
  upgrade = false;
  /** The authority from an absolute-form target, else the `Host` header ("" if none). */
  host = "";
  /** `"http"`/`"https"` when the target was in absolute form, else `""`. */
  scheme = "";
  /** Bytes of the buffer the head used, from `start` to after its blank line. */
  length = 0;
  /** The bytes of the last head parsed into this object (the first `rawLength`). */
  raw: Uint8Array = new Uint8Array(0);
  /** How many bytes of `raw` hold that head; 0 when none is kept. */
  rawLength = 0;
  /** True when this head's bytes were the same as the last head parsed into it. */
  repeated = false;
  /**
   * What a connection may keep for a repeated head: the environ built for
   * it, to be copied (never handed out itself). Cleared by a new parse.
   */
  environ: Record<string, unknown> | undefined = undefined;
  /** `raw` as 32-bit words, for a faster comparison. */
  rawWords: Int32Array = new Int32Array(0);
  /** The buffer last compared with, and its words (made when it changes). */
  inputBuffer: ArrayBufferLike | undefined = undefined;
  inputWords: Int32Array = new Int32Array(0);

  /** Header names as sent, in order. */
  get names(): string[] {
    return this.fields.slice(0, this.count).map((field) => field.name);
  }

  /** Clears the head for reuse (a connection parses its heads into one object). */
  reset(): void {
    this.method =
      this.target =
      this.path =
      this.query =
        "";
    this.minor = 1;
    this.count = 0;
    this.contentLength = 0;
    this.chunked = false;
    this.keepAlive = true;
    this.expectContinue = false;
    this.upgrade = false;
    this.host = this.scheme = "";
    this.length = 0;
    this.rawLength = 0;
    this.repeated = false;
    this.environ = undefined;
  }
}

// The last Host value found valid (clients send the same one again and again).
let lastValidHost = "";

/**
 * Returns where the request line starts after the empty lines that may precede
 * it (RFC 9112 §2.2); a lone CR at the end of the data is left for later.
 */
export function skipEmptyLines(
  buf: Uint8Array,
  start: number,
  end: number,
): number {
  let p = start;
  while (p < end) {
    const c = buf[p];
    if (c === LF) p++;
    else if (c === CR && p + 1 < end && buf[p + 1] === LF) p += 2;
    else break;
  }
  return p;
}

/**
 * Finds the end of a head starting at `start`: the index just after its
 * blank line (LF LF or LF CR LF), or -1 when it is not complete yet.
 * `from` (>= start) is where a previous call stopped, so a head that arrives
 * byte by byte is scanned once, not once per byte.
 */
export function findHeadEnd(
  buf: Uint8Array,
  start: number,
  end: number,
  from = start,
): number {
  let i = buf.indexOf(LF, from < start ? start : from);
  while (i !== -1 && i < end) {
    const next = i + 1;
    if (next >= end) return -1;
    const c = buf[next];
    if (c === LF) return next + 1;
    if (c === CR) {
      if (next + 1 >= end) return -1;
      if (buf[next + 1] === LF) return next + 2;
    }
    i = buf.indexOf(LF, next);
  }
  return -1;
}

/**
 * Where {@linkcode findHeadEnd} may resume after it returned -1 for
 * `buf[start, end)`: the last LF may still become part of the blank line.
 */
export function resumeScanAt(
  buf: Uint8Array,
  start: number,
  end: number,
): number {
  const last = buf.lastIndexOf(LF, end - 1);
  return last < start ? end : last;
}

/**
 * Throws the status an incomplete head `buf[start, end)` has already earned:
 * 414 when its request line is too long, 431 when the head is too large.
 */
export function checkIncompleteHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): void {
  const lineEnd = buf.indexOf(LF, start);
  const lineLength = lineEnd === -1 || lineEnd >= end
    ? end - start
    : lineEnd - start;
  if (lineLength > limits.maxRequestLineSize + 1) {
    throw new HttpError(414, "request line too long");
  }
  if (end - start > limits.maxHeaderSize) {
    throw new HttpError(431, "request head too large");
  }
  // A complete request line is checked at once: an HTTP/0.9 or HTTP/2 client
  // waits for an answer and would otherwise only get 408 at headersTimeout.
  if (lineEnd !== -1 && lineEnd < end) checkRequestLine(buf, start, lineEnd);
}

/** Throws the 400 or 505 that the request line `buf[start, lineEnd)` earns. */
function checkRequestLine(
  buf: Uint8Array,
  start: number,
  lineEnd: number,
): void {
  const contentEnd = buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  let p = start;
  while (TCHAR[buf[p]] === 1) p++;
  if (p === start || buf[p] !== SP || p >= contentEnd) {
    bad("malformed request line");
  }
  const targetStart = ++p;
  while (TARGET[buf[p]] === 1) p++;
  if (p === targetStart || buf[p] !== SP) bad("malformed request line");
  parseVersion(buf, p + 1, contentEnd);
}

const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "CONNECT",
  "TRACE",
];

/** The method token at `buf[start, end)`, the common ones without a new string. */
function method(buf: Uint8Array, start: number, end: number): string {
  const length = end - start;
  for (const name of METHODS) {
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && name.charCodeAt(i) === buf[start + i]) i++;
    if (i === length) return name;
  }
  return latin1(buf, start, end);
}

function bad(message: string): never {
  throw new HttpError(400, message);
}

/**
 * Parses the head at the start of `buf[start, end)`: `null` while its blank
 * line has not arrived (it may be followed by more bytes, e.g. pipelined
 * requests; `head.length` tells how many it used). `secure` tells whether
 * the connection uses TLS, for the scheme check of absolute-form targets.
 * Strings are interned: bytes seen before give the same string again.
 *
 * @throws {HttpError} 400 for malformed input, 413, 414, 421, 431, 501, 505
 * (414 and 431 also for an incomplete head that is already too long).
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
  secure: boolean,
  into?: RequestHead,
): RequestHead | null {
  // A head identical to the last one parsed into `into` (a client repeating
  // itself) parses the same: its results are still there.
  if (
    into !== undefined && into.rawLength > 0 && sameHead(into, buf, start, end)
  ) {
    into.repeated = true;
    return into;
  }
  // --- request-line = method SP request-target SP HTTP-version
  const lineEnd = buf.indexOf(LF, start);
  if (lineEnd === -1 || lineEnd >= end) {
    checkIncompleteHead(buf, start, end, limits);
    return null;
  }
  const contentEnd = buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  if (contentEnd - start > limits.maxRequestLineSize) {
    throw new HttpError(414, "request line too long");
  }
  let p = start;
  while (TCHAR[buf[p]] === 1) p++;
  if (p === start || buf[p] !== SP || p >= contentEnd) {
    bad("malformed request line");
  }
  const methodEnd = p++;
  const targetStart = p;
  let targetHash = 0;
  for (let c = buf[p]; TARGET[c] === 1; c = buf[++p]) {
    targetHash = (targetHash * 31 + c) | 0;
  }
  if (p === targetStart || buf[p] !== SP) bad("malformed request line");
  const targetEnd = p++;
  const minor = parseVersion(buf, p, contentEnd);

  let head: RequestHead;
  if (into === undefined) head = new RequestHead();
  else {
    head = into;
    head.reset();
  }
  head.minor = minor;
  head.method = method(buf, start, methodEnd);
  head.target = internBytes(buf, targetStart, targetEnd, targetHash);

  // --- field-line = field-name ":" OWS field-value OWS, until a blank line
  const maxEnd = start + limits.maxHeaderSize;
  const list = head.fields;
  const values = head.values;
  let count = 0;
  let hosts = 0;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection: string | undefined;
  p = lineEnd + 1;
  for (;;) {
    const lf = buf.indexOf(LF, p);
    if (lf === -1 || lf >= end) {
      checkIncompleteHead(buf, start, end, limits);
      return null;
    }
    if (lf >= maxEnd) throw new HttpError(431, "request head too large");
    let c = buf[p];
    if (lf === p || (c === CR && lf === p + 1)) {
      p = lf + 1; // the blank line
      break;
    }
    if (c === SP || c === HT) bad("obsolete line folding in request head");
    const nameStart = p;
    while (TCHAR[buf[p]] === 1) p++;
    if (buf[p] !== COLON) {
      c = buf[p];
      if (c === SP || c === HT) bad("whitespace before colon in header");
      if (c === CR || c === LF) bad("header line without a colon");
      bad("invalid character in header name");
    }
    if (p === nameStart) bad("empty header name");
    const nameEnd = p++;
    let valueEnd = buf[lf - 1] === CR ? lf - 1 : lf;
    while (p < valueEnd && (buf[p] === SP || buf[p] === HT)) p++;
    while (
      valueEnd > p && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)
    ) {
      valueEnd--;
    }
    // A reused head still holds the last request's fields: a client sends
    // the same ones again and again, and those are taken without a lookup.
    const previous = values[count];
    let same = previous !== undefined && previous.length === valueEnd - p;
    for (let i = p; i < valueEnd; i++) {
      c = buf[i];
      // field-vchar, SP, HTAB and obs-text; anything else (NUL, CR, DEL...) is refused.
      if ((c < 0x20 && c !== HT) || c === 0x7f) {
        bad(
          c === 0
            ? "NUL in header value"
            : c === CR
            ? "bare CR in request head"
            : "control character in header",
        );
      }
      if (same && previous.charCodeAt(i - p) !== c) same = false;
    }
    if (count >= limits.maxHeaderCount) {
      throw new HttpError(431, "too many header fields");
    }
    const known = list[count];
    const field =
      known !== undefined && sameBytes(known.name, buf, nameStart, nameEnd)
        ? known
        : fieldName(buf, nameStart, nameEnd);
    const value = same
      ? previous
      : internBytes(buf, p, valueEnd, hashBytes(buf, p, valueEnd));
    list[count] = field;
    values[count++] = value;
    switch (field.kind) {
      case HOST_FIELD:
        hosts++;
        head.host = value;
        break;
      case EXPECT:
        if (minor === 1 && value.toLowerCase() === "100-continue") {
          head.expectContinue = true;
        }
        break;
      case CONNECTION:
        connection = connection === undefined
          ? value
          : `${connection}, ${value}`;
        break;
      case CONTENT_LENGTH:
        contentLength = contentLength === undefined
          ? value
          : `${contentLength}, ${value}`;
        break;
      case UPGRADE:
        head.upgrade = true;
        break;
      case TRANSFER_ENCODING:
        transferEncoding = transferEncoding === undefined
          ? value
          : `${transferEncoding}, ${value}`;
        break;
    }
    p = lf + 1;
  }
  if (p - start > limits.maxHeaderSize) {
    throw new HttpError(431, "request head too large");
  }
  head.length = p - start;
  head.count = count;

  // --- Host (RFC 9112 §3.2) and the form of the target (§3.2.1-§3.2.4)
  if (hosts > 1) bad("more than one Host header");
  if (hosts === 0 && minor === 1) bad("missing Host header");
  if (hosts === 1 && head.host !== lastValidHost) {
    if (!HOST.test(head.host)) bad("invalid Host header");
    lastValidHost = head.host;
  }
  parseTarget(head, secure);

  // --- message body framing (RFC 9112 §6.1-§6.3)
  if (transferEncoding !== undefined) {
    if (minor === 0) bad("Transfer-Encoding in an HTTP/1.0 request");
    if (contentLength !== undefined) {
      bad("both Content-Length and Transfer-Encoding");
    }
    head.chunked = true;
    head.contentLength = -1;
    checkTransferCodings(transferEncoding);
  } else if (contentLength !== undefined) {
    head.contentLength = parseContentLength(contentLength, limits.maxBodySize);
  }

  // --- persistence (RFC 9112 §9.3)
  if (connection === undefined) head.keepAlive = minor === 1;
  else head.keepAlive = keepAliveFrom(connection, minor);
  // Keep the bytes, for the next head of the same connection to compare.
  const length = head.length;
  if (length <= MAX_KEPT_HEAD) {
    if (head.raw.length < length) {
      head.raw = new Uint8Array(length <= 256 ? 256 : MAX_KEPT_HEAD);
      head.rawWords = new Int32Array(head.raw.buffer);
    }
    head.raw.set(buf.subarray(start, start + length));
    head.rawLength = length;
  }
  return head;
}

// Heads up to this size are kept for the comparison.
const MAX_KEPT_HEAD = 1024;

/** True when `buf[start, end)` begins with the head kept in `head.raw`. */
function sameHead(
  head: RequestHead,
  buf: Uint8Array,
  start: number,
  end: number,
): boolean {
  const n = head.rawLength;
  if (end - start < n) return false;
  let i = 0;
  const offset = buf.byteOffset + start;
  if ((offset & 3) === 0) {
    // Aligned (a read lands at the start of the buffer): four bytes at a
    // time. A connection keeps reading into the same buffer, so its words
    // view is made once.
    if (head.inputBuffer !== buf.buffer) {
      head.inputBuffer = buf.buffer;
      head.inputWords = new Int32Array(
        buf.buffer,
        0,
        buf.buffer.byteLength >> 2,
      );
    }
    const words = head.inputWords;
    const raw = head.rawWords;
    const base = offset >> 2;
    const count = n >> 2;
    for (; i < count; i++) {
      if (raw[i] !== words[base + i]) return false;
    }
    i = count << 2;
  }
  const raw = head.raw;
  for (; i < n; i++) {
    if (raw[i] !== buf[start + i]) return false;
  }
  return true;
}

function parseVersion(buf: Uint8Array, p: number, end: number): number {
  if (
    end - p !== 8 || buf[p] !== 0x48 || buf[p + 1] !== 0x54 ||
    buf[p + 2] !== 0x54 || buf[p + 3] !== 0x50 || buf[p + 4] !== 0x2f ||
    buf[p + 6] !== 0x2e
  ) {
    bad("malformed HTTP version");
  }
  const major = buf[p + 5] - 0x30;
  const minor = buf[p + 7] - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) {
    bad("malformed HTTP version");
  }
  if (major !== 1) {
    throw new HttpError(505, "HTTP version not supported");
  }
  return minor === 0 ? 0 : 1;
}

function parseTarget(head: RequestHead, secure: boolean): void {
  const target = head.target;
  if (head.method === "CONNECT") {
    if (!AUTHORITY_FORM.test(target)) {
      bad("CONNECT needs an authority-form target");
    }
    head.host = target;
    return;
  }
  if (target.charCodeAt(0) === 0x2f) { // "/": origin-form
    splitPathQuery(head, target);
    return;
  }
  if (target === "*") {
    if (head.method !== "OPTIONS") bad("asterisk-form target outside OPTIONS");
    head.path = "*";
    return;
  }
  const match = ABSOLUTE_FORM.exec(target);
  if (match === null) bad("malformed request target");
  const scheme = match[1].toLowerCase();
  if (scheme !== "http" && scheme !== "https") bad("unsupported URI scheme");
  const authority = match[2];
  if (authority === "" || authority.includes("@") || !HOST.test(authority)) {
    bad("invalid authority in request target");
  }
  if ((scheme === "https") !== secure) {
    throw new HttpError(421, `${scheme} target on this connection`);
  }
  head.scheme = scheme;
  head.host = authority;
  const rest = match[3];
  splitPathQuery(
    head,
    rest === "" || rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest,
  );
}

function splitPathQuery(head: RequestHead, pathAndQuery: string): void {
  const q = pathAndQuery.indexOf("?");
  if (q === -1) {
    head.path = pathAndQuery;
  } else {
    head.path = pathAndQuery.slice(0, q);
    head.query = pathAndQuery.slice(q + 1);
  }
}

function checkTransferCodings(value: string): void {
  const codings = value.split(",");
  let last = "";
  let chunkedSeen = false;
  let unknown = false;
  for (let i = 0; i < codings.length; i++) {
    const element = codings[i].trim();
    if (element === "") continue; // empty list elements are ignored (RFC 9110 §5.6.1)
    if (chunkedSeen) bad("chunked is not the last transfer coding");
    const semicolon = element.indexOf(";");
    const coding = (semicolon === -1 ? element : element.slice(0, semicolon))
      .trim().toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(coding)) {
      bad("malformed Transfer-Encoding");
    }
    if (coding === "chunked") {
      if (semicolon !== -1) bad("parameters on the chunked coding");
      chunkedSeen = true;
    } else {
      unknown = true;
    }
    last = coding;
  }
  if (last !== "chunked") bad("chunked is not the last transfer coding");
  if (unknown) throw new HttpError(501, "transfer coding not implemented");
}

function parseContentLength(value: string, maxBodySize: number): number {
  let result = -1;
  const items = value.indexOf(",") === -1 ? [value] : value.split(",");
  for (let i = 0; i < items.length; i++) {
    const item = items[i].trim();
    if (!DIGITS.test(item)) bad("invalid Content-Length");
    // Longer numbers than this exceed any body we could accept.
    if (item.length > 15) throw new HttpError(413, "request body too large");
    const n = Number(item);
    if (result !== -1 && n !== result) bad("differing Content-Length values");
    result = n;
  }
  if (result > maxBodySize) {
    throw new HttpError(413, "request body too large");
  }
  return result;
}

function keepAliveFrom(connection: string, minor: number): boolean {
  const lower = connection.toLowerCase();
  if (lower === "close") return false;
  if (lower === "keep-alive") return true;
  let close = false;
  let keepAlive = false;
  for (const token of lower.split(",")) {
    const t = token.trim();
    if (t === "close") close = true;
    else if (t === "keep-alive") keepAlive = true;
  }
  if (close) return false;
  return minor === 1 || keepAlive;
}

/** Percent-decodes a path to bytes shown as latin1; `%00` is refused. */
export function decodePath(path: string): string {
  if (path.indexOf("%") === -1) return path;
  let out = "";
  let last = 0;
  for (let i = path.indexOf("%"); i !== -1; i = path.indexOf("%", i + 1)) {
    const code = parseInt(path.substr(i + 1, 2), 16);
    if (!/^[0-9A-Fa-f]{2}$/.test(path.substr(i + 1, 2))) continue;
    if (code === 0) throw new HttpError(400, "%00 in the request path");
    out += path.slice(last, i) + String.fromCharCode(code);
    last = i + 3;
    i += 2;
  }
  return out + path.slice(last);
}
