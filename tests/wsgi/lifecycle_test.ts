// Timeouts (slowloris, idle keep-alive, slow bodies, stuck readers) and
// graceful shutdown with requests in flight.

import assert from "node:assert/strict";
import { current, Tasklet } from "../../coio/mod.ts";
import {
  type Environ,
  HttpError,
  serve,
  type StartResponse,
} from "../../wsgi/mod.ts";
import {
  assertNotServed,
  deferred,
  exchange,
  parseAll,
  RawClient,
  withServer,
} from "./_helpers.ts";

const H = "Host: t\r\n";

function hello(_environ: Environ, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return "Hello, World!";
}

Deno.test("slowloris: one byte per 100 ms gets 408 at headersTimeout while others are served", async () => {
  await withServer(hello, { headersTimeout: 500 }, async (_server, port) => {
    const slow = await RawClient.connect(port);
    const started = performance.now();
    const request = `GET / HTTP/1.1\r\n${H}X-Padding: ${
      "p".repeat(200)
    }\r\n\r\n`;
    let stop = false;
    const dripping = (async () => {
      // Bounded: at most the whole request, one byte per 100 ms.
      for (let i = 0; i < request.length && !stop; i++) {
        try {
          await slow.send(request[i]);
        } catch {
          return; // the server closed the connection
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      // Meanwhile other clients are served normally.
      for (let i = 0; i < 5; i++) {
        const responses = parseAll(
          await exchange(port, `GET /${i} HTTP/1.1\r\n${H}\r\n`),
        );
        assert.equal(responses[0].body, "Hello, World!");
      }
      const response = await slow.readResponse();
      const elapsed = performance.now() - started;
      assert.equal(response.status, 408);
      assert.equal(response.headers.connection, "close");
      assert.ok(elapsed < 5000, `408 took ${elapsed} ms`);
    } finally {
      stop = true;
      await dripping;
      slow.close();
    }
  });
});

Deno.test("a new connection that sends nothing is closed quietly after headersTimeout", async () => {
  await withServer(hello, { headersTimeout: 200 }, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      const started = performance.now();
      assert.equal(await client.readAll(), ""); // no 408: nothing was asked
      assert.ok(performance.now() - started < 5000);
    } finally {
      client.close();
    }
  });
});

Deno.test("an idle keep-alive connection is closed after keepAliveTimeout", async () => {
  await withServer(hello, { keepAliveTimeout: 200 }, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      await client.send(`GET / HTTP/1.1\r\n${H}\r\n`);
      const response = await client.readResponse();
      assert.equal(response.headers.connection, "keep-alive");
      const started = performance.now();
      assert.equal(await client.isClosed(), true);
      assert.ok(performance.now() - started < 5000);
    } finally {
      client.close();
    }
  });
});

Deno.test("idle keep-alive connections hold no tasklet; each wakes on its next request", async () => {
  const servedBy: Tasklet<unknown>[] = [];
  const app = (environ: Environ, startResponse: StartResponse) => {
    servedBy.push(current());
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return `ok ${environ.PATH_INFO}`;
  };
  await withServer(app, {}, async (server, port) => {
    const clients: RawClient[] = [];
    try {
      const before = Tasklet.aliveCount;
      for (let i = 0; i < 20; i++) {
        const client = await RawClient.connect(port);
        clients.push(client);
        await client.send(`GET /first${i} HTTP/1.1\r\n${H}\r\n`);
        assert.equal((await client.readResponse()).body, `ok /first${i}`);
      }
      // Bounded wait for the tasklets to finish parking their connections.
      for (let i = 0; i < 200 && Tasklet.aliveCount > before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(
        Tasklet.aliveCount,
        before,
        "idle connections hold tasklets",
      );
      assert.ok(servedBy.every((tasklet) => !tasklet.alive));
      // Each connection wakes for its next request, in a new tasklet.
      for (let i = 0; i < 20; i++) {
        await clients[i].send(`GET /second${i} HTTP/1.1\r\n${H}\r\n`);
        const response = await clients[i].readResponse();
        assert.equal(response.body, `ok /second${i}`);
        assert.equal(response.headers.connection, "keep-alive");
        assert.notEqual(servedBy[20 + i], servedBy[i]);
      }
      // Half leave while idle; shutdown closes the other half.
      for (const client of clients.slice(0, 10)) client.close();
    } finally {
      await server.shutdown();
      for (const client of clients.slice(10)) {
        assert.equal(await client.isClosed(), true);
        client.close();
      }
    }
  });
});

Deno.test("a stalled request body fails the read with 408 after bodyTimeout", async () => {
  let caught: unknown;
  const app = async (environ: Environ, startResponse: StartResponse) => {
    try {
      await environ["wsgi.input"].read();
    } catch (error) {
      caught = error;
      throw error;
    }
    startResponse("200 OK", []);
    return "";
  };
  await withServer(app, { bodyTimeout: 200 }, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      await client.send(
        `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n12345`,
      );
      const response = await client.readResponse();
      assert.equal(response.status, 408);
      assert.equal(response.headers.connection, "close");
      assert.ok(caught instanceof HttpError);
      assert.equal(caught.status, 408);
    } finally {
      client.close();
    }
  });
});

Deno.test("a client that stops reading is cut off after writeTimeout", async () => {
  const closed = deferred();
  const app = (_environ: Environ, startResponse: StartResponse) => {
    startResponse("200 OK", []);
    const chunk = new Uint8Array(1 << 20);
    return (function* () {
      try {
        for (let i = 0; i < 256; i++) yield chunk; // bounded: 256 MiB
      } finally {
        closed.resolve();
      }
    })();
  };
  const errors: unknown[] = [];
  await withServer(app, {
    writeTimeout: 300,
    onError: (e) => void errors.push(e),
  }, async (_server, port) => {
    const client = await RawClient.connect(port);
    try {
      await client.send(`GET / HTTP/1.1\r\n${H}\r\n`);
      // Never read: the server's writes stall, then it gives up.
      await closed.promise;
    } finally {
      client.close();
    }
  });
  assert.deepEqual(errors, []); // a stuck client is not an app error
});

Deno.test("graceful shutdown: in-flight requests finish, idle connections close, none lost", async () => {
  const gate = deferred();
  let started = 0;
  const allStarted = deferred();
  const app = async (environ: Environ, startResponse: StartResponse) => {
    if (environ.PATH_INFO === "/slow") {
      if (++started === 5) allStarted.resolve();
      await gate.promise;
    }
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return `done ${environ.PATH_INFO}`;
  };
  const server = serve(app, { hostname: "127.0.0.1", port: 0 });
  const port = server.addr.port!;
  const idle = await RawClient.connect(port);
  const busy: RawClient[] = [];
  try {
    await idle.send(`GET /first HTTP/1.1\r\n${H}\r\n`);
    assert.equal((await idle.readResponse()).headers.connection, "keep-alive");
    for (let i = 0; i < 5; i++) {
      const client = await RawClient.connect(port);
      busy.push(client);
      await client.send(`GET /slow HTTP/1.1\r\n${H}\r\n`);
    }
    await allStarted.promise;
    let shutDown = false;
    const shutdown = server.shutdown().then(() => (shutDown = true));
    // The idle connection is closed; new connections are refused.
    assert.equal(await idle.isClosed(), true);
    await assertNotServed(port);
    assert.equal(shutDown, false);
    gate.resolve();
    for (const client of busy) {
      const response = await client.readResponse();
      assert.equal(response.status, 200);
      assert.equal(response.body, "done /slow");
      assert.equal(response.headers.connection, "close");
      assert.equal(await client.isClosed(), true);
    }
    await shutdown;
    await server.finished;
    assert.equal(shutDown, true);
  } finally {
    gate.resolve();
    idle.close();
    for (const client of busy) client.close();
    await server.shutdown();
  }
});

Deno.test("an aborted signal shuts the server down", async () => {
  const controller = new AbortController();
  const server = serve(hello, {
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
  });
  const responses = parseAll(
    await exchange(server.addr.port!, `GET / HTTP/1.1\r\n${H}\r\n`),
  );
  assert.equal(responses[0].status, 200);
  controller.abort();
  await server.finished;
  await assertNotServed(server.addr.port!);
});

Deno.test("onListen gets the address; await using shuts down", async () => {
  let listened: unknown;
  {
    await using server = serve(hello, {
      hostname: "127.0.0.1",
      port: 0,
      onListen: (addr) => (listened = addr),
    });
    assert.deepEqual(listened, {
      hostname: "127.0.0.1",
      port: server.addr.port,
    });
  }
});
