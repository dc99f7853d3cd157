// pipelineConcurrency: pipelined requests of one connection served at the
// same time, answered in request order.

import assert from "node:assert/strict";
import type { Environ, StartResponse } from "../../wsgi/mod.ts";
import { exchange, parseAll, withServer } from "./_helpers.ts";

const H = "Host: t\r\n";

/** An app whose requests wait on gates the test opens in any order. */
function gatedApp() {
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const allStarted = Promise.withResolvers<void>();
  let expected = Infinity;
  const app = async (environ: Environ, startResponse: StartResponse) => {
    const path = environ.PATH_INFO;
    started.push(path);
    running++;
    maxRunning = Math.max(maxRunning, running);
    if (started.length === expected) allStarted.resolve();
    if (environ.QUERY_STRING === "wait") {
      await new Promise<void>((resolve) => gates.set(path, resolve));
    }
    running--;
    if (path === "/fail") throw new Error("app failed");
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    if (path === "/stream") {
      return (async function* () {
        yield "streamed ";
        yield "body";
      })();
    }
    return `answer ${path}`;
  };
  return {
    app,
    gates,
    started,
    get maxRunning() {
      return maxRunning;
    },
    expect(n: number) {
      expected = n;
      return allStarted.promise;
    },
  };
}

Deno.test("pipelineConcurrency: buffered requests run together, answers stay in order", async () => {
  const gated = gatedApp();
  await withServer(
    gated.app,
    { pipelineConcurrency: 4 },
    async (_server, port) => {
      const answered = exchange(
        port,
        `GET /a?wait HTTP/1.1\r\n${H}\r\nGET /b?wait HTTP/1.1\r\n${H}\r\n` +
          `GET /c HTTP/1.1\r\n${H}\r\nGET /d?wait HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
      );
      // All four apps run before any finishes; release them last to first.
      await gated.expect(4);
      for (const path of ["/d", "/b", "/a"]) gated.gates.get(path)!();
      const responses = parseAll(await answered);
      assert.deepEqual(responses.map((r) => r.body), [
        "answer /a",
        "answer /b",
        "answer /c",
        "answer /d",
      ]);
      assert.equal(responses[3].headers.connection, "close");
      assert.equal(gated.maxRunning, 3);
    },
  );
});

Deno.test("pipelineConcurrency: at most N at once; a request with a body waits its turn", async () => {
  const gated = gatedApp();
  const bodies: string[] = [];
  const app = async (environ: Environ, startResponse: StartResponse) => {
    if (environ.REQUEST_METHOD === "POST") {
      bodies.push(new TextDecoder().decode(await environ["wsgi.input"].read()));
      startResponse("200 OK", []);
      return `posted ${bodies.at(-1)}`;
    }
    return await gated.app(environ, startResponse);
  };
  await withServer(app, { pipelineConcurrency: 2 }, async (_server, port) => {
    const answered = exchange(
      port,
      `GET /1?wait HTTP/1.1\r\n${H}\r\nGET /2?wait HTTP/1.1\r\n${H}\r\n` +
        `GET /3 HTTP/1.1\r\n${H}\r\nPOST /p HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nbody` +
        `GET /4 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    await gated.expect(2);
    assert.deepEqual(gated.started, ["/1", "/2"]); // /3 waits for room
    gated.gates.get("/2")!();
    gated.gates.get("/1")!();
    const responses = parseAll(await answered);
    assert.deepEqual(responses.map((r) => r.body), [
      "answer /1",
      "answer /2",
      "answer /3",
      "posted body",
      "answer /4",
    ]);
    assert.equal(gated.maxRunning, 2);
  });
});

Deno.test("pipelineConcurrency: a failing request answers 500 and drops the later answers", async () => {
  const gated = gatedApp();
  const errors: unknown[] = [];
  await withServer(gated.app, {
    pipelineConcurrency: 4,
    onError: (e) => void errors.push(e),
  }, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `GET /stream HTTP/1.1\r\n${H}\r\nGET /fail HTTP/1.1\r\n${H}\r\nGET /after HTTP/1.1\r\n${H}\r\n`,
      ),
    );
    assert.deepEqual(responses.map((r) => r.status), [200, 500]);
    assert.equal(responses[0].body, "streamed body");
    assert.equal(responses[1].headers.connection, "close");
  });
  assert.equal(errors.length, 1);
});

Deno.test("without pipelineConcurrency, pipelined requests run one at a time", async () => {
  const gated = gatedApp();
  await withServer(gated.app, {}, async (_server, port) => {
    const responses = parseAll(
      await exchange(
        port,
        `GET /x HTTP/1.1\r\n${H}\r\nGET /y HTTP/1.1\r\n${H}\r\nGET /z HTTP/1.1\r\n${H}\r\n`,
      ),
    );
    assert.equal(responses.length, 3);
    assert.equal(gated.maxRunning, 1);
  });
});
