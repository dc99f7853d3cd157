// How long a WebSocket lives: past the app's return (as with
// Deno.upgradeWebSocket), until either side closes it or the server shuts
// down, which closes it with 1001 ("going away").

import assert from "node:assert/strict";
import { Channel, Event, socketpair, spawn } from "../../coio/mod.ts";
import {
  connectWebSocket,
  serve,
  SHUTDOWN_KEY,
  upgradeWebSocket,
  WebSocketConnection,
} from "../../wsgi/mod.ts";

/** Deno's WebSocket client: its messages and its close event. */
function denoClient(url: string) {
  const ws = new WebSocket(url);
  const messages = new Channel<string>({ capacity: 100 });
  ws.onmessage = (event) => messages.trySend(event.data);
  return {
    ws,
    messages,
    opened: new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("connect failed"));
    }),
    closed: new Promise<CloseEvent>((resolve) => ws.onclose = resolve),
  };
}

Deno.test("server shutdown closes an open WebSocket with 1001; the app's loop ends and shutdown resolves", async () => {
  const appDone = new Event();
  let seen: WebSocketConnection | undefined;
  const server = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ);
    seen = ws;
    for await (const message of ws) await ws.send(message);
    appDone.set();
  }, { hostname: "127.0.0.1", port: 0 });
  const client = denoClient(`ws://127.0.0.1:${server.addr.port}/`);
  await client.opened;
  client.ws.send("before");
  assert.equal(await client.messages.receive(), "before");
  await server.shutdown();
  // shutdown() waited for the app, whose loop the close ended.
  assert.equal(appDone.isSet, true);
  const event = await client.closed;
  assert.equal(event.code, 1001);
  assert.equal(event.reason, "going away");
  assert.equal(event.wasClean, true);
  assert.equal(seen!.closeCode, 1001);
  assert.equal(seen!.closed, true);
});

Deno.test("a WebSocket outlives the app that upgraded it: other tasklets use it after the app returned", async () => {
  const handed = new Channel<WebSocketConnection>({ capacity: 1 });
  const appReturned = new Event();
  const server = serve(async (environ) => {
    // Hand the connection over, then return at once.
    handed.trySend(await upgradeWebSocket(environ));
    appReturned.set();
  }, { hostname: "127.0.0.1", port: 0 });
  const client = denoClient(`ws://127.0.0.1:${server.addr.port}/`);
  await client.opened;
  const ws = await handed.receive();
  await appReturned.wait();
  const echo = spawn(async () => {
    for await (const message of ws) await ws.send(`echo ${message}`);
  });
  for (const text of ["one", "two", "three"]) {
    client.ws.send(text);
    assert.equal(await client.messages.receive(), `echo ${text}`);
  }
  client.ws.close(3003, "client done");
  const event = await client.closed;
  assert.equal(event.code, 3003);
  await echo.join();
  assert.equal(ws.closeCode, 3003);
  assert.equal(ws.closeReason, "client done");
  await server.shutdown();
});

Deno.test("a WebSocket left open by an app that returned is closed with 1001 at shutdown", async () => {
  const upgraded = new Channel<WebSocketConnection>({ capacity: 1 });
  const server = serve(async (environ) => {
    // Sends a greeting and returns without closing the connection.
    const ws = await upgradeWebSocket(environ);
    await ws.send("hello");
    upgraded.trySend(ws); // only for the test's checks
  }, { hostname: "127.0.0.1", port: 0 });
  const client = await connectWebSocket(
    `ws://127.0.0.1:${server.addr.port}/`,
  );
  assert.equal(await client.receive(), "hello");
  const ws = await upgraded.receive();
  // Still open after the app returned: a ping is answered.
  await client.ping("still there?");
  assert.equal(ws.closed, false);
  await server.shutdown();
  assert.equal(await client.receive(), null);
  assert.equal(client.closeCode, 1001);
  assert.equal(client.closeReason, "going away");
  assert.equal(await ws.receive(), null);
  assert.equal(ws.closeCode, 1001);
});

Deno.test("environ[SHUTDOWN_KEY] is the server's shutdown signal, aborted when the shutdown starts", async () => {
  const signals = new Channel<AbortSignal>({ capacity: 1 });
  const server = serve((environ, startResponse) => {
    signals.trySend(environ[SHUTDOWN_KEY] as AbortSignal);
    startResponse("204 No Content", []);
    return "";
  }, { hostname: "127.0.0.1", port: 0 });
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
  await response.body?.cancel();
  const signal = await signals.receive();
  assert.ok(signal instanceof AbortSignal);
  assert.equal(signal.aborted, false);
  const done = server.shutdown();
  assert.equal(signal.aborted, true);
  await done;
});

Deno.test("shutdownSignal on a WebSocketConnection: aborting it closes with 1001; a bad one is a TypeError", async () => {
  const [a, b] = await socketpair();
  const controller = new AbortController();
  const server = new WebSocketConnection({ socket: a, isServer: true }, {
    shutdownSignal: controller.signal,
  });
  const client = new WebSocketConnection({ socket: b, isServer: false });
  await client.send("first");
  assert.equal(await server.receive(), "first");
  const reading = server.receive();
  controller.abort();
  assert.equal(await client.receive(), null);
  assert.equal(client.closeCode, 1001);
  assert.equal(await reading, null);
  assert.equal(server.closeCode, 1001);

  // An already aborted signal closes at once.
  const [c, d] = await socketpair();
  const early = new WebSocketConnection({ socket: c, isServer: true }, {
    shutdownSignal: AbortSignal.abort(),
  });
  const peer = new WebSocketConnection({ socket: d, isServer: false });
  assert.equal(await peer.receive(), null);
  assert.equal(peer.closeCode, 1001);
  assert.equal(await early.receive(), null);

  const [e, f] = await socketpair();
  assert.throws(
    () =>
      new WebSocketConnection({ socket: e, isServer: true }, {
        shutdownSignal: "soon" as unknown as AbortSignal,
      }),
    TypeError,
  );
  e.close();
  f.close();
});
