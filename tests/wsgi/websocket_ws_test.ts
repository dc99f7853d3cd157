// Our server against an independent client: npm:ws (the WebSocket library
// most of Node's ecosystem uses), with and without permessage-deflate.

import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
// An independent, unmodified third-party client is the point of this test.
// deno-lint-ignore no-import-prefix
import WebSocket from "npm:ws@8.18.3";
import { echoServer } from "./_ws_helpers.ts";

type Received = { data: Buffer; binary: boolean };

/** An npm:ws client with a queue of received messages. */
class Client {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #messages: Received[] = [];
  #waiting: ((m: Received) => void)[] = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once("close", (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
      });
    });
    this.ws.on("message", (data: Buffer, binary: boolean) => {
      const message = { data, binary };
      const waiter = this.#waiting.shift();
      if (waiter) waiter(message);
      else this.#messages.push(message);
    });
  }

  next(): Promise<Received> {
    const message = this.#messages.shift();
    if (message) return Promise.resolve(message);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  send(
    data: string | Uint8Array,
    options: { fin?: boolean; compress?: boolean } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ws.send(
        data,
        options,
        (error?: Error) => error ? reject(error) : resolve(),
      )
    );
  }
}

function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

Deno.test("npm:ws: text and binary round trips, our close code reaches it", async () => {
  const { server, port, next } = echoServer();
  const client = new Client(`ws://127.0.0.1:${port}/`);
  await client.opened;
  await client.send("hello");
  let got = await client.next();
  assert.equal(got.binary, false);
  assert.equal(got.data.toString(), "hello");
  await client.send("ünïcödé ✓ 🎉");
  assert.equal((await client.next()).data.toString(), "ünïcödé ✓ 🎉");
  await client.send(new Uint8Array([0, 1, 2, 255]));
  got = await client.next();
  assert.equal(got.binary, true);
  assert.deepEqual(new Uint8Array(got.data), new Uint8Array([0, 1, 2, 255]));
  await client.send("");
  assert.equal((await client.next()).data.length, 0);
  client.ws.close(4000, "client bye");
  assert.deepEqual(await client.closed, { code: 4000, reason: "client bye" });
  const ended = await next();
  assert.equal(ended.closeCode, 4000);
  assert.equal(ended.closeReason, "client bye");
  await server.shutdown();
});

Deno.test("npm:ws: the server's close(code, reason) is what the client sees", async () => {
  const { server, port, next } = echoServer({}, async (ws) => {
    const first = await ws.receive();
    await ws.send(`bye after ${first}`);
    await ws.close(4001, "server bye");
  });
  const client = new Client(`ws://127.0.0.1:${port}/`);
  await client.opened;
  await client.send("one");
  assert.equal((await client.next()).data.toString(), "bye after one");
  assert.deepEqual(await client.closed, { code: 4001, reason: "server bye" });
  assert.equal((await next()).closeCode, 4001);
  await server.shutdown();
});

Deno.test("npm:ws: fragmented messages are joined", async () => {
  const { server, port, next } = echoServer();
  const client = new Client(`ws://127.0.0.1:${port}/`);
  await client.opened;
  await client.send("frag", { fin: false });
  await client.send("men", { fin: false });
  await client.send("ted", { fin: true });
  assert.equal((await client.next()).data.toString(), "fragmented");
  const part = pattern(70_000);
  await client.send(part.subarray(0, 30_000), { fin: false });
  await client.send(part.subarray(30_000), { fin: true });
  assert.deepEqual(new Uint8Array((await client.next()).data), part);
  client.ws.close(1000);
  await client.closed;
  assert.deepEqual((await next()).received.map((m) => m.length), [10, 70_000]);
  await server.shutdown();
});

Deno.test("npm:ws: a 10 MB binary and a 10 MB text message", async () => {
  const { server, port, next } = echoServer();
  const client = new Client(`ws://127.0.0.1:${port}/`);
  await client.opened;
  const big = pattern(10 * 1024 * 1024, 7);
  await client.send(big);
  const echo = await client.next();
  assert.equal(echo.data.length, big.length);
  assert.ok(new Uint8Array(echo.data).every((b, i) => b === big[i]));
  const text = "0123456789abcdef".repeat(10 * 1024 * 1024 / 16);
  await client.send(text);
  assert.equal((await client.next()).data.toString(), text);
  client.ws.close(1000);
  await client.closed;
  await next();
  await server.shutdown();
});

Deno.test("npm:ws: a message over maxMessageSize closes with 1009", async () => {
  const { server, port, next } = echoServer({ maxMessageSize: 1024 });
  const client = new Client(`ws://127.0.0.1:${port}/`);
  await client.opened;
  await client.send(new Uint8Array(1024));
  assert.equal((await client.next()).data.length, 1024);
  await client.send(new Uint8Array(1025));
  assert.equal((await client.closed).code, 1009);
  assert.equal((await next()).closeCode, 1009);
  await server.shutdown();
});

for (
  const [name, deflate, agreed] of [
    [
      "context takeover",
      { threshold: 0 },
      "permessage-deflate",
    ],
    [
      "no context takeover on either side",
      {
        threshold: 0,
        clientNoContextTakeover: true,
        serverNoContextTakeover: true,
      },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    ],
    [
      "window bits 9 and 10",
      { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
      "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
    ],
  ] as const
) {
  Deno.test(`npm:ws: permessage-deflate with ${name}`, async () => {
    const { server, port, next } = echoServer();
    const client = new Client(`ws://127.0.0.1:${port}/`, {
      perMessageDeflate: deflate,
    });
    await client.opened;
    assert.equal(client.ws.extensions, "permessage-deflate");
    // Repetitive messages, one after another: with context takeover the
    // later ones refer back to the earlier ones.
    const messages = [
      "abc".repeat(1000),
      "abc".repeat(1000) + "d",
      "",
      "x",
      "ünïcödé ✓ ".repeat(50),
    ];
    for (const m of messages) {
      await client.send(m, { compress: true });
      assert.equal((await client.next()).data.toString(), m);
    }
    const binary = pattern(300_000, 3);
    await client.send(binary, { compress: true });
    assert.deepEqual(new Uint8Array((await client.next()).data), binary);
    // Fragmented and compressed.
    await client.send("part one, ", { fin: false, compress: true });
    await client.send("part two", { fin: true, compress: true });
    assert.equal((await client.next()).data.toString(), "part one, part two");
    client.ws.close(1000);
    await client.closed;
    const ended = await next();
    assert.equal(ended.closeCode, 1000);
    assert.equal(ended.extensions, agreed);
    assert.equal(ended.received.length, messages.length + 2);
    await server.shutdown();
  });
}

Deno.test("npm:ws: maxMessageSize counts the decompressed size", async () => {
  const { server, port, next } = echoServer({ maxMessageSize: 10_000 });
  const client = new Client(`ws://127.0.0.1:${port}/`, {
    perMessageDeflate: { threshold: 0 },
  });
  await client.opened;
  // Exactly the limit, incompressible: accepted.
  const exact = pattern(10_000, 5);
  await client.send(exact, { compress: true });
  assert.deepEqual(new Uint8Array((await client.next()).data), exact);
  // Tiny on the wire, 1 MB inflated: refused.
  await client.send(new Uint8Array(1024 * 1024), { compress: true });
  assert.equal((await client.closed).code, 1009);
  assert.equal((await next()).closeCode, 1009);
  await server.shutdown();
});
