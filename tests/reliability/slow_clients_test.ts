// Slow clients (slowloris heads, stalled bodies) get 408 within the
// configured timeouts while normal clients are served; broken clients
// (resets mid-request and mid-response, readers that stop reading) leave no
// connection, descriptor or timer behind.

import assert from "node:assert/strict";
import net from "node:net";
import { pendingTimerCount } from "../../coio/_timers.ts";
import { Tasklet } from "../../coio/mod.ts";
import { serve, type WsgiApp } from "../../wsgi/mod.ts";
import { parseResponse } from "../wsgi/_helpers.ts";
import {
  exchangeRaw,
  HAS_PROC,
  isReset,
  openFds,
  pool,
  responsesOf,
  waitUntil,
} from "./_net.ts";

const encoder = new TextEncoder();
const HEADERS_TIMEOUT = 1_000;
const BODY_TIMEOUT = 1_000;
const BIG = new Uint8Array(8 << 20).fill(0x61);
const HUGE = 64 << 20;

const app: WsgiApp = async (environ, startResponse) => {
  const path = environ.PATH_INFO;
  const body = await environ["wsgi.input"].read();
  if (path === "/big") {
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    return BIG;
  }
  if (path === "/huge") {
    // 64 MiB: far more than loopback socket buffers can absorb.
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    return (async function* () {
      for (let i = 0; i < HUGE / 65536; i++) yield BIG.subarray(0, 65536);
    })();
  }
  if (path === "/stream") {
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    return (async function* () {
      for (let i = 0; i < 256; i++) yield BIG.subarray(0, 32768);
    })();
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return `ok ${body.length}`;
};

/** Sends `head` a few bytes at a time until the server answers or closes. */
async function trickle(
  port: number,
  head: string,
  everyMs: number,
): Promise<{ response: string; elapsed: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  let answered = false;
  let response = "";
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    try {
      for (let n; (n = await conn.read(buf)) !== null;) {
        answered = true;
        response += new TextDecoder().decode(buf.subarray(0, n));
      }
    } catch {
      // Reset after the answer: fine, the answer is what counts.
    }
    answered = true;
  })();
  const bytes = encoder.encode(head);
  let elapsed = 0;
  try {
    for (let i = 0; !answered; i = (i + 1) % bytes.length) {
      await conn.write(bytes.subarray(i, i + 1));
      // Bounded: never trickles past 10 s however the server behaves.
      if (performance.now() - started > 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  } catch {
    // The server closed while we were writing.
  }
  await reading;
  elapsed = performance.now() - started;
  conn.close();
  return { response, elapsed };
}

Deno.test("slowloris and stalled bodies get 408 in time while 100 normal clients are served", async () => {
  const server = serve(app, {
    port: 0,
    headersTimeout: HEADERS_TIMEOUT,
    bodyTimeout: BODY_TIMEOUT,
    keepAliveTimeout: 5_000,
  });
  const port = server.addr.port!;
  try {
    // Heads that never end: one byte every 50 ms.
    const slowHeads = Array.from(
      { length: 20 },
      () => trickle(port, "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ", 50),
    );
    // Bodies that stall after 10 of 1000 bytes.
    const stalledBodies = Array.from({ length: 20 }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const started = performance.now();
      await conn.write(encoder.encode(
        "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n0123456789",
      ));
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(4096);
      for (let n; (n = await conn.read(buf)) !== null;) {
        chunks.push(buf.slice(0, n));
      }
      conn.close();
      const text = new TextDecoder().decode(
        Uint8Array.from(chunks.flatMap((c) => [...c])),
      );
      return { response: text, elapsed: performance.now() - started };
    });
    // Meanwhile 100 normal clients, all at once, each on its own connection.
    const normal: number[] = [];
    await pool(100, 100, async () => {
      const result = await exchangeRaw(
        port,
        encoder.encode(
          "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        10_000,
      );
      normal.push(...responsesOf(result.data).map((r) => r.status));
    });
    assert.deepEqual(normal, new Array(100).fill(200));
    for (const { response, elapsed } of await Promise.all(slowHeads)) {
      assert.match(response, /^HTTP\/1\.1 408 /, "slowloris gets 408");
      assert.ok(
        elapsed >= HEADERS_TIMEOUT * 0.9 && elapsed < HEADERS_TIMEOUT + 3_000,
        `408 after ${elapsed.toFixed(0)} ms`,
      );
    }
    for (const { response, elapsed } of await Promise.all(stalledBodies)) {
      const parsed = parseResponse(response);
      assert.equal(parsed?.status, 408, "stalled body gets 408");
      assert.equal(parsed?.headers["connection"], "close");
      assert.ok(
        elapsed >= BODY_TIMEOUT * 0.9 && elapsed < BODY_TIMEOUT + 3_000,
        `408 after ${elapsed.toFixed(0)} ms`,
      );
    }
  } finally {
    await server.shutdown();
  }
});

/** Connects with node:net (which can reset), runs `fn`, resolves when closed. */
function nodeClient(
  port: number,
  fn: (socket: net.Socket, received: () => number) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const socket = net.connect(port, "127.0.0.1", () => fn(socket, () => got));
    socket.on("data", (data: Uint8Array) => (got += data.length));
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

Deno.test("resets mid-request and mid-response, and readers that stop, leak nothing", async () => {
  if (!HAS_PROC) {
    console.log("SKIP: counting descriptors needs /proc (Linux)");
    return;
  }
  const fdsBefore = openFds();
  const timersBefore = pendingTimerCount();
  const taskletsBefore = Tasklet.aliveCount;
  const errors: unknown[] = [];
  const server = serve(app, {
    port: 0,
    headersTimeout: 2_000,
    bodyTimeout: 2_000,
    writeTimeout: 1_000,
    // Long enough that only writeTimeout can end a stalled reader's connection.
    keepAliveTimeout: 30_000,
    onError: (error) => errors.push(error),
  });
  const port = server.addr.port!;
  const serverFds = openFds();
  // The accept loop is running (it may not have started yet: count it).
  const taskletsIdle = taskletsBefore + 1;
  try {
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      // Reset in the middle of the head.
      jobs.push(nodeClient(port, (socket) => {
        socket.write(
          "GET / HTTP/1.1\r\nHost: h\r\nX-Half: ",
          () => setTimeout(() => socket.resetAndDestroy(), 20),
        );
      }));
      // Reset in the middle of the body.
      jobs.push(nodeClient(port, (socket) => {
        socket.write(
          "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" +
            "x".repeat(5000),
          () => setTimeout(() => socket.resetAndDestroy(), 20),
        );
      }));
      // Reset in the middle of an 8 MiB response, and of a streamed one.
      for (const path of ["/big", "/stream"]) {
        jobs.push(nodeClient(port, (socket, received) => {
          socket.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
          const check = setInterval(() => {
            if (received() > 100_000) {
              clearInterval(check);
              socket.resetAndDestroy();
            }
          }, 5);
          socket.on("close", () => clearInterval(check));
        }));
      }
    }
    await Promise.all(jobs);
    assert.ok(
      await waitUntil(() => openFds() <= serverFds, 10_000),
      `descriptors after resets: ${openFds()} open, ${serverFds} idle`,
    );
    // Readers that ask for 64 MiB and stop reading (a Deno.Conn reads only
    // when asked): writeTimeout cuts them off, so the server's connection
    // tasklets end while our sockets stay open.
    const stalled: Deno.Conn[] = [];
    for (let i = 0; i < 10; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encoder.encode("GET /huge HTTP/1.1\r\nHost: h\r\n\r\n"));
      stalled.push(conn);
    }
    assert.ok(
      await waitUntil(() => Tasklet.aliveCount <= taskletsIdle, 10_000),
      "the server cut off readers that stopped reading",
    );
    for (const conn of stalled) {
      let received = 0;
      const buf = new Uint8Array(1 << 20);
      try {
        for (let n; (n = await conn.read(buf)) !== null;) received += n;
      } catch (error) {
        if (!isReset(error)) throw error;
      }
      conn.close();
      assert.ok(received < HUGE, `got all ${received} bytes`);
    }
    // Every server-side socket is closed again: no connection lingers.
    assert.ok(
      await waitUntil(() => openFds() <= serverFds, 10_000),
      `descriptors: ${openFds()} open, ${serverFds} with an idle server`,
    );
    assert.ok(
      await waitUntil(() => Tasklet.aliveCount <= taskletsIdle, 5_000),
      `tasklets: ${Tasklet.aliveCount} alive, ${taskletsIdle} with an idle server`,
    );
    const ok = await exchangeRaw(
      port,
      encoder.encode("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
      5_000,
    );
    assert.equal(responsesOf(ok.data)[0]?.status, 200, "still serving");
  } finally {
    // With every connection gone, shutdown has nothing to wait for.
    const started = performance.now();
    await server.shutdown();
    assert.ok(
      performance.now() - started < 2_000,
      "shutdown waited for a stuck connection",
    );
  }
  assert.deepEqual(errors, [], "client failures are not server errors");
  assert.ok(
    await waitUntil(() => openFds() <= fdsBefore, 5_000),
    "descriptors back to the start",
  );
  assert.equal(pendingTimerCount(), timersBefore, "no coio timer left behind");
  // The accept loop's tasklet ends right after `finished` resolves.
  assert.ok(
    await waitUntil(() => Tasklet.aliveCount === taskletsBefore, 1_000),
    `${Tasklet.aliveCount - taskletsBefore} tasklets left behind`,
  );
});
