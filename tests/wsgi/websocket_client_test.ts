// Both ends against independent peers: Deno's built-in WebSocket client
// against our server, and our connectWebSocket client against our server
// and against Deno.upgradeWebSocket on Deno.serve.

import assert from "node:assert/strict";
import {
  connectWebSocket,
  serve,
  upgradeWebSocket,
  WebSocketClosedError,
  WebSocketHandshakeError,
} from "../../wsgi/mod.ts";
import { sleep, TimeoutError, withTimeout } from "../../coio/mod.ts";
import { testCertificate } from "../coio/_io_fixtures.ts";
import { echoServer } from "./_ws_helpers.ts";

/** Deno's WebSocket with a queue of received messages. */
function denoClient(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const messages: (string | ArrayBuffer)[] = [];
  const waiting: ((m: string | ArrayBuffer) => void)[] = [];
  ws.onmessage = (event) => {
    const waiter = waiting.shift();
    if (waiter) waiter(event.data);
    else messages.push(event.data);
  };
  return {
    ws,
    opened: new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("connect failed"));
    }),
    closed: new Promise<CloseEvent>((resolve) => ws.onclose = resolve),
    next: () =>
      messages.length > 0
        ? Promise.resolve(messages.shift()!)
        : new Promise<string | ArrayBuffer>((resolve) => waiting.push(resolve)),
  };
}

Deno.test("Deno's WebSocket client: text, binary, subprotocol, close codes", async () => {
  const { server, port, next } = echoServer({ protocol: "chat" });
  const client = denoClient(`ws://127.0.0.1:${port}/`, ["other", "chat"]);
  await client.opened;
  assert.equal(client.ws.protocol, "chat");
  client.ws.send("hello from Deno");
  assert.equal(await client.next(), "hello from Deno");
  client.ws.send(new Uint8Array([9, 8, 7]));
  assert.deepEqual(
    new Uint8Array(await client.next() as ArrayBuffer),
    new Uint8Array([9, 8, 7]),
  );
  const big = "z".repeat(1 << 20);
  client.ws.send(big);
  assert.equal(await client.next(), big);
  client.ws.close(3001, "deno bye");
  const event = await client.closed;
  assert.equal(event.code, 3001);
  assert.equal(event.reason, "deno bye");
  assert.equal(event.wasClean, true);
  const ended = await next();
  assert.equal(ended.closeCode, 3001);
  assert.equal(ended.closeReason, "deno bye");
  await server.shutdown();
});

Deno.test("Deno's WebSocket client sees our server's close code and reason", async () => {
  const { server, port } = echoServer({}, async (ws) => {
    await ws.send("bye soon");
    await ws.close(4002, "going");
  });
  const client = denoClient(`ws://127.0.0.1:${port}/`);
  await client.opened;
  assert.equal(await client.next(), "bye soon");
  const event = await client.closed;
  assert.equal(event.code, 4002);
  assert.equal(event.reason, "going");
  assert.equal(event.wasClean, true);
  await server.shutdown();
});

Deno.test("connectWebSocket against our server: messages, ping, compression, close", async () => {
  const { server, port, next } = echoServer();
  const ws = await connectWebSocket(`ws://127.0.0.1:${port}/path?x=1`);
  assert.equal(ws.extensions, "permessage-deflate");
  await ws.send("one");
  assert.equal(await ws.receive(), "one");
  await ws.send(new Uint8Array([1, 2, 3]));
  assert.deepEqual(await ws.receive(), new Uint8Array([1, 2, 3]));
  const text = "repeat ".repeat(10_000);
  await ws.send(text);
  assert.equal(await ws.receive(), text);
  await ws.ping("are you there");
  await ws.close(1000, "done");
  assert.equal(ws.closed, true);
  assert.equal(ws.closeCode, 1000);
  assert.equal(ws.closeReason, "done");
  assert.equal(await ws.receive(), null);
  await assert.rejects(ws.send("late"), WebSocketClosedError);
  const ended = await next();
  assert.equal(ended.closeCode, 1000);
  assert.deepEqual(ended.received.length, 3);
  await server.shutdown();
});

Deno.test("connectWebSocket against Deno.upgradeWebSocket on Deno.serve", async () => {
  const closes: { code: number; reason: string }[] = [];
  const closed = Promise.withResolvers<void>();
  const deno = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request, {
        protocol: "echo",
      });
      socket.onmessage = (event) => socket.send(event.data);
      socket.onclose = (event) => {
        closes.push({ code: event.code, reason: event.reason });
        closed.resolve();
      };
      return response;
    },
  );
  const ws = await connectWebSocket(`ws://127.0.0.1:${deno.addr.port}/`, {
    protocols: ["echo"],
  });
  assert.equal(ws.protocol, "echo");
  for (const size of [0, 10, 200, 70_000, 2_000_000]) {
    const text = "é".repeat(size);
    await ws.send(text);
    assert.equal(await ws.receive(), text, `size ${size}`);
  }
  const binary = crypto.getRandomValues(new Uint8Array(65536));
  await ws.send(binary);
  assert.deepEqual(await ws.receive(), binary);
  await ws.ping();
  await ws.close(4003, "from coio");
  assert.equal(ws.closeCode, 4003);
  await closed.promise;
  assert.deepEqual(closes, [{ code: 4003, reason: "from coio" }]);
  await deno.shutdown();
});

Deno.test("connectWebSocket: the peer's close ends receive() with its code", async () => {
  const deno = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onopen = () => {
        socket.send("last words");
        socket.close(4004, "server closes");
      };
      return response;
    },
  );
  const ws = await connectWebSocket(`ws://127.0.0.1:${deno.addr.port}/`);
  const got: unknown[] = [];
  for await (const message of ws) got.push(message);
  assert.deepEqual(got, ["last words"]);
  assert.equal(ws.closeCode, 4004);
  assert.equal(ws.closeReason, "server closes");
  await deno.shutdown();
});

Deno.test("connectWebSocket: refusals and bad URLs are typed errors", async () => {
  const server = serve((_environ, startResponse) => {
    startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
    return "no";
  }, { hostname: "127.0.0.1", port: 0 });
  await assert.rejects(
    connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`),
    (error: unknown) =>
      error instanceof WebSocketHandshakeError && error.status === 404,
  );
  await server.shutdown();
  await assert.rejects(connectWebSocket("http://127.0.0.1:1/"), TypeError);
  await assert.rejects(connectWebSocket("ws://127.0.0.1:1/#frag"), TypeError);
  await assert.rejects(
    connectWebSocket("ws://127.0.0.1:1/", { protocols: ["bad name"] }),
    TypeError,
  );
  await assert.rejects(
    connectWebSocket("ws://127.0.0.1:1/", { maxMessageSize: -5 }),
    RangeError,
  );
});

Deno.test("connectWebSocket: timeout and abort signal bound the handshake", async () => {
  // A server that accepts and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const acceptLoop = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const url = `ws://127.0.0.1:${listener.addr.port}/`;
  const start = performance.now();
  await assert.rejects(connectWebSocket(url, { timeout: 100 }), TimeoutError);
  assert.ok(performance.now() - start < 5000);
  const controller = new AbortController();
  const pending = connectWebSocket(url, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("stop")), 50);
  await assert.rejects(pending, /stop/);
  // A timeout scope around it works the same.
  await assert.rejects(
    withTimeout(100, () => connectWebSocket(url)),
    TimeoutError,
  );
  listener.close();
  await acceptLoop;
  for (const conn of accepted) conn.close();
});

Deno.test("our client and server without compression: receives given up midway lose nothing", async () => {
  const server = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ, { compression: false });
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) await sleep(5); // some receives time out meanwhile
      await ws.send(`m${i}`);
    }
    for await (const _ of ws) { /* until the client closes */ }
  }, { hostname: "127.0.0.1", port: 0 });
  const ws = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, {
    compression: false,
  });
  assert.equal(ws.extensions, "");
  const got: unknown[] = [];
  let timeouts = 0;
  while (got.length < 50) {
    // Some receives are given up; the messages must still all arrive, in order.
    try {
      await withTimeout(1, async () => got.push(await ws.receive()));
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      timeouts++;
    }
  }
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `m${i}`));
  assert.ok(timeouts > 0);
  await ws.close();
  await server.shutdown();
});

Deno.test("wss: connectWebSocket to our server over TLS, short and long, text and binary", async () => {
  const certificate = await testCertificate();
  if (certificate === undefined) {
    console.log("SKIP: openssl is not installed");
    return;
  }
  const tls = { cert: certificate.cert, key: certificate.key };
  const server = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ);
    for await (const message of ws) await ws.send(message);
  }, { hostname: "127.0.0.1", port: 0, tls });
  try {
    const ws = await connectWebSocket(
      `wss://localhost:${server.addr.port}/`,
      { caCerts: [certificate.caCert] },
    );
    const big = new Uint8Array(300_000).map((_, i) => (i * 13) & 255);
    const messages = ["hi", "x".repeat(125), "héllo ✓", big, "after"];
    for (const message of messages) {
      await ws.send(message);
      assert.deepEqual(await ws.receive(), message);
    }
    await ws.close(1000, "done");
    assert.equal(ws.closeCode, 1000);
  } finally {
    await server.shutdown();
  }
});
