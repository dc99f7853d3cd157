// WebSocketConnection's own behaviour, both ends ours over a socket pair:
// ping/pong, answers while the app is away from receive(), idle timeout,
// close timeout, back-pressure, cancellation and bad arguments.

import assert from "node:assert/strict";
import {
  Event,
  sleep,
  socketpair,
  spawn,
  TimeoutError,
  withTimeout,
} from "../../coio/mod.ts";
import { WebSocketClosedError, WebSocketConnection } from "../../wsgi/mod.ts";
import { clientFrame, connectionPair, RawWebSocket } from "./_ws_helpers.ts";

Deno.test("ping() resolves on the pong, also when the peer's app never calls receive()", async () => {
  const [server, client] = await connectionPair();
  // Nobody on the server calls receive(): its watcher answers the ping.
  await client.ping("hello?");
  await server.ping(new Uint8Array([1, 2]));
  await assert.rejects(client.ping("x".repeat(126)), RangeError);
  await Promise.all([client.close(), server.receive()]);
  assert.equal(server.closeCode, 1000);
  await assert.rejects(client.ping(), WebSocketClosedError);
});

Deno.test("a push-only app sees the peer's close: send() then fails with WebSocketClosedError", async () => {
  const [server, client] = await connectionPair();
  const pushing = spawn(async () => {
    for (let i = 0;; i++) {
      await server.send(`tick ${i}`);
      await sleep(5);
    }
  });
  assert.equal(await client.receive(), "tick 0");
  await client.close(4005, "enough");
  await assert.rejects(pushing.join(), WebSocketClosedError);
  assert.equal(server.closed, true);
  assert.equal(server.closeCode, 4005);
  assert.equal(server.closeReason, "enough");
});

Deno.test("idleTimeout pings a silent peer and closes with 1001 when it stays silent", async () => {
  const [a, b] = await socketpair();
  const server = new WebSocketConnection({ socket: a, isServer: true }, {
    idleTimeout: 50,
  });
  // The peer is a bare socket that never answers.
  const start = performance.now();
  assert.equal(await server.receive(), null);
  const elapsed = performance.now() - start;
  assert.equal(server.closeCode, 1001);
  assert.equal(server.closeReason, "ping timeout");
  assert.ok(elapsed >= 90 && elapsed < 5000, `${elapsed} ms`);
  // What the peer got: a ping, then a close frame with 1001.
  const file = b.makefile();
  const ping = await file.read(2);
  assert.deepEqual([...ping], [0x89, 0x00]);
  const close = await file.read(2 + 2 + "ping timeout".length);
  assert.deepEqual([...close.subarray(0, 4)], [0x88, 14, 0x03, 0xe9]);
  assert.equal(new TextDecoder().decode(close.subarray(4)), "ping timeout");
  b.close();
});

Deno.test("idleTimeout keeps a connection whose peer answers the pings", async () => {
  const [server, client] = await connectionPair({ idleTimeout: 300 });
  const receiving = spawn(() => server.receive());
  // Several idle periods: the client app never reads, its watcher answers.
  await sleep(1000);
  assert.equal(server.closed, false);
  await client.send("still here");
  assert.equal(await receiving.join(), "still here");
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("close() gives up after closeTimeout when the peer never answers", async () => {
  const [a, b] = await socketpair();
  const server = new WebSocketConnection({ socket: a, isServer: true }, {
    closeTimeout: 50,
  });
  const start = performance.now();
  await server.close(1000);
  assert.ok(performance.now() - start < 5000);
  assert.equal(server.closed, true);
  assert.equal(server.closeCode, 1006);
  b.close();
});

Deno.test("send() resolves once the frame is handed to the socket: a reader that stops slows the sender", async () => {
  const [server, client] = await connectionPair();
  const chunk = new Uint8Array(1 << 20);
  let sent = 0;
  const sender = spawn(async () => {
    for (let i = 0; i < 64; i++) {
      await server.send(chunk);
      sent++;
    }
  });
  await sleep(200);
  // 64 MiB cannot all be in the socket buffers: the sender is waiting.
  assert.ok(sent < 64, `sent ${sent}`);
  for (let i = 0; i < 64; i++) {
    assert.equal((await client.receive() as Uint8Array).length, 1 << 20);
  }
  await sender.join();
  assert.equal(sent, 64);
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("a receive() killed or timed out loses nothing, and two receivers share the messages", async () => {
  const [server, client] = await connectionPair();
  await assert.rejects(
    withTimeout(20, () => server.receive()),
    TimeoutError,
  );
  const killed = spawn(() => server.receive());
  await sleep(5);
  killed.kill();
  await killed.join().catch(() => {});
  const first = spawn(() => server.receive());
  const second = spawn(() => server.receive());
  await client.send("a");
  await client.send("b");
  const got = [await first.join(), await second.join()].sort();
  assert.deepEqual(got, ["a", "b"]);
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("messages are delivered in order when the watcher read one for an app that came back", async () => {
  const [server, client] = await connectionPair();
  await client.send("one");
  await client.send("two");
  await sleep(400); // the server's watcher takes over reading meanwhile
  assert.equal(await server.receive(), "one");
  assert.equal(await server.receive(), "two");
  await client.send("three");
  assert.equal(await server.receive(), "three");
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("bad arguments: typed errors", async () => {
  const [server, client] = await connectionPair();
  // deno-lint-ignore no-explicit-any
  await assert.rejects(server.send(42 as any), TypeError);
  await assert.rejects(server.close(1005), RangeError);
  await assert.rejects(server.close(1000, "x".repeat(124)), RangeError);
  await assert.rejects(server.close(2999), RangeError);
  const [a, b] = await socketpair();
  assert.throws(
    () =>
      new WebSocketConnection({ socket: a, isServer: true }, {
        closeTimeout: -1,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      new WebSocketConnection({
        socket: a,
        isServer: true,
        extensions: "x-unknown",
      }),
    TypeError,
  );
  a.close();
  b.close();
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("await using closes the connection", async () => {
  const [server, client] = await connectionPair();
  const done = new Event();
  const user = spawn(async () => {
    await using ws = server;
    await ws.send("hi");
    await done.wait();
  });
  assert.equal(await client.receive(), "hi");
  done.set();
  assert.equal(await client.receive(), null);
  assert.equal(client.closeCode, 1000);
  await user.join();
  assert.equal(server.closed, true);
});

Deno.test("a client frame without a mask from a raw peer, over our server, after a good message", async () => {
  // Covered for many cases in websocket_frames_test.ts; here the connection
  // object's view of it: receive() returns null, closeCode says why.
  const { serve, upgradeWebSocket } = await import("../../wsgi/mod.ts");
  const seen = Promise.withResolvers<[unknown, unknown, number | undefined]>();
  const server = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ);
    const first = await ws.receive();
    const second = await ws.receive();
    seen.resolve([first, second, ws.closeCode]);
  }, { hostname: "127.0.0.1", port: 0 });
  const { ws } = await RawWebSocket.open(server.addr.port!);
  await ws.send(clientFrame(0x1, "ok"));
  await ws.send(clientFrame(0x1, "bad", { mask: false }));
  assert.equal((await ws.readClose()).code, 1002);
  ws.close();
  assert.deepEqual(await seen.promise, ["ok", null, 1002]);
  await server.shutdown();
});
