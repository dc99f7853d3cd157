// HTTP/1.1 protocol behaviour of serve(), on raw sockets with exact bytes:
// keep-alive, pipelining, chunked bodies both ways, 100-continue, HEAD,
// error statuses, header injection, app errors and streaming.

import assert from "node:assert/strict";
import type { Environ, StartResponse } from "../../wsgi/mod.ts";
import {
  deferred,
  exchange,
  parseAll,
  RawClient,
  withServer,
} from "./_helpers.ts";

const decoder = new TextDecoder();
const H = "Host: t\r\n";

function errors() {
  const seen: unknown[] = [];
  return { seen, onError: (error: unknown) => void seen.push(error) };
}

/** Echoes method, path and body. */
async function echo(environ: Environ, startResponse: StartResponse) {
  const body = await environ["wsgi.input"].read();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return `${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${
    decoder.decode(body)
  }`;
}

Deno.test("keep-alive matrix: versions, Connection tokens, one Connection header", async () => {
  await withServer(echo, {}, async (_server, port) => {
    const cases: [string, string][] = [
      [`GET / HTTP/1.1\r\n${H}\r\n`, "keep-alive"],
      [`GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, "close"],
      [`GET / HTTP/1.1\r\n${H}Connection: Keep-Alive\r\n\r\n`, "keep-alive"],
      [`GET / HTTP/1.1\r\n${H}Connection: upgrade, Close\r\n\r\n`, "close"],
      ["GET / HTTP/1.0\r\n\r\n", "close"],
      ["GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "keep-alive"],
      ["GET / HTTP/1.0\r\nConnection: KEEP-ALIVE\r\n\r\n", "keep-alive"],
      [`GET / HTTP/1.2\r\n${H}\r\n`, "keep-alive"],
    ];
    for (const [request, expected] of cases) {
      const client = await RawClient.connect(port);
      try {
        await client.send(request);
        const response = await client.readResponse();
        assert.equal(response.statusLine, "HTTP/1.1 200 OK", request);
        assert.equal(response.headers.connection, expected, request);
        assert.equal(
          response.fields.filter(([n]) => n.toLowerCase() === "connection")
            .length,
          1,
        );
        if (expected === "close") {
          assert.equal(await client.isClosed(), true, request);
        } else {
          // Still open: a second request on the same connection works.
          await client.send(
            `GET /again HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
          );
          assert.equal((await client.readResponse()).body, "GET /again ");
        }
      } finally {
        client.close();
      }
    }
  });
});

Deno.test("pipelining: responses in request order even when apps finish out of order", async () => {
  const app = async (environ: Environ, startResponse: StartResponse) => {
    const ms = Number(environ.QUERY_STRING);
    await new Promise((r) => setTimeout(r, ms));
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return environ.PATH_INFO;
  };
  await withServer(app, {}, async (_server, port) => {
    const requests = [["/a", 30], ["/b", 0], ["/c", 10], ["/d", 0]]
      .map(([path, ms]) => `GET ${path}?${ms} HTTP/1.1\r\n${H}\r\n`).join("");
    const responses = parseAll(
      await exchange(
        port,
        requests + `GET /e?0 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
      ),
    );
    assert.deepEqual(responses.map((r) => r.body), [
      "/a",
      "/b",
      "/c",
      "/d",
      "/e",
    ]);
  });
});

Deno.test("pipelined answers are batched into one write", async () => {
  await withServer(echo, {}, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      const request = `GET /x HTTP/1.1\r\n${H}\r\n`.repeat(16);
      await client.send(request);
      // All 16 responses arrive; the first read already holds them all.
      const first = new Uint8Array(65536);
      const n = await client.conn.read(first);
      assert.ok(n !== null);
      const responses = parseAll(decoder.decode(first.subarray(0, n)));
      assert.equal(responses.length, 16);
    } finally {
      client.close();
    }
  });
});

Deno.test("chunked request body: decoded, with extensions and trailers", async () => {
  let trailers: readonly [string, string][] = [];
  const app = async (environ: Environ, startResponse: StartResponse) => {
    const input = environ["wsgi.input"];
    if (environ.REQUEST_METHOD === "POST") {
      assert.equal(input.remaining, -1);
      assert.equal(environ.CONTENT_LENGTH, undefined);
    }
    const body = await input.read();
    if (environ.REQUEST_METHOD === "POST") trailers = input.trailers;
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return decoder.decode(body);
  };
  await withServer(app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `POST /up HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n` +
          "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n" +
          "X-Checksum: 42\r\nContent-Length: 99\r\n\r\n" +
          `GET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
      ),
    );
    assert.equal(responses.length, 2);
    assert.equal(responses[0].body, "hello 0123456789");
    assert.equal(responses[0].headers.connection, "keep-alive");
    // Framing fields in trailers are ignored; others are kept.
    assert.deepEqual(trailers, [["X-Checksum", "42"]]);
    assert.equal(responses[1].status, 200);
  });
});

Deno.test("chunked request body read line by line, and by readAtMost", async () => {
  const app = async (environ: Environ, startResponse: StartResponse) => {
    const input = environ["wsgi.input"];
    const lines: string[] = [];
    for await (const line of input) lines.push(decoder.decode(line));
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return JSON.stringify(lines);
  };
  await withServer(app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          "3\r\nab\n\r\n4\r\ncd\ne\r\n2\r\nf\n\r\n1\r\ng\r\n0\r\n\r\n",
      ),
    );
    assert.deepEqual(JSON.parse(responses[0].body), [
      "ab\n",
      "cd\n",
      "ef\n",
      "g",
    ]);
  });
  const stripApp = async (environ: Environ, startResponse: StartResponse) => {
    const input = environ["wsgi.input"];
    const first = await input.readlineStripend();
    const some = await input.readAtMost(100);
    const rest = await input.read();
    const end = await input.readlineStripend();
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return JSON.stringify(
      [first, some, rest, end].map((b) =>
        b === null ? null : decoder.decode(b)
      ),
    );
  };
  await withServer(stripApp, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `POST / HTTP/1.1\r\n${H}Content-Length: 14\r\nConnection: close\r\n\r\nline\r\nabcdefgh`,
      ),
    );
    assert.deepEqual(JSON.parse(responses[0].body), [
      "line",
      "abcdefgh",
      "",
      null,
    ]);
  });
});

Deno.test("bad chunked framing: bare LF, bad size, missing CRLF are 400", async () => {
  const app = async (environ: Environ, startResponse: StartResponse) => {
    await environ["wsgi.input"].read();
    startResponse("200 OK", []);
    return "read";
  };
  await withServer(app, {}, async (_server, port) => {
    for (
      const body of [
        "5\nhello\r\n0\r\n\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "zz\r\nhello\r\n0\r\n\r\n",
        "5\r\nhelloXY0\r\n\r\n",
        "5\r\nhello\r\n0\r\n\n",
      ]
    ) {
      const responses = parseAll(
        await exchange(
          port,
          `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body}`,
        ),
      );
      assert.equal(responses.length, 1, JSON.stringify(body));
      assert.equal(responses[0].status, 400, JSON.stringify(body));
      assert.equal(responses[0].headers.connection, "close");
    }
  });
});

Deno.test("chunked body over maxBodySize is 413; a large Content-Length is 413 before the app", async () => {
  let calls = 0;
  const app = async (environ: Environ, startResponse: StartResponse) => {
    calls++;
    await environ["wsgi.input"].read();
    startResponse("200 OK", []);
    return "read";
  };
  await withServer(app, { maxBodySize: 8 }, async (_server, port) => {
    let responses = parseAll(
      await exchange(
        port,
        `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n`,
      ),
    );
    assert.equal(responses[0].status, 413);
    assert.equal(calls, 1);
    responses = parseAll(
      await exchange(
        port,
        `POST / HTTP/1.1\r\n${H}Content-Length: 9\r\n\r\n123456789`,
      ),
    );
    assert.equal(responses[0].status, 413);
    assert.equal(calls, 1); // the app never saw it
  });
});

Deno.test("streamed responses: chunked on 1.1, close-delimited on 1.0, item by item", async () => {
  const gate = deferred();
  const app = (environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    if (environ.PATH_INFO === "/sync") {
      return (function* () {
        yield "one ";
        yield "";
        yield new TextEncoder().encode("two ");
        yield "three";
      })();
    }
    return (async function* () {
      yield "first";
      await gate.promise; // the client has seen "first" before this resumes
      yield "second";
    })();
  };
  await withServer(app, {}, async (_server, port) => {
    let responses = parseAll(
      await exchange(port, `GET /sync HTTP/1.1\r\n${H}\r\n`),
    );
    assert.equal(responses[0].headers["transfer-encoding"], "chunked");
    assert.equal(responses[0].headers["content-length"], undefined);
    assert.equal(responses[0].body, "one two three");
    assert.equal(responses[0].headers.connection, "keep-alive");
    // Chunks keep their boundaries: no item is split or merged.
    assert.ok(
      responses[0].raw.includes(
        "4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n",
      ),
    );

    responses = parseAll(await exchange(port, "GET /sync HTTP/1.0\r\n\r\n"));
    assert.equal(responses[0].headers["transfer-encoding"], undefined);
    assert.equal(responses[0].headers.connection, "close");
    assert.equal(responses[0].body, "one two three");

    const client = await RawClient.connect(port);
    try {
      await client.send(`GET /async HTTP/1.1\r\n${H}\r\n`);
      const buffer = new Uint8Array(4096);
      let seen = "";
      while (!seen.includes("5\r\nfirst\r\n")) {
        const n = await client.conn.read(buffer);
        assert.ok(n !== null);
        seen += decoder.decode(buffer.subarray(0, n));
      }
      gate.resolve();
      while (!seen.endsWith("0\r\n\r\n")) {
        const n = await client.conn.read(buffer);
        assert.ok(n !== null);
        seen += decoder.decode(buffer.subarray(0, n));
      }
      assert.ok(seen.includes("6\r\nsecond\r\n"));
    } finally {
      client.close();
    }
  });
});

Deno.test("a streamed body with the app's Content-Length is sent as is", async () => {
  const app = (_environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", [["Content-Length", "6"]]);
    return (function* () {
      yield "abc";
      yield "def";
    })();
  };
  await withServer(app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `GET / HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
      ),
    );
    assert.equal(responses.length, 2);
    assert.equal(responses[0].body, "abcdef");
    assert.equal(responses[0].headers["transfer-encoding"], undefined);
    assert.equal(responses[1].body, "abcdef");
  });
});

Deno.test("a streamed body longer or shorter than its Content-Length closes the connection", async () => {
  const { seen, onError } = errors();
  const app = (environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", [["Content-Length", "4"]]);
    const items = environ.PATH_INFO === "/long" ? ["abc", "def"] : ["ab"];
    return (function* () {
      yield* items;
    })();
  };
  await withServer(app, { onError }, async (_server, port) => {
    let raw = await exchange(
      port,
      `GET /long HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
    );
    assert.ok(raw.endsWith("\r\n\r\nabcd"), JSON.stringify(raw)); // never more than 4 bytes
    raw = await exchange(
      port,
      `GET /short HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
    );
    assert.ok(raw.endsWith("\r\n\r\nab"), JSON.stringify(raw));
    assert.equal(seen.length, 2);
  });
});

Deno.test("write(): the head waits for the first non-empty chunk; startResponse can be replaced before", async () => {
  const app = async (environ: Environ, startResponse: StartResponse) => {
    let write = startResponse("200 OK", [["X-First", "1"]]);
    await write("");
    // Nothing was sent yet, so the response can still change.
    write = startResponse("201 Created", [["X-Second", "2"]]);
    await write("hello ");
    assert.throws(() => startResponse("500 Oops", []), /head was sent/);
    await write(new TextEncoder().encode("world"));
    return environ.PATH_INFO === "/more" ? ["!", "!"] : [];
  };
  await withServer(app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `GET / HTTP/1.1\r\n${H}\r\nGET /more HTTP/1.1\r\n${H}\r\n`,
      ),
    );
    assert.equal(responses.length, 2);
    assert.equal(responses[0].status, 201);
    assert.equal(responses[0].headers["x-first"], undefined);
    assert.equal(responses[0].headers["x-second"], "2");
    assert.equal(responses[0].body, "hello world");
    assert.equal(responses[1].body, "hello world!!");
  });
});

Deno.test("startResponse with excInfo after the head rethrows it", async () => {
  let rethrown: unknown;
  const app = async (_environ: Environ, startResponse: StartResponse) => {
    const write = startResponse("200 OK", []);
    await write("partial");
    const original = new Error("boom");
    try {
      startResponse("500 Internal Server Error", [], original);
    } catch (error) {
      rethrown = error;
    }
    return [];
  };
  await withServer(app, {}, async (_server, port) => {
    await exchange(port, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.equal((rethrown as Error).message, "boom");
  });
});

Deno.test("Expect: 100-continue: sent on the first body read, not when the app ignores the body", async () => {
  const app = async (environ: Environ, startResponse: StartResponse) => {
    let body = "";
    if (environ.PATH_INFO === "/read") {
      body = decoder.decode(await environ["wsgi.input"].read());
    }
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return `got ${body}`;
  };
  await withServer(app, {}, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      await client.send(
        `POST /read HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`,
      );
      const interim = await client.readResponse();
      assert.equal(interim.statusLine, "HTTP/1.1 100 Continue");
      await client.send("hello");
      const response = await client.readResponse();
      assert.equal(response.body, "got hello");
      assert.equal(response.headers.connection, "keep-alive");

      // The app answers without reading: no 100, and the connection closes
      // (the client may or may not send its body).
      await client.send(
        `POST /ignore HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`,
      );
      const direct = await client.readResponse();
      assert.equal(direct.status, 200);
      assert.equal(direct.body, "got ");
      assert.equal(direct.headers.connection, "close");
    } finally {
      client.close();
    }
  });
});

Deno.test("HEAD: head only, Content-Length of the GET body, connection reusable", async () => {
  const app = (environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    if (environ.PATH_INFO === "/stream") {
      return (function* () {
        yield "streamed";
      })();
    }
    return "Hello, World!";
  };
  await withServer(app, {}, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      await client.send(
        `HEAD / HTTP/1.1\r\n${H}\r\nHEAD /stream HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
      );
      const head = await client.readResponse(true);
      assert.equal(head.headers["content-length"], "13");
      assert.equal(head.body, "");
      const streamHead = await client.readResponse(true);
      assert.equal(streamHead.status, 200);
      assert.equal(streamHead.headers["transfer-encoding"], undefined);
      const get = await client.readResponse();
      assert.equal(get.body, "Hello, World!");
    } finally {
      client.close();
    }
  });
});

Deno.test("204 and 304 responses carry no body and no Content-Length", async () => {
  const app = (environ: Environ, startResponse: StartResponse) => {
    startResponse(
      environ.PATH_INFO === "/204" ? "204 No Content" : "304 Not Modified",
      [],
    );
    return "ignored";
  };
  await withServer(app, {}, async (_server, port) => {
    const raw = await exchange(
      port,
      `GET /204 HTTP/1.1\r\n${H}\r\nGET /304 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    const responses = parseAll(raw);
    assert.equal(responses.length, 2);
    assert.equal(responses[0].status, 204);
    assert.equal(responses[0].headers["content-length"], undefined);
    assert.equal(responses[1].status, 304);
    assert.ok(!raw.includes("ignored"));
  });
});

Deno.test("error statuses: each with Connection: close, the server keeps serving", async () => {
  const { seen, onError } = errors();
  await withServer(echo, {
    onError,
    maxRequestLineSize: 64,
    maxHeaderCount: 5,
    maxBodySize: 100,
  }, async (_server, port) => {
    const cases: [string, number][] = [
      ["GET / HTTP/1.1\r\n\r\n", 400], // no Host
      [`GET / HTTP/1.1\r\n${H}${H}\r\n`, 400], // two Hosts
      [`GET / HTTP/1.1\r\n${H}A: b\r\n c\r\n\r\n`, 400], // obs-fold
      [`GET / HTTP/1.1\r\n${H}A : b\r\n\r\n`, 400], // space before colon
      [`GET / HTTP/1.1\r\n${H}A: b\0\r\n\r\n`, 400], // NUL
      [`GET / HTTP/1.1\r\n${H}A: b\rc\r\n\r\n`, 400], // bare CR
      [
        `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
        400,
      ],
      [
        `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`,
        400,
      ],
      [`POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
      [`POST / HTTP/1.1\r\n${H}Content-Length: 101\r\n\r\n`, 413],
      [`GET /${"a".repeat(80)} HTTP/1.1\r\n${H}\r\n`, 414],
      [`GET / HTTP/1.1\r\n${H}${"A: b\r\n".repeat(6)}\r\n`, 431],
      [`GET https://t/ HTTP/1.1\r\n${H}\r\n`, 421],
      [`GET / HTTP/2.0\r\n${H}\r\n`, 505],
      [`GET /%00 HTTP/1.1\r\n${H}\r\n`, 400],
      ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400], // TLS on a plain port
    ];
    for (const [request, status] of cases) {
      const responses = parseAll(await exchange(port, request));
      assert.equal(responses.length, 1, JSON.stringify(request));
      assert.equal(responses[0].status, status, JSON.stringify(request));
      assert.equal(responses[0].headers.connection, "close");
      assert.equal(
        responses[0].headers["content-type"],
        "text/plain; charset=utf-8",
      );
    }
    // Still serving.
    const ok = parseAll(await exchange(port, `GET /fine HTTP/1.1\r\n${H}\r\n`));
    assert.equal(ok[0].body, "GET /fine ");
    assert.equal(seen.length, 0); // client errors are not app errors
  });
});

Deno.test("an error after a pipelined success keeps the earlier response", async () => {
  await withServer(echo, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `GET /a HTTP/1.1\r\n${H}\r\nGET / HTTP/9.9\r\n\r\nGET /c HTTP/1.1\r\n${H}\r\n`,
      ),
    );
    assert.deepEqual(responses.map((r) => r.status), [200, 505]);
    assert.equal(responses[0].body, "GET /a ");
  });
});

Deno.test("header injection: CR/LF, NUL and bad names in responses are refused", async () => {
  const attempts: [string, [string, string][]][] = [
    ["200 OK", [["X-A", "a\r\nSet-Cookie: evil=1"]]],
    ["200 OK", [["X-A", "a\nb"]]],
    ["200 OK", [["X-A", "a\0b"]]],
    ["200 OK", [["X-A\r\nSet-Cookie", "evil"]]],
    ["200 OK", [["X A", "b"]]],
    ["200 OK", [["", "b"]]],
    ["200 OK", [["X-A", "\u2603"]]],
    ["200 OK\r\nSet-Cookie: evil=1", []],
    ["200", []],
    ["99 Low", []],
    ["600 High", []],
    ["100 Continue", []],
  ];
  const results: string[] = [];
  const app = (environ: Environ, startResponse: StartResponse) => {
    const [status, headers] = attempts[Number(environ.QUERY_STRING)];
    try {
      startResponse(status, headers);
      results.push("accepted");
    } catch (error) {
      results.push(error instanceof TypeError ? "TypeError" : String(error));
    }
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return "safe";
  };
  await withServer(app, {}, async (_server, port) => {
    for (let i = 0; i < attempts.length; i++) {
      const raw = await exchange(
        port,
        `GET /?${i} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
      );
      assert.ok(!raw.toLowerCase().includes("evil"), raw);
      assert.equal(parseAll(raw)[0].body, "safe");
    }
  });
  assert.deepEqual(results, attempts.map(() => "TypeError"));
});

Deno.test("latin1 header values go out as single bytes; Date/Server/Connection are the server's", async () => {
  const app = (_environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", [
      ["X-Latin1", "caf\xe9"],
      ["Server", "evil"],
      ["Date", "yesterday"],
      ["Connection", "keep-alive, foo"],
      ["Transfer-Encoding", "gzip"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
      ["X-Number", 42 as unknown as string],
    ]);
    return "ok";
  };
  await withServer(app, {}, async (_server, port) => {
    const response =
      parseAll(await exchange(port, `GET / HTTP/1.1\r\n${H}\r\n`))[0];
    assert.equal(response.headers["x-latin1"], "caf\xe9"); // one byte 0xE9
    assert.equal(response.headers.server, "syncless");
    assert.notEqual(response.headers.date, "yesterday");
    assert.equal(response.headers["transfer-encoding"], undefined);
    assert.equal(response.headers["x-number"], "42");
    assert.deepEqual(
      response.fields.filter(([n]) => n === "Set-Cookie").map(([, v]) => v),
      ["a=1", "b=2"],
    );
  });
});

Deno.test("the app's Connection: close closes the connection", async () => {
  const app = (_environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", [["Connection", "close"]]);
    return "bye";
  };
  await withServer(app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `GET / HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
        false,
      ),
    );
    assert.equal(responses.length, 1);
    assert.equal(responses[0].headers.connection, "close");
  });
});

Deno.test("app errors: 500 before the head, a cut connection after; the server survives", async () => {
  const { seen, onError } = errors();
  const app = async (environ: Environ, startResponse: StartResponse) => {
    switch (environ.PATH_INFO) {
      case "/sync-throw":
        throw new Error("sync");
      case "/async-throw":
        await Promise.resolve();
        throw new Error("async");
      case "/bad-body":
        startResponse("200 OK", []);
        return 42 as unknown as string;
      case "/bad-chunk":
        startResponse("200 OK", []);
        return [{}] as unknown as string[];
      case "/wrong-length":
        startResponse("200 OK", [["Content-Length", "10"]]);
        return "short";
      case "/after-head":
        startResponse("200 OK", []);
        return (async function* () {
          yield "partial";
          throw new Error("midway");
        })();
    }
    startResponse("200 OK", []);
    return "fine";
  };
  await withServer(app, { onError }, async (_server, port) => {
    for (
      const path of [
        "/sync-throw",
        "/async-throw",
        "/bad-body",
        "/bad-chunk",
        "/wrong-length",
      ]
    ) {
      const responses = parseAll(
        await exchange(
          port,
          `GET ${path} HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
        ),
      );
      assert.equal(responses.length, 1, path);
      assert.equal(responses[0].status, 500, path);
      assert.equal(responses[0].headers.connection, "close", path);
      assert.equal(responses[0].body, "Internal Server Error\n");
    }
    const raw = await exchange(
      port,
      `GET /after-head HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
    );
    assert.ok(raw.startsWith("HTTP/1.1 200 OK\r\n"));
    assert.ok(raw.endsWith("7\r\npartial\r\n"), JSON.stringify(raw)); // cut: no last chunk
    assert.equal(seen.length, 6);
    assert.equal((seen[5] as Error).message, "midway");
    const ok = parseAll(await exchange(port, `GET / HTTP/1.1\r\n${H}\r\n`));
    assert.equal(ok[0].body, "fine");
  });
});

Deno.test("an HttpError thrown by the app becomes its status", async () => {
  const { HttpError } = await import("../../wsgi/mod.ts");
  const app = () => {
    throw new HttpError(426, "upgrade required", {
      headers: [["Sec-WebSocket-Version", "13"]],
    });
  };
  await withServer(app, {}, async (_server, port) => {
    const response =
      parseAll(await exchange(port, `GET / HTTP/1.1\r\n${H}\r\n`))[0];
    assert.equal(response.status, 426);
    assert.equal(response.headers["sec-websocket-version"], "13");
    assert.equal(response.headers.connection, "close");
  });
});

Deno.test("environ: CGI variables, HTTP_* headers, latin1 path, no underscore headers", async () => {
  let seen: Environ | undefined;
  const app = (environ: Environ, startResponse: StartResponse) => {
    seen = environ;
    startResponse("200 OK", []);
    return "";
  };
  await withServer(app, {}, async (_server, port) => {
    await exchange(
      port,
      "POST /a%20b/caf%C3%A9/%zz?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\n" +
        "Content-Type: text/plain\r\nContent-Length: 0\r\nAccept: a\r\nAccept: b\r\n" +
        "X-Under_Score: sneaky\r\nX-Under-Score: real\r\nProxy: http://evil\r\n" +
        "User-Agent: t\xe9st\r\nConnection: close\r\n\r\n",
    );
    const e = seen!;
    assert.equal(e.REQUEST_METHOD, "POST");
    assert.equal(e.SCRIPT_NAME, "");
    assert.equal(e.PATH_INFO, "/a b/caf\xc3\xa9/%zz"); // bytes shown as latin1
    assert.equal(e.QUERY_STRING, "x=1&y=%20");
    assert.equal(e.REQUEST_URI, "/a%20b/caf%C3%A9/%zz?x=1&y=%20");
    assert.equal(e.SERVER_PROTOCOL, "HTTP/1.1");
    assert.equal(e.SERVER_NAME, "127.0.0.1");
    assert.equal(e.SERVER_PORT, String(port));
    assert.equal(e.REMOTE_ADDR, "127.0.0.1");
    assert.match(e.REMOTE_PORT, /^\d+$/);
    assert.equal(e.CONTENT_TYPE, "text/plain");
    assert.equal(e.CONTENT_LENGTH, "0");
    assert.equal(e.HTTP_CONTENT_TYPE, undefined);
    assert.equal(e.HTTP_HOST, "example.com:8080");
    assert.equal(e.HTTP_ACCEPT, "a, b");
    assert.equal(e.HTTP_X_UNDER_SCORE, "real");
    assert.equal(e.HTTP_PROXY, undefined);
    assert.equal(e.HTTP_USER_AGENT, "t\xe9st");
    assert.equal(e["wsgi.url_scheme"], "http");
    assert.deepEqual(e["wsgi.version"], [1, 0]);
    assert.equal(e["wsgi.multithread"], true);
    assert.equal(e["wsgi.multiprocess"], false);
    assert.equal(e["wsgi.run_once"], false);
    assert.equal(typeof e["wsgi.errors"].write, "function");
    assert.equal(Object.getPrototypeOf(e), Object.prototype); // a plain object
  });
});

Deno.test("absolute-form targets replace Host; OPTIONS * reaches the app", async () => {
  const seen: [string, unknown][] = [];
  const app = (environ: Environ, startResponse: StartResponse) => {
    seen.push([environ.PATH_INFO, environ.HTTP_HOST]);
    startResponse("200 OK", []);
    return "";
  };
  await withServer(app, {}, async (_server, port) => {
    await exchange(
      port,
      `GET http://other.example/p?q HTTP/1.1\r\n${H}\r\nOPTIONS * HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
  });
  assert.deepEqual(seen, [["/p", "other.example"], ["*", "t"]]);
});

Deno.test("bad input to serve() and startResponse gets typed errors", async () => {
  const { serve } = await import("../../wsgi/mod.ts");
  assert.throws(() => serve(42 as never), TypeError);
  assert.throws(() => serve(() => "", { port: -1 }), RangeError);
  assert.throws(() => serve(() => "", { headersTimeout: -5 }), RangeError);
  assert.throws(() => serve(() => "", { workers: 0 }), RangeError);
  assert.throws(() => serve(() => "", { workers: 2 }), TypeError); // needs a module URL
  assert.throws(() => serve(() => "", { transport: "unix" }), TypeError);
  assert.throws(
    () => serve(() => "", { tls: { cert: 1 } as never }),
    TypeError,
  );
  const results: string[] = [];
  const app = (_environ: Environ, startResponse: StartResponse) => {
    for (const bad of [undefined, "OK 200", 200]) {
      try {
        startResponse(bad as unknown as string, []);
      } catch (error) {
        results.push((error as Error).name);
      }
    }
    try {
      startResponse("200 OK", "X-A: b" as never);
    } catch (error) {
      results.push((error as Error).name);
    }
    startResponse("200 OK", []);
    return "";
  };
  await withServer(app, {}, async (_server, port) => {
    await exchange(port, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  });
  assert.deepEqual(results, [
    "TypeError",
    "TypeError",
    "TypeError",
    "TypeError",
  ]);
});

Deno.test("access log: one Common Log Format line per request", async () => {
  const lines: string[] = [];
  await withServer(
    echo,
    { accessLog: (line) => lines.push(line) },
    async (_server, port) => {
      await exchange(
        port,
        `GET /a?b HTTP/1.1\r\n${H}\r\nPOST /c HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi`,
      );
      await exchange(port, "BAD\r\n\r\n");
    },
  );
  assert.equal(lines.length, 3);
  assert.match(
    lines[0],
    /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/a\?b HTTP\/1\.1" 200 7$/,
  );
  assert.match(lines[1], /"POST \/c HTTP\/1\.0" 200 10$/);
  assert.match(lines[2], /"-" 400 -$/);
});

Deno.test("an access log that throws is reported to onError; requests are still answered", async () => {
  const { seen, onError } = errors();
  const failure = new Error("log disk full");
  const accessLog = () => {
    throw failure;
  };
  await withServer(echo, { accessLog, onError }, async (_server, port) => {
    // Two pipelined requests and a bad one: every answer still goes out.
    const responses = parseAll(
      await exchange(port, `GET /a HTTP/1.1\r\n${H}\r\n`.repeat(2)),
    );
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.match(await exchange(port, "BAD\r\n\r\n"), /^HTTP\/1\.1 400 /);
  });
  assert.deepEqual(seen, [failure, failure, failure]);
});

Deno.test("an app refilling one Uint8Array gets each response's own bytes (no stale cache)", async () => {
  const shared = new Uint8Array(5);
  let n = 0;
  const app = (_environ: Environ, startResponse: StartResponse) => {
    shared.set(new TextEncoder().encode(`body${n++}`));
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return shared;
  };
  await withServer(app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(port, `GET / HTTP/1.1\r\n${H}\r\n`.repeat(4)),
    );
    assert.deepEqual(responses.map((r) => r.body), [
      "body0",
      "body1",
      "body2",
      "body3",
    ]);
  });
});

Deno.test("repeated identical heads: each request gets its own fresh environ", async () => {
  const seen: string[] = [];
  const inputs = new Set<unknown>();
  const app = async (environ: Environ, startResponse: StartResponse) => {
    const body = new TextDecoder().decode(await environ["wsgi.input"].read());
    inputs.add(environ["wsgi.input"]);
    seen.push(
      `${environ.REMOTE_PORT} ${environ.PATH_INFO} ${environ.HTTP_X_ADDED} ${body}`,
    );
    // What an app (or middleware) does to its environ stays its own.
    environ.PATH_INFO = "/changed";
    environ.HTTP_X_ADDED = "yes";
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return "ok";
  };
  await withServer(app, {}, async (_server, port) => {
    const request = `POST /a HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\n`;
    const expected: string[] = [];
    const ask = async (client: RawClient, body: string) => {
      await client.send(request + body);
      assert.equal((await client.readResponse()).status, 200);
      const port = (client.conn.localAddr as Deno.NetAddr).port;
      expected.push(`${port} /a undefined ${body}`);
    };
    const a = await RawClient.connect(port);
    const b = await RawClient.connect(port);
    try {
      // The same head three times on each of two connections.
      for (let i = 1; i <= 3; i++) {
        await ask(a, `a${i}`);
        await ask(b, `b${i}`);
      }
      // A's head, and what was kept with it, goes on to the next connection.
      await a.closeWrite();
      assert.equal(await a.readAll(), "");
      const c = await RawClient.connect(port);
      try {
        await ask(c, "c1");
        await ask(c, "c2");
      } finally {
        c.conn.close();
      }
    } finally {
      a.conn.close();
      b.conn.close();
    }
    assert.deepEqual(seen, expected);
    assert.equal(inputs.size, expected.length);
  });
});

Deno.test("identical pipelined heads and responses are served from the caches correctly", async () => {
  const seen: string[] = [];
  const app = (environ: Environ, startResponse: StartResponse) => {
    seen.push(`${environ.PATH_INFO} ${environ.HTTP_X_N}`);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return "same";
  };
  await withServer(app, {}, async (_server, port) => {
    const request = `GET /a HTTP/1.1\r\n${H}X-N: 1\r\n\r\n`;
    const responses = parseAll(
      await exchange(
        port,
        request + request + `GET /b HTTP/1.1\r\n${H}X-N: 2\r\n\r\n` + request,
      ),
    );
    assert.deepEqual(responses.map((r) => r.body), [
      "same",
      "same",
      "same",
      "same",
    ]);
    assert.deepEqual(seen, ["/a 1", "/a 1", "/b 2", "/a 1"]);
  });
});
