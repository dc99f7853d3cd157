// The response side of one request: `startResponse` and `write()` for the
// app, validation of what the app sends (no header injection), framing
// (Content-Length, chunked or close-delimited), and the head held back until
// the first non-empty body chunk, as WSGI asks.

import { concat } from "./_bytes.ts";
import { chunkPrefix, CRLF, LAST_CHUNK } from "./_chunked.ts";
import { dateLine } from "./_date.ts";
import type { StartResponse, WriteFunction } from "./environ.ts";
import { HttpError } from "./errors.ts";

/** Where a response goes: the connection's file, or a buffer for later. */
export interface Sink {
  /**
   * Buffers (or writes) `data`, a string as UTF-8: `undefined` when that
   * is done at once, else a promise to await.
   */
  write(data: Uint8Array | string): Promise<void> | undefined;
  /** Writes out what is buffered. */
  flush(): Promise<void>;
}

/** The connection a response goes to: its sink, and its say on keep-alive. */
export interface ResponseHost extends Sink {
  /**
   * Asked once, just before the head goes out: may the connection carry
   * another request after this one (request keep-alive, body drained,
   * server not shutting down)?
   */
  beforeHead(): boolean | Promise<boolean>;
}

const STATUS = /^[2-5][0-9][0-9] [\t\x20-\x7e\x80-\xff]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ASCII_VALUE = /^[\t\x20-\x7e]*$/;
const LATIN1_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^[0-9]{1,15}$/;

/** Reason phrases of the registered statuses (RFC 9110 and the IANA registry). */
export const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  511: "Network Authentication Required",
};

/** The reason phrase for `status`, or its class's name when unregistered. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ??
    (status >= 500
      ? "Server Error"
      : status >= 400
      ? "Client Error"
      : "Status");
}

const SERVER_LINE = "Server: syncless\r\n";
const KEEP_ALIVE_LINE = "Connection: keep-alive\r\n\r\n";
const CLOSE_LINE = "Connection: close\r\n\r\n";
const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/**
 * Checks a status given to `startResponse`: a code 200-599, a space and a
 * reason phrase (no CR or LF).
 *
 * @throws {TypeError} when it is malformed.
 */
export function checkStatus(status: unknown): asserts status is string {
  if (status === lastValidStatus) return;
  if (typeof status !== "string" || !STATUS.test(status)) {
    throw new TypeError(
      `invalid status ${
        JSON.stringify(status)
      }: expected a code 200-599, a space and a reason phrase, like "200 OK"`,
    );
  }
  lastValidStatus = status;
}

// The last status found valid: apps send the same one again and again.
let lastValidStatus = "";

/**
 * Checks one response header and returns its value as a trimmed string
 * (numbers are accepted). Names must be tokens; values may not hold CR, LF,
 * NUL, other control characters or chars above U+00FF (latin1, PEP 3333).
 *
 * @throws {TypeError} for a bad name or value: no header injection.
 */
export function checkHeader(name: unknown, value: unknown): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  }
  if (typeof value === "number") value = String(value);
  else if (typeof value !== "string") {
    throw new TypeError(
      `header ${name} must have a string value, got ${describe(value)}`,
    );
  }
  const text = value as string;
  if (!ASCII_VALUE.test(text) && !LATIN1_VALUE.test(text)) {
    throw new TypeError(
      `invalid value for header ${name}: CR, LF, NUL, other control ` +
        "characters and chars above U+00FF are not allowed",
    );
  }
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09
    ? text.trim()
    : text;
}

/** `HTTP/1.1 100 Continue`, the interim response to `Expect: 100-continue`. */
export const CONTINUE_RESPONSE: Uint8Array = new TextEncoder().encode(CONTINUE);

/** A complete error response that closes the connection. */
export function errorResponse(
  status: number,
  message: string,
  headers: readonly (readonly [string, string])[] = [],
): string {
  const reason = reasonPhrase(status);
  // The message is ours, but keep it printable ASCII so its length is its size.
  const text = message.replace(/[^\x20-\x7e]/g, "?");
  const body = status === 500 ? `${reason}\n` : `${reason}: ${text}\n`;
  let extra = "";
  for (const [name, value] of headers) {
    if (TOKEN.test(name) && ASCII_VALUE.test(value)) {
      extra += `${name}: ${value}\r\n`;
    }
  }
  return `HTTP/1.1 ${status} ${reason}\r\n${SERVER_LINE}${dateLine()}` +
    extra + "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

const encoder = new TextEncoder();
const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY = new Uint8Array(0);
// Small bodies sent again and again (the same string) are encoded once.
let lastBodyString = "";
let lastBodyBytes = EMPTY;

// How the body of a response is framed.
const FIXED = 0;
const CHUNKED = 1;
const CLOSE_DELIMITED = 2;
const NO_BODY = 3;

/**
 * What all responses share, so that the same app answering the same way on
 * many connections checks and builds things once: the last headers checked
 * (and what came of them), the last fixed head as bytes, and the last small
 * response (head and body) as one array. Bytes kept here never change.
 */
const cache = {
  headers: [] as [unknown, unknown][],
  lines: "",
  latin1: false,
  appLength: -1,
  appClose: false,
  headBytes: EMPTY as Uint8Array,
  headStatus: "",
  headLines: "",
  headLength: -1,
  headKeepAlive: false,
  headDate: "",
  response: EMPTY as Uint8Array,
  responseHead: EMPTY as Uint8Array,
  responseBody: EMPTY as Uint8Array,
};

/**
 * One response at a time of a connection (reset for each request): it holds
 * what the app set with `startResponse`, sends the head when the body
 * starts, frames the body and knows whether the connection can be reused.
 */
export class ResponseWriter {
  /** Where the bytes go, and who decides on keep-alive. */
  readonly sink: ResponseHost;
  /** True once the head was handed to the sink. */
  headSent = false;
  /** True when the connection may carry another request after this response. */
  keepAlive = false;
  /** The status code sent (for the access log); 0 before the head. */
  statusCode = 0;
  /** Body bytes sent (for the access log). */
  bytesSent = 0;

  #isHead = false;
  #minor = 1;
  #status = "";
  #noBody = false;
  #lines = "";
  #latin1 = false;
  #appLength = -1;
  #appClose = false;
  #started = false;
  #mode = FIXED;
  #pending: Promise<void> | undefined = undefined;

  constructor(sink: ResponseHost) {
    this.sink = sink;
  }

  /** Prepares for the response to a new request. */
  reset(isHead: boolean, minor: number): void {
    this.#isHead = isHead;
    this.#minor = minor;
    this.#started = false;
    this.#mode = FIXED;
    this.#pending = undefined;
    this.headSent = false;
    this.keepAlive = false;
    this.statusCode = 0;
    this.bytesSent = 0;
  }

  /** The app's `startResponse`. */
  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (this.headSent) {
      if (excInfo !== undefined && excInfo !== null) throw excInfo;
      throw new Error(
        "startResponse() called after the response head was sent",
      );
    }
    checkStatus(status);
    this.#setHeaders(headers);
    if (status !== this.#status) {
      this.#status = status;
      this.#noBody = status.startsWith("204") || status.startsWith("304");
    }
    this.#started = true;
    return this.write;
  };

  /** The `write()` callable that `startResponse` returns. */
  readonly write: WriteFunction = (chunk) => {
    if (!this.#started) {
      return Promise.reject(new Error("write() called before startResponse()"));
    }
    let bytes: Uint8Array;
    try {
      bytes = toBytes(chunk);
    } catch (error) {
      return Promise.reject(error);
    }
    if (bytes.length === 0) return RESOLVED;
    const previous = this.#pending;
    const done = previous === undefined
      ? this.#writeNow(bytes)
      : previous.then(() => this.#writeNow(bytes));
    this.#pending = done;
    return done;
  };

  /**
   * Sends the body the app returned (and the head, if still held) and ends
   * the response.
   *
   * @throws {TypeError} when `body` is not a body; other errors when the app
   * broke the protocol (no `startResponse`, wrong `Content-Length`) or the
   * body's iteration failed.
   */
  finish(body: unknown): Promise<void> | undefined {
    if (this.#pending !== undefined) return this.#finishAfterWrites(body);
    if (typeof body === "string") {
      return this.#sendFixed(
        body.length === 0 ? EMPTY : encodeBody(body),
        true,
      );
    }
    if (body instanceof Uint8Array) return this.#sendFixed(body, false);
    if (Array.isArray(body)) {
      // One string item comes from the string cache, which never changes.
      const fromString = body.length === 1 && typeof body[0] === "string";
      return this.#sendFixed(joinBody(body), fromString);
    }
    if (body === null || body === undefined) {
      return this.#sendFixed(EMPTY, true);
    }
    if (
      typeof body === "object" &&
      (Symbol.asyncIterator in body || Symbol.iterator in body)
    ) {
      return this.#stream(body as AsyncIterable<unknown>);
    }
    return Promise.reject(
      new TypeError(
        `the app returned ${
          describe(body)
        }: expected a string, a Uint8Array, ` +
          "an array or an (async) iterable of them",
      ),
    );
  }

  /**
   * Answers an app error: `status` (500 unless the error is an
   * `HttpError`) if the head was not sent yet. The connection then closes.
   */
  async fail(error: unknown): Promise<void> {
    this.keepAlive = false;
    await this.#pending?.catch(() => {});
    this.#pending = undefined;
    if (this.headSent) return;
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof HttpError ? error.message : "";
    const headers = error instanceof HttpError ? error.headers : [];
    this.headSent = true;
    this.statusCode = status;
    await this.sink.write(errorResponse(status, message, headers));
  }

  async #finishAfterWrites(body: unknown): Promise<void> {
    await this.#pending;
    this.#pending = undefined;
    if (!this.headSent) return this.finish(body);
    // write() already sent the head: what the app returned is more body.
    if (typeof body === "string" || body instanceof Uint8Array) {
      await this.#sendChunk(toBytes(body));
    } else if (Array.isArray(body)) {
      for (const item of body) await this.#sendChunk(toBytes(item));
    } else if (body !== null && body !== undefined) {
      return this.#stream(body as AsyncIterable<unknown>);
    }
    await this.#end();
  }

  #setHeaders(headers: unknown): void {
    if (!Array.isArray(headers)) {
      throw new TypeError(
        `headers must be an array of [name, value] pairs, got ${
          describe(headers)
        }`,
      );
    }
    if (sameHeaders(headers)) {
      this.#lines = cache.lines;
      this.#latin1 = cache.latin1;
      this.#appLength = cache.appLength;
      this.#appClose = cache.appClose;
      return;
    }
    cache.headers.length = 0;
    let lines = "";
    let latin1 = false;
    let appLength = -1;
    let appClose = false;
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i];
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`header ${i} is not a [name, value] pair`);
      }
      const name = pair[0];
      const value = checkHeader(name, pair[1]);
      if (!ASCII_VALUE.test(value)) latin1 = true;
      switch (name.length) {
        case 4: // Date: the server's
          if (name.toLowerCase() === "date") continue;
          break;
        case 6: // Server: the server's
          if (name.toLowerCase() === "server") continue;
          break;
        case 10: { // Connection, Keep-Alive: the server decides
          const lower = name.toLowerCase();
          if (lower === "connection") {
            if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) appClose = true;
            continue;
          }
          if (lower === "keep-alive") continue;
          break;
        }
        case 14: // Content-Length: checked, then written by the server
          if (name.toLowerCase() === "content-length") {
            if (!DIGITS.test(value)) {
              throw new TypeError(
                `invalid Content-Length ${JSON.stringify(value)}`,
              );
            }
            const n = Number(value);
            if (appLength !== -1 && appLength !== n) {
              throw new TypeError("differing Content-Length headers");
            }
            appLength = n;
            continue;
          }
          break;
        case 17: // Transfer-Encoding: the server frames the body
          if (name.toLowerCase() === "transfer-encoding") continue;
          break;
      }
      lines += `${name}: ${value}\r\n`;
    }
    this.#lines = lines;
    this.#latin1 = latin1;
    this.#appLength = appLength;
    this.#appClose = appClose;
    cache.lines = lines;
    cache.latin1 = latin1;
    cache.appLength = appLength;
    cache.appClose = appClose;
    const last = cache.headers;
    last.length = headers.length;
    for (let i = 0; i < headers.length; i++) {
      last[i] = [headers[i][0], headers[i][1]];
    }
  }

  /** Whether the status forbids a body (204, 304). */
  #noBodyStatus(): boolean {
    return this.#noBody;
  }

  async #decideKeepAlive(): Promise<boolean> {
    let keep = this.sink.beforeHead();
    if (typeof keep !== "boolean") keep = await keep;
    return keep && !this.#appClose;
  }

  #head(framing: string, keepAlive: boolean): string {
    this.headSent = true;
    this.keepAlive = keepAlive;
    const status = this.#status;
    this.statusCode = (status.charCodeAt(0) - 48) * 100 +
      (status.charCodeAt(1) - 48) * 10 + status.charCodeAt(2) - 48;
    return "HTTP/1.1 " + status + "\r\n" + SERVER_LINE + dateLine() +
      this.#lines + framing + (keepAlive ? KEEP_ALIVE_LINE : CLOSE_LINE);
  }

  /** Sends a whole response with a fixed body; `undefined` when done at once. */
  #sendFixed(body: Uint8Array, immutable: boolean): Promise<void> | undefined {
    if (!this.#started) {
      throw new Error("the app returned without calling startResponse()");
    }
    const n = body.length;
    if (this.#appLength >= 0 && this.#appLength !== n && !this.#isHead) {
      if (!this.#noBodyStatus()) {
        throw new Error(
          `the app set Content-Length: ${this.#appLength} but its body has ${n} bytes`,
        );
      }
    }
    const keep = this.sink.beforeHead();
    if (typeof keep !== "boolean") {
      return keep.then((k) => this.#sendFixedHead(body, k, immutable));
    }
    return this.#sendFixedHead(body, keep, immutable);
  }

  #sendFixedHead(
    body: Uint8Array,
    keep: boolean,
    immutable: boolean,
  ): Promise<void> | undefined {
    keep = keep && !this.#appClose;
    const noBody = this.#noBodyStatus();
    const length = noBody
      ? -1
      : this.#isHead && this.#appLength >= 0
      ? this.#appLength
      : body.length;
    const head = this.#fixedHead(length, keep);
    this.#mode = NO_BODY;
    if (this.#isHead || noBody || body.length === 0) {
      return this.sink.write(head);
    }
    this.bytesSent = body.length;
    // Only bytes that cannot change (from a string) are kept: an app may
    // fill the same Uint8Array anew for each response.
    if (immutable) {
      if (head === cache.responseHead && body === cache.responseBody) {
        // The same small response as last time: one write of one array,
        // made when it came the second time (dynamic bodies never pay).
        if (cache.response === EMPTY && body.length <= 1024) {
          const response = new Uint8Array(head.length + body.length);
          response.set(head);
          response.set(body, head.length);
          cache.response = response;
        }
        if (cache.response !== EMPTY) return this.sink.write(cache.response);
      } else {
        cache.responseHead = head;
        cache.responseBody = body;
        cache.response = EMPTY;
      }
    }
    const first = this.sink.write(head);
    if (first === undefined) return this.sink.write(body);
    return first.then(() => this.sink.write(body));
  }

  /** The head of a fixed-length response, as bytes (the last one is reused). */
  #fixedHead(length: number, keepAlive: boolean): Uint8Array {
    this.headSent = true;
    this.keepAlive = keepAlive;
    const status = this.#status;
    this.statusCode = (status.charCodeAt(0) - 48) * 100 +
      (status.charCodeAt(1) - 48) * 10 + status.charCodeAt(2) - 48;
    const date = dateLine();
    if (
      status === cache.headStatus && this.#lines === cache.headLines &&
      length === cache.headLength && keepAlive === cache.headKeepAlive &&
      date === cache.headDate
    ) {
      return cache.headBytes;
    }
    const head = "HTTP/1.1 " + status + "\r\n" + SERVER_LINE + date +
      this.#lines + (length >= 0 ? `Content-Length: ${length}\r\n` : "") +
      (keepAlive ? KEEP_ALIVE_LINE : CLOSE_LINE);
    const bytes = this.#latin1 ? latin1Bytes(head) : encoder.encode(head);
    cache.headStatus = status;
    cache.headLines = this.#lines;
    cache.headLength = length;
    cache.headKeepAlive = keepAlive;
    cache.headDate = date;
    cache.headBytes = bytes;
    return bytes;
  }

  async #sendStreamHead(): Promise<void> {
    if (!this.#started) {
      throw new Error("the app sent body data without calling startResponse()");
    }
    let keep = await this.#decideKeepAlive();
    let framing = "";
    if (this.#isHead || this.#noBodyStatus()) {
      this.#mode = NO_BODY;
      if (this.#appLength >= 0 && this.#isHead) {
        framing = `Content-Length: ${this.#appLength}\r\n`;
      }
    } else if (this.#appLength >= 0) {
      this.#mode = FIXED;
      framing = `Content-Length: ${this.#appLength}\r\n`;
    } else if (this.#minor === 1) {
      this.#mode = CHUNKED;
      framing = "Transfer-Encoding: chunked\r\n";
    } else {
      this.#mode = CLOSE_DELIMITED;
      keep = false;
    }
    const head = this.#head(framing, keep);
    await this.sink.write(this.#latin1 ? latin1Bytes(head) : head);
  }

  async #writeNow(bytes: Uint8Array): Promise<void> {
    await this.#sendChunk(bytes);
    await this.sink.flush();
  }

  /** Sends one non-empty body chunk (the head first if needed). */
  async #sendChunk(bytes: Uint8Array): Promise<void> {
    const n = bytes.length;
    if (n === 0) return;
    if (!this.headSent) await this.#sendStreamHead();
    const sink = this.sink;
    switch (this.#mode) {
      case NO_BODY:
        return;
      case CHUNKED:
        this.bytesSent += n;
        await sink.write(chunkPrefix(n));
        await sink.write(bytes);
        await sink.write(CRLF);
        return;
      case FIXED: {
        const room = this.#appLength - this.bytesSent;
        if (n > room) {
          this.keepAlive = false;
          if (room > 0) await sink.write(bytes.subarray(0, room));
          this.bytesSent = this.#appLength;
          throw new Error(
            `the app sent more than its Content-Length of ${this.#appLength} bytes`,
          );
        }
        this.bytesSent += n;
        await sink.write(bytes);
        return;
      }
      default:
        this.bytesSent += n;
        await sink.write(bytes);
    }
  }

  async #stream(
    body: AsyncIterable<unknown> | Iterable<unknown>,
  ): Promise<void> {
    for await (const item of body as AsyncIterable<unknown>) {
      const bytes = toBytes(item);
      if (bytes.length === 0) continue;
      await this.#sendChunk(bytes);
      if (this.#mode === NO_BODY) break; // HEAD: the head is all we send
      await this.sink.flush();
    }
    await this.#end();
  }

  async #end(): Promise<void> {
    if (!this.headSent) {
      await this.#sendFixed(EMPTY, true);
      return;
    }
    switch (this.#mode) {
      case CHUNKED:
        await this.sink.write(LAST_CHUNK);
        break;
      case FIXED:
        if (this.bytesSent < this.#appLength) {
          this.keepAlive = false;
          await this.sink.flush();
          throw new Error(
            `the app sent ${this.bytesSent} of the ${this.#appLength} bytes of its Content-Length`,
          );
        }
        break;
      case CLOSE_DELIMITED:
        this.keepAlive = false;
        break;
    }
    await this.sink.flush();
  }
}

/** True when `headers` equal the last ones checked (whose results are kept). */
function sameHeaders(headers: unknown[]): boolean {
  const last = cache.headers;
  if (headers.length !== last.length || last.length === 0) return false;
  for (let i = 0; i < last.length; i++) {
    const pair = headers[i];
    if (
      !Array.isArray(pair) || pair.length !== 2 || pair[0] !== last[i][0] ||
      pair[1] !== last[i][1]
    ) return false;
  }
  return true;
}

/** A body chunk as bytes: strings as UTF-8. */
function toBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === "string") {
    return chunk.length === 0 ? EMPTY : encoder.encode(chunk);
  }
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(
    `a body chunk must be a string or a Uint8Array, got ${describe(chunk)}`,
  );
}

function encodeBody(text: string): Uint8Array {
  if (text === lastBodyString) return lastBodyBytes;
  const bytes = encoder.encode(text);
  if (text.length <= 4096) {
    lastBodyString = text;
    lastBodyBytes = bytes;
  }
  return bytes;
}

function joinBody(items: readonly unknown[]): Uint8Array {
  if (items.length === 1) {
    const item = items[0];
    if (typeof item === "string") {
      return item.length === 0 ? EMPTY : encodeBody(item);
    }
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const item of items) {
    const bytes = toBytes(item);
    parts.push(bytes);
    total += bytes.length;
  }
  return parts.length === 1 ? parts[0] : concat(parts, total);
}

function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    return (value as object).constructor?.name ?? "an object";
  }
  return typeof value;
}
