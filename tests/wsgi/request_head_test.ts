import assert from "node:assert/strict";
import {
  checkIncompleteHead,
  findHeadEnd,
  type HeadLimits,
  parseRequestHead,
  type RequestHead,
  resumeScanAt,
  skipEmptyLines,
} from "../../wsgi/_request_head.ts";
import { HttpError } from "../../wsgi/errors.ts";

const LIMITS: HeadLimits = {
  maxRequestLineSize: 8192,
  maxHeaderSize: 32768,
  maxHeaderCount: 100,
  maxBodySize: Infinity,
};

function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function parse(
  text: string,
  limits: Partial<HeadLimits> = {},
  secure = false,
): RequestHead {
  const buf = bytes(text);
  const start = skipEmptyLines(buf, 0, buf.length);
  const end = findHeadEnd(buf, start, buf.length);
  assert.notEqual(end, -1, "head should be complete");
  return parseRequestHead(buf, start, end, { ...LIMITS, ...limits }, secure)!;
}

function status(text: string, limits: Partial<HeadLimits> = {}): number {
  try {
    parse(text, limits);
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    return error.status;
  }
  return 0;
}

Deno.test("request line, headers and framing of a simple GET", () => {
  const head = parse(
    "GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\nX-A:  v  \r\n\r\n",
  );
  assert.equal(head.method, "GET");
  assert.equal(head.target, "/a/b?x=1&y");
  assert.equal(head.path, "/a/b");
  assert.equal(head.query, "x=1&y");
  assert.equal(head.minor, 1);
  assert.deepEqual(head.names, ["Host", "X-A"]);
  assert.deepEqual(head.values, ["example.com", "v"]);
  assert.equal(head.host, "example.com");
  assert.equal(head.contentLength, 0);
  assert.equal(head.chunked, false);
  assert.equal(head.keepAlive, true);
  assert.equal(head.length, 57);
});

Deno.test("bare LF line endings are accepted in the head", () => {
  const head = parse("GET / HTTP/1.0\n\n");
  assert.equal(head.minor, 0);
  assert.equal(head.keepAlive, false);
  assert.equal(head.length, 16);
  const mixed = parse("GET / HTTP/1.1\nHost: h\r\n\n");
  assert.equal(mixed.host, "h");
});

Deno.test("findHeadEnd finds the first blank line and resumes scanning", () => {
  const text = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /next";
  const buf = bytes(text);
  assert.equal(findHeadEnd(buf, 0, buf.length), 27);
  // Byte by byte, resuming where the previous scan stopped.
  let from = 0;
  let found = -1;
  for (let end = 1; end <= buf.length && found === -1; end++) {
    found = findHeadEnd(buf, 0, end, from);
    if (found === -1) from = resumeScanAt(buf, 0, end);
  }
  assert.equal(found, 27);
  assert.equal(
    findHeadEnd(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r"), 0, 26),
    -1,
  );
  assert.equal(findHeadEnd(bytes("GET / HTTP/1.1\n\n"), 0, 16), 16);
});

Deno.test("empty lines before the request line are skipped", () => {
  const buf = bytes("\r\n\n\r\nGET / HTTP/1.0\r\n\r\n");
  assert.equal(skipEmptyLines(buf, 0, buf.length), 5);
  assert.equal(skipEmptyLines(bytes("\r"), 0, 1), 0);
  assert.equal(parse("\r\n\r\nGET / HTTP/1.0\r\n\r\n").method, "GET");
});

Deno.test("methods are tokens passed as they are; a non-token is 400", () => {
  assert.equal(parse("PATCH / HTTP/1.0\r\n\r\n").method, "PATCH");
  assert.equal(parse("get / HTTP/1.0\r\n\r\n").method, "get");
  assert.equal(parse("X-CUSTOM_1 / HTTP/1.0\r\n\r\n").method, "X-CUSTOM_1");
  assert.equal(status("G(T / HTTP/1.0\r\n\r\n"), 400);
  assert.equal(status(" GET / HTTP/1.0\r\n\r\n"), 400);
  assert.equal(status("GET  / HTTP/1.0\r\n\r\n"), 400);
  assert.equal(status("GET /  HTTP/1.0\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0 \r\n\r\n"), 400);
  assert.equal(status("GET /\r\n\r\n"), 400); // HTTP/0.9
  assert.equal(status("GET\r\n\r\n"), 400);
});

Deno.test("versions: 1.x > 1 is 1.1, another major is 505, malformed is 400", () => {
  assert.equal(parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n").minor, 1);
  assert.equal(parse("GET / HTTP/1.9\r\nHost: h\r\n\r\n").minor, 1);
  assert.equal(status("GET / HTTP/2.0\r\n\r\n"), 505);
  assert.equal(status("GET / HTTP/0.9\r\n\r\n"), 505);
  assert.equal(status("GET / HTTP/3.0\r\n\r\n"), 505);
  assert.equal(status("GET / http/1.1\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.10\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/a.b\r\n\r\n"), 400);
  assert.equal(status("GET / FTP/1.0\r\n\r\n"), 400);
});

Deno.test("targets: origin, absolute, authority and asterisk forms", () => {
  const absolute = parse(
    "GET http://example.org:8080?q=1 HTTP/1.1\r\nHost: other\r\n\r\n",
  );
  assert.equal(absolute.host, "example.org:8080"); // replaces Host
  assert.equal(absolute.path, "/");
  assert.equal(absolute.query, "q=1");
  assert.equal(absolute.scheme, "http");
  const withPath = parse("GET HTTP://h/x/y HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(withPath.path, "/x/y");
  const connect = parse(
    "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
  );
  assert.equal(connect.host, "example.org:443");
  assert.equal(connect.path, "");
  assert.equal(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").path, "*");
  assert.equal(status("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET example.org:443 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET relative HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
});

Deno.test("an https target on a plain connection is 421, and the reverse", () => {
  assert.equal(status("GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 421);
  const buf = bytes("GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n");
  const head = parseRequestHead(buf, 0, buf.length, LIMITS, true);
  assert.equal(head?.scheme, "https");
  assert.throws(
    () => {
      const plain = bytes("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n");
      parseRequestHead(plain, 0, plain.length, LIMITS, true);
    },
    (e) => e instanceof HttpError && e.status === 421,
  );
});

Deno.test("Host: exactly one valid Host on HTTP/1.1", () => {
  assert.equal(status("GET / HTTP/1.1\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400);
  assert.equal(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n").host, "");
  assert.equal(
    parse("GET / HTTP/1.1\r\nhOsT: [::1]:80\r\n\r\n").host,
    "[::1]:80",
  );
  assert.equal(parse("GET / HTTP/1.0\r\n\r\n").host, "");
});

Deno.test("header syntax: obs-fold, space before colon, bad names are 400", () => {
  assert.equal(status("GET / HTTP/1.0\r\nA: b\r\n c\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA: b\r\n\tc\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\n A: b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA : b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA\t: b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\n: b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nNoColon\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA(b): c\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA\xe9: c\r\n\r\n"), 400);
});

Deno.test("NUL, bare CR and control characters in the head are 400", () => {
  assert.equal(status("GET / HTTP/1.0\r\nA: b\x00c\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA: b\rc\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA: b\r\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\rX\r\n\r\n"), 400);
  assert.equal(status("GET /\x00 HTTP/1.0\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA: \x01\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA: \x7f\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.0\r\nA: b\r\n\rX\r\n\r\n"), 400);
});

Deno.test("header values: OWS trimmed, HTAB inside kept, obs-text as latin1", () => {
  const head = parse(
    "GET / HTTP/1.0\r\nA:\t x \t y \t\r\nB:\r\nC: caf\xe9\r\n\r\n",
  );
  assert.deepEqual(head.values, ["x \t y", "", "caf\xe9"]);
});

Deno.test("Content-Length: digits, identical duplicates, differing is 400, too large is 413", () => {
  const body = "POST / HTTP/1.1\r\nHost: h\r\n";
  assert.equal(parse(`${body}Content-Length: 42\r\n\r\n`).contentLength, 42);
  assert.equal(parse(`${body}Content-Length: 0\r\n\r\n`).contentLength, 0);
  assert.equal(
    parse(`${body}Content-Length: 7\r\ncontent-length: 7\r\n\r\n`)
      .contentLength,
    7,
  );
  assert.equal(parse(`${body}Content-Length: 7, 7\r\n\r\n`).contentLength, 7);
  assert.equal(
    status(`${body}Content-Length: 7\r\nContent-Length: 8\r\n\r\n`),
    400,
  );
  assert.equal(status(`${body}Content-Length: 7, 8\r\n\r\n`), 400);
  assert.equal(status(`${body}Content-Length: -1\r\n\r\n`), 400);
  assert.equal(status(`${body}Content-Length: +1\r\n\r\n`), 400);
  assert.equal(status(`${body}Content-Length: 0x10\r\n\r\n`), 400);
  assert.equal(status(`${body}Content-Length: 1 2\r\n\r\n`), 400);
  assert.equal(status(`${body}Content-Length:\r\n\r\n`), 400);
  assert.equal(
    status(`${body}Content-Length: 11\r\n\r\n`, { maxBodySize: 10 }),
    413,
  );
  assert.equal(
    parse(`${body}Content-Length: 10\r\n\r\n`, { maxBodySize: 10 })
      .contentLength,
    10,
  );
  assert.equal(
    status(`${body}Content-Length: 99999999999999999999\r\n\r\n`),
    413,
  );
});

Deno.test("Transfer-Encoding: chunked last, unknown coding 501, with CL 400, on 1.0 400", () => {
  const body = "POST / HTTP/1.1\r\nHost: h\r\n";
  const chunked = parse(`${body}Transfer-Encoding: chunked\r\n\r\n`);
  assert.equal(chunked.chunked, true);
  assert.equal(chunked.contentLength, -1);
  assert.equal(
    parse(`${body}Transfer-Encoding: CHUNKED\r\n\r\n`).chunked,
    true,
  );
  assert.equal(
    parse(`${body}Transfer-Encoding: chunked,\r\n\r\n`).chunked,
    true,
  );
  assert.equal(
    parse(`${body}Transfer-Encoding: , chunked\r\n\r\n`).chunked,
    true,
  );
  assert.equal(status(`${body}Transfer-Encoding: gzip, chunked\r\n\r\n`), 501);
  assert.equal(
    status(
      `${body}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n`,
    ),
    501,
  );
  assert.equal(status(`${body}Transfer-Encoding: chunked, gzip\r\n\r\n`), 400);
  assert.equal(status(`${body}Transfer-Encoding: gzip\r\n\r\n`), 400);
  assert.equal(
    status(`${body}Transfer-Encoding: chunked, chunked\r\n\r\n`),
    400,
  );
  assert.equal(status(`${body}Transfer-Encoding:\r\n\r\n`), 400);
  assert.equal(status(`${body}Transfer-Encoding: ch@nked\r\n\r\n`), 400);
  assert.equal(
    status(`${body}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`),
    400,
  );
  assert.equal(
    status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    400,
  );
});

Deno.test("keep-alive: 1.1 by default, 1.0 only with Connection: keep-alive", () => {
  assert.equal(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keepAlive, true);
  assert.equal(
    parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive,
    false,
  );
  assert.equal(
    parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n")
      .keepAlive,
    false,
  );
  assert.equal(
    parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n").keepAlive,
    true,
  );
  assert.equal(parse("GET / HTTP/1.0\r\n\r\n").keepAlive, false);
  assert.equal(
    parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive,
    true,
  );
  assert.equal(
    parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive,
    true,
  );
  assert.equal(
    parse("GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n").keepAlive,
    true,
  );
  assert.equal(
    parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keepAlive,
    false,
  );
});

Deno.test("Expect: 100-continue counts only on HTTP/1.1", () => {
  assert.equal(
    parse(
      "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
    )
      .expectContinue,
    true,
  );
  assert.equal(
    parse(
      "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
    )
      .expectContinue,
    false,
  );
});

Deno.test("limits: long request line 414, large head and many headers 431", () => {
  const longTarget = "/" + "a".repeat(100);
  assert.equal(
    status(`GET ${longTarget} HTTP/1.0\r\n\r\n`, { maxRequestLineSize: 100 }),
    414,
  );
  assert.equal(
    parse(`GET ${longTarget.slice(0, 86)} HTTP/1.0\r\n\r\n`, {
      maxRequestLineSize: 100,
    }).method,
    "GET",
  );
  const many = "GET / HTTP/1.0\r\n" + "A: b\r\n".repeat(5) + "\r\n";
  assert.equal(status(many, { maxHeaderCount: 4 }), 431);
  assert.equal(parse(many, { maxHeaderCount: 5 }).names.length, 5);
  const big = "GET / HTTP/1.0\r\nA: " + "b".repeat(200) + "\r\n\r\n";
  assert.equal(status(big, { maxHeaderSize: 100 }), 431);
});

Deno.test("checkIncompleteHead: 414 for a long first line, 431 for a long head", () => {
  const limits = { ...LIMITS, maxRequestLineSize: 10, maxHeaderSize: 40 };
  const check = (text: string) => {
    const buf = bytes(text);
    try {
      checkIncompleteHead(buf, 0, buf.length, limits);
      return 0;
    } catch (error) {
      return (error as HttpError).status;
    }
  };
  assert.equal(check("GET /"), 0);
  assert.equal(check("GET /aaaaaaaaaaaa"), 414);
  assert.equal(check("GET / HTTP/1.0\r\nA: b"), 414);
  // A complete but malformed request line is refused at once (400).
  assert.equal(check("GET / H\r\nA: b"), 400);
  assert.equal(
    check("GET / H\r\n" + "A: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
    431,
  );
  // The original's too-long head (~33 KB of headers, no blank line): 431.
  const original = bytes("GET / HTTP/1.0\r\n" + "Xy: Z\r\n".repeat(4762));
  assert.throws(
    () => checkIncompleteHead(original, 0, original.length, LIMITS),
    (e) => e instanceof HttpError && e.status === 431,
  );
});

Deno.test("parseRequestHead: null while incomplete, length when followed by more", () => {
  const full = "GET /a HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n";
  for (let cut = 0; cut < full.length; cut++) {
    const buf = bytes(full.slice(0, cut));
    assert.equal(
      parseRequestHead(buf, 0, buf.length, LIMITS, false),
      null,
      `cut ${cut}`,
    );
  }
  const pipelined = bytes(full + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  const first = parseRequestHead(
    pipelined,
    0,
    pipelined.length,
    LIMITS,
    false,
  )!;
  assert.equal(first.length, full.length);
  const second = parseRequestHead(
    pipelined,
    full.length,
    pipelined.length,
    LIMITS,
    false,
  )!;
  assert.equal(second.target, "/b");
  // Interned: the same bytes give the same strings.
  assert.equal(second.values[0], first.values[0]);
  // An incomplete head that is already too long is refused at once.
  const long = bytes("GET /" + "a".repeat(200));
  assert.throws(
    () =>
      parseRequestHead(long, 0, long.length, {
        ...LIMITS,
        maxRequestLineSize: 100,
      }, false),
    (e) => e instanceof HttpError && e.status === 414,
  );
  const big = bytes("GET / HTTP/1.1\r\n" + "X: y\r\n".repeat(100));
  assert.throws(
    () =>
      parseRequestHead(
        big,
        0,
        big.length,
        { ...LIMITS, maxHeaderSize: 200 },
        false,
      ),
    (e) => e instanceof HttpError && e.status === 431,
  );
});

Deno.test("parseRequestHead: latin1 values are one char per byte, methods are interned", () => {
  const head = parse("PATCH / HTTP/1.1\r\nHost: h\r\nX: \xff\xe9\x80\r\n\r\n");
  assert.equal(head.method, "PATCH");
  assert.equal(head.values[1], "\xff\xe9\x80");
  assert.equal(parse("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n").method, "BREW");
});

Deno.test("a head reused for the next request sees every changed byte, at any alignment", () => {
  const text = "GET /abc HTTP/1.1\r\nHost: t\r\nX-Word: 0123456789\r\n\r\n";
  for (const offset of [0, 1, 2, 3, 4, 8]) {
    const buf = new Uint8Array(offset + text.length);
    buf.set(bytes(text), offset);
    const end = buf.length;
    const head = parseRequestHead(buf, offset, end, LIMITS, false)!;
    // The same bytes again: the kept results are used.
    assert.equal(parseRequestHead(buf, offset, end, LIMITS, false, head), head);
    assert.equal(head.values[1], "0123456789");
    // One changed digit, at each position of the value (every byte lane of a
    // word), must be seen.
    const valueAt = offset + text.indexOf("0123456789");
    for (let k = 0; k < 10; k++) {
      buf[valueAt + k] = 0x78; // "x"
      parseRequestHead(buf, offset, end, LIMITS, false, head);
      const expected = "0123456789".slice(0, k) + "x" +
        "0123456789".slice(k + 1);
      assert.equal(head.values[1], expected, `offset ${offset}, byte ${k}`);
      buf[valueAt + k] = 0x30 + k;
    }
    // The last byte of the head (its final LF) counts too.
    buf[end - 1] = 0x78;
    assert.equal(parseRequestHead(buf, offset, end, LIMITS, false, head), null);
  }
});
