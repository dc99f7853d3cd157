// The request-smuggling corpus: requests whose framing two parsers could
// read differently, each followed by a second request that would only be
// answered if the server read the first one the "other" way. Run against
// serve() (where every one must be refused with a close) and, for the
// comparison table in docs/RELIABILITY.md, against Deno.serve and node:http.

import { exchangeRaw, responsesOf } from "./_net.ts";
import { bytes } from "./_http_cases.ts";

/** The second request hidden in each case. */
export const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";

/** One corpus entry. */
export interface SmugglingCase {
  /** A short name for the table. */
  name: string;
  /** The bytes sent (latin1). */
  request: string;
  /** The statuses serve() may answer with. */
  ours: number[];
  /**
   * False for clients that send their head and wait (HTTP/0.9, the HTTP/2
   * preface): the answer must come without the client's EOF.
   */
  halfClose?: boolean;
}

const H = "Host: h\r\n";
/** The hidden request's length: the body length a "wrong" reading uses. */
const L = SMUGGLED.length;
const LX = L.toString(16);

/** The corpus. */
export const SMUGGLING_CASES: SmugglingCase[] = [
  {
    name: "CL + TE",
    request:
      `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE + CL",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "duplicate differing CL",
    request:
      `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "CL list `0, L`",
    request:
      `POST / HTTP/1.1\r\n${H}Content-Length: 0, ${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "`Content-Length : L`",
    request: `POST / HTTP/1.1\r\n${H}Content-Length : ${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "CL `+L`",
    request: `POST / HTTP/1.1\r\n${H}Content-Length: +${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "CL `0xL`",
    request:
      `POST / HTTP/1.1\r\n${H}Content-Length: 0x${LX}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "CL `-1`",
    request: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "CL `3 6`",
    request: `POST / HTTP/1.1\r\n${H}Content-Length: 3 6\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE `chunked, identity`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE `identity`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\nContent-Length: ${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE chunked, then TE identity",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE `chunked, chunked`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE `xchunked`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: 'TE `"chunked"`',
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE `chunked;x=1`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE `gzip, chunked`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [501],
  },
  {
    name: "TE with VT before the value",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "TE on HTTP/1.0",
    request:
      `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "obs-fold of TE",
    request:
      `POST / HTTP/1.1\r\n${H}X: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "whitespace before the first header",
    request:
      `POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n${H}Content-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "NUL in a header value",
    request: `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "bare CR in a header value",
    request:
      `GET / HTTP/1.1\r\n${H}X: a\rContent-Length: ${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "space in a header name",
    request: `POST / HTTP/1.1\r\n${H}Content Length: ${L}\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "two Host headers",
    request: `GET / HTTP/1.1\r\n${H}Host: other\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "bare LF after a chunk size",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "bare CR after a chunk size",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "bare LF after chunk data",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "chunk data longer than its size",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "bare CR in a chunk extension",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "escaped CR in a quoted chunk extension",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a="\\\rb"\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "bare LF ending the chunked body",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\n\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "chunk size `0x5`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "chunk size ` 5`",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "chunk size overflowing 64 bits (2^64 + 5)",
    request:
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
    ours: [413],
  },
  {
    name: "request line with a tab",
    request: `GET\t/\tHTTP/1.1\r\n${H}\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "request line with two spaces",
    request: `GET  / HTTP/1.1\r\n${H}\r\n${SMUGGLED}`,
    ours: [400],
  },
  {
    name: "HTTP/0.9 request (client waits)",
    request: "GET /\r\n",
    ours: [400],
    halfClose: false,
  },
  {
    name: "HTTP/2 preface on the HTTP/1 port (client waits)",
    request: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ours: [505],
    halfClose: false,
  },
  {
    name: "HTTP/2 request line `GET / HTTP/2.0`",
    request: `GET / HTTP/2.0\r\n${H}\r\n`,
    ours: [505],
    halfClose: false,
  },
  {
    name: "malformed version `HTTP/1.1.1` (client waits)",
    request: `GET / HTTP/1.1.1\r\n`,
    ours: [400],
    halfClose: false,
  },
];

/** What a server did with one case, as a short cell for the table. */
export interface CaseOutcome {
  /** Statuses of the responses, in order. */
  statuses: number[];
  /**
   * True if the hidden second request was answered: the server accepted the
   * first request and went on reading the connection, so a front end that
   * read the first request's framing the other way would disagree with it.
   */
  secondAnswered: boolean;
  /** The connection was closed after the responses (not left open). */
  closed: boolean;
  /** The server reset the connection. */
  reset: boolean;
  /** Nothing happened before the deadline. */
  timedOut: boolean;
  /** What came back could not be read as HTTP/1.1 responses. */
  garbled: boolean;
  /** What came back was HTTP/2 frames (a server speaking h2c). */
  http2: boolean;
}

/**
 * Sends one case to `port` and reports what came back. Apps under test
 * answer every request with its path, so a smuggled request shows up as
 * a response body `/smuggled`.
 */
export async function runCase(
  port: number,
  c: SmugglingCase,
  deadlineMs: number,
): Promise<CaseOutcome> {
  const result = await exchangeRaw(port, bytes(c.request), deadlineMs, {
    halfClose: c.halfClose ?? true,
  });
  let statuses: number[] = [];
  let secondAnswered = false;
  let garbled = false;
  try {
    const responses = responsesOf(result.data);
    statuses = responses.map((r) => r.status);
    secondAnswered = responses.some((r) => r.body.includes("/smuggled"));
  } catch {
    garbled = true;
  }
  // An HTTP/2 frame head: 24-bit length, then type 4 (SETTINGS).
  const http2 = garbled && result.data.length >= 9 && result.data[3] === 4;
  return {
    statuses,
    secondAnswered,
    http2,
    closed: !result.timedOut,
    reset: result.reset,
    timedOut: result.timedOut,
    garbled,
  };
}

/** One cell of the comparison table. */
export function describeOutcome(o: CaseOutcome): string {
  const parts: string[] = [];
  if (o.statuses.length > 0) parts.push(o.statuses.join(" + "));
  if (o.http2) parts.push("HTTP/2 SETTINGS (h2c)");
  else if (o.garbled) parts.push("unparsable reply");
  if (o.secondAnswered) parts.push("**second request answered**");
  const answered = o.statuses.length > 0 || o.garbled;
  if (o.timedOut) parts.push(answered ? "left open" : "no answer, left open");
  else if (o.reset) parts.push("reset");
  else if (!answered) parts.push("closed, no answer");
  return parts.join(", ");
}
