// Fetch-style apps on our engine, and WSGI apps on Deno.serve through
// toFetchHandler.

import assert from "node:assert/strict";
import {
  type Environ,
  type FetchApp,
  HttpError,
  type StartResponse,
  toFetchHandler,
} from "../../wsgi/mod.ts";
import {
  deferred,
  exchange,
  parseAll,
  RawClient,
  withServer,
} from "./_helpers.ts";

const H = "Host: t\r\n";

Deno.test("fetch-style app: Request with method, URL, headers and a streamed body", async () => {
  const seen: Record<string, unknown> = {};
  const app: FetchApp = {
    async fetch(request, info) {
      if (seen.url !== undefined) {
        return new Response("again", { status: 201, statusText: "Made" });
      }
      seen.method = request.method;
      seen.url = request.url;
      seen.type = request.headers.get("content-type");
      seen.accept = request.headers.get("accept");
      seen.remote = info.remoteAddr.hostname;
      const body = await request.text();
      return new Response(`got ${body.length}: ${body.slice(0, 5)}`, {
        status: 201,
        statusText: "Made",
        headers: { "X-Seen": "yes" },
      });
    },
  };
  await withServer(app, {}, async (_server, port) => {
    const response = await fetch(`http://127.0.0.1:${port}/p/q?x=1`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", "Accept": "a" },
      body: "hello world",
    });
    const body = await response.text();
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-seen"), "yes");
    assert.equal(response.headers.get("content-length"), "13");
    assert.equal(body, "got 11: hello");
    // Deno's fetch shows canonical reason phrases: look at the bytes.
    const raw = await exchange(
      port,
      `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nConnection: close\r\n\r\nab`,
    );
    assert.ok(raw.startsWith("HTTP/1.1 201 Made\r\n"), raw);
  });
  assert.equal(seen.method, "POST");
  assert.match(String(seen.url), /^http:\/\/127\.0\.0\.1:\d+\/p\/q\?x=1$/);
  assert.equal(seen.type, "text/plain");
  assert.equal(seen.accept, "a");
  assert.equal(seen.remote, "127.0.0.1");
});

Deno.test("fetch-style app: a large chunked upload streams through request.body", async () => {
  const app: FetchApp = {
    async fetch(request) {
      let total = 0;
      let chunks = 0;
      for await (const chunk of request.body!) {
        total += chunk.length;
        chunks++;
      }
      return new Response(
        `${total} bytes in ${chunks > 1 ? "several" : "one"}`,
      );
    },
  };
  await withServer(app, {}, async (_server, port) => {
    const part = "x".repeat(65536);
    let request =
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    for (let i = 0; i < 16; i++) request += `10000\r\n${part}\r\n`;
    request += "0\r\n\r\n";
    const responses = parseAll(await exchange(port, request));
    assert.equal(responses[0].body, "1048576 bytes in several");
  });
});

Deno.test("fetch-style app: a streamed Response goes out chunk by chunk", async () => {
  const gate = deferred();
  const app: FetchApp = {
    fetch() {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("first"));
          await gate.promise;
          controller.enqueue(new TextEncoder().encode("second"));
          controller.close();
        },
      });
      return new Response(body, {
        headers: { "Content-Type": "text/event-stream" },
      });
    },
  };
  await withServer(app, {}, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      await client.send(`GET / HTTP/1.1\r\n${H}\r\n`);
      let seen = "";
      const buffer = new Uint8Array(4096);
      while (!seen.includes("5\r\nfirst\r\n")) {
        const n = await client.conn.read(buffer);
        assert.ok(n !== null);
        seen += new TextDecoder().decode(buffer.subarray(0, n));
      }
      assert.ok(seen.includes("Transfer-Encoding: chunked"));
      gate.resolve();
      while (!seen.endsWith("0\r\n\r\n")) {
        const n = await client.conn.read(buffer);
        assert.ok(n !== null);
        seen += new TextDecoder().decode(buffer.subarray(0, n));
      }
      assert.ok(seen.includes("5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n"));
    } finally {
      client.close();
    }
  });
});

Deno.test("fetch-style app: Set-Cookie kept apart, null bodies, errors become 500", async () => {
  const errors: unknown[] = [];
  const app: FetchApp = {
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/cookies") {
        const headers = new Headers();
        headers.append("Set-Cookie", "a=1; Path=/");
        headers.append("Set-Cookie", "b=2");
        return new Response("c", { headers });
      }
      if (path === "/empty") return new Response(null, { status: 204 });
      if (path === "/not-a-response") return "nope" as unknown as Response;
      throw new Error("fetch failed");
    },
  };
  await withServer(
    app,
    { onError: (e) => void errors.push(e) },
    async (_server, port) => {
      const raw = await exchange(
        port,
        `GET /cookies HTTP/1.1\r\n${H}\r\nGET /empty HTTP/1.1\r\n${H}\r\nGET /boom HTTP/1.1\r\n${H}\r\n`,
      );
      const responses = parseAll(raw);
      assert.deepEqual(
        responses[0].fields.filter(([n]) => n.toLowerCase() === "set-cookie")
          .map(([, v]) => v),
        ["a=1; Path=/", "b=2"],
      );
      assert.equal(responses[1].status, 204);
      assert.equal(responses[2].status, 500);
      assert.equal(responses.length, 3);
      const bad = parseAll(
        await exchange(port, `GET /not-a-response HTTP/1.1\r\n${H}\r\n`),
      );
      assert.equal(bad[0].status, 500);
    },
  );
  assert.equal(errors.length, 2);
  assert.ok(errors[1] instanceof TypeError);
});

Deno.test("status lines carry the registered reason phrase when the app gives none", async () => {
  const app: FetchApp = {
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/missing") return new Response("no", { status: 404 });
      if (path === "/teapot") return new Response("tea", { status: 599 });
      throw new HttpError(403, "members only");
    },
  };
  await withServer(app, { onError: () => {} }, async (_server, port) => {
    const raw = await exchange(
      port,
      `GET /missing HTTP/1.1\r\n${H}\r\nGET /teapot HTTP/1.1\r\n${H}\r\n`,
    );
    assert.match(raw, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(raw, /\r\n\r\nnoHTTP\/1\.1 599 Server Error\r\n/);
    const forbidden = await exchange(port, `GET /x HTTP/1.1\r\n${H}\r\n`);
    assert.match(forbidden, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(forbidden, /\r\n\r\nForbidden: members only\n$/);
  });
});

Deno.test("fetch-style app: this is the app object (Hono-style), Deno fetch keeps alive", async () => {
  class App {
    greeting = "hi";
    fetch(request: Request): Response {
      return new Response(`${this.greeting} ${new URL(request.url).pathname}`);
    }
  }
  await withServer(new App(), {}, async (_server, port) => {
    for (const path of ["/a", "/b", "/c"]) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(await response.text(), `hi ${path}`);
    }
  });
});

function wsgiEcho(environ: Environ, startResponse: StartResponse) {
  return (async function* () {
    const body = await environ["wsgi.input"].read();
    // startResponse may come late, inside the iteration.
    startResponse("200 OK", [["Content-Type", "text/plain"], [
      "X-Method",
      environ.REQUEST_METHOD,
    ]]);
    yield `${environ.PATH_INFO}?${environ.QUERY_STRING} `;
    yield "";
    yield `${environ.HTTP_X_CUSTOM ?? "-"} ${body.length}`;
  })();
}

Deno.test("toFetchHandler: a WSGI app on Deno.serve, with bodies, late startResponse and errors", async () => {
  const errors: unknown[] = [];
  const handler = toFetchHandler((environ, startResponse) => {
    if (environ.PATH_INFO === "/boom") throw new Error("wsgi failed");
    if (environ.PATH_INFO === "/fixed") {
      const write = startResponse("202 Accepted", [[
        "Content-Type",
        "text/plain",
      ], ["Connection", "close"]]);
      void write("written ");
      return ["and ", "returned"];
    }
    return wsgiEcho(environ, startResponse);
  }, { onError: (e) => void errors.push(e) });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    handler,
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    let response = await fetch(`${base}/echo%20x?a=b`, {
      method: "POST",
      headers: { "X-Custom": "yes" },
      body: "12345",
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-method"), "POST");
    assert.equal(await response.text(), "/echo x?a=b yes 5");
    response = await fetch(`${base}/fixed`);
    assert.equal(response.status, 202);
    assert.equal(response.statusText, "Accepted");
    assert.equal(await response.text(), "written and returned");
    response = await fetch(`${base}/boom`);
    assert.equal(response.status, 500);
    await response.body?.cancel();
    response = await fetch(`${base}/head`, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
  } finally {
    await server.shutdown();
  }
  assert.equal(errors.length, 1);
});
