// receive()'s hot path: a receiver that waits with nothing buffered has the
// frame parsed in the read's own callback. What arrives there that is not a
// whole data frame (a ping, a frame split across reads, a fragment, a bad
// frame) must be handled as before, and cancelling that wait in any way must
// leave the connection readable. Short text is framed and unframed without
// the UTF-8 codecs while it stays ASCII: every length around the limits, and
// text that is not ASCII, must come through intact in both directions.

import assert from "node:assert/strict";
import {
  current,
  Event,
  sleep,
  spawn,
  TimeoutError,
  withTimeout,
} from "../../coio/mod.ts";
import {
  BINARY,
  clientFrame,
  CLOSE,
  closeBody,
  connectionPair,
  CONT,
  echoServer,
  payloadText,
  PING,
  PONG,
  RawWebSocket,
  TEXT,
} from "./_ws_helpers.ts";

Deno.test("frames that reach a waiting receive() one by one: a ping, a split frame, fragments, then messages", async () => {
  const { server, port, next } = echoServer();
  const { ws } = await RawWebSocket.open(port);
  try {
    // Each write reaches a server that waits with nothing buffered.
    await ws.send(clientFrame(PING, "are you there"));
    const pong = await ws.readFrame();
    assert.equal(pong?.opcode, PONG);
    assert.equal(payloadText(pong), "are you there");

    const split = clientFrame(TEXT, "split across reads");
    await ws.send(split.subarray(0, 1));
    await sleep(10); // lets the server read the first byte alone
    await ws.send(split.subarray(1, 5));
    await sleep(10);
    await ws.send(split.subarray(5));
    assert.equal(payloadText(await ws.readFrame()), "split across reads");

    await ws.send(clientFrame(TEXT, "frag", { fin: false }));
    await sleep(10);
    await ws.send(clientFrame(CONT, "ment", { fin: false }));
    await sleep(10);
    await ws.send(clientFrame(PING, "mid"));
    assert.equal(payloadText(await ws.readFrame()), "mid");
    await ws.send(clientFrame(CONT, "ed"));
    assert.equal(payloadText(await ws.readFrame()), "fragmented");

    const bytes = new Uint8Array(300).map((_, i) => i & 255);
    await ws.send(clientFrame(BINARY, bytes));
    assert.deepEqual((await ws.readFrame())?.payload, bytes);

    await ws.send(clientFrame(CLOSE, closeBody(1000, "bye")));
    const close = await ws.readClose();
    assert.equal(close.code, 1000);
    assert.equal(close.reason, "bye");
  } finally {
    ws.close();
  }
  const ended = await next();
  assert.equal(ended.closeCode, 1000);
  assert.deepEqual(ended.received.slice(0, 2), [
    "split across reads",
    "fragmented",
  ]);
  await server.shutdown();
});

Deno.test("bad frames that reach a waiting receive() close with their code", async () => {
  const cases: [string, Uint8Array, number][] = [
    [
      "invalid UTF-8 in short text",
      clientFrame(TEXT, new Uint8Array([0x68, 0xc3])),
      1007,
    ],
    ["a lone continuation", clientFrame(CONT, "x"), 1002],
    ["an unmasked frame", clientFrame(TEXT, "x", { mask: false }), 1002],
    ["reserved bits", clientFrame(TEXT, "x", { rsv: 0x20 }), 1002],
  ];
  for (const [name, frame, code] of cases) {
    const { server, port, next } = echoServer();
    const { ws } = await RawWebSocket.open(port);
    try {
      await ws.send(clientFrame(TEXT, "first"));
      assert.equal(payloadText(await ws.readFrame()), "first", name);
      await ws.send(frame);
      const close = await ws.readClose();
      assert.equal(close.code, code, name);
    } finally {
      ws.close();
    }
    assert.equal((await next()).closeCode, code, name);
    await server.shutdown();
  }
});

Deno.test("short text of every length near the limits, ASCII or not, both directions", async () => {
  const [server, client] = await connectionPair();
  const texts: string[] = [];
  const ascii = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(4);
  for (let n = 0; n <= 131; n++) texts.push(ascii.slice(0, n));
  for (const n of [1, 2, 3, 4, 5, 62, 63, 64, 65, 124, 125, 126]) {
    texts.push("é".repeat(n)); // 2 bytes each: the byte length doubles
    texts.push("x".repeat(n - 1) + "\u{1F389}");
    texts.push("\x7f".repeat(n)); // the highest ASCII code
  }
  const echo = spawn(async () => {
    for (let i = 0; i < texts.length; i++) {
      await server.send(await server.receive() as string);
    }
  });
  for (const text of texts) {
    await client.send(text);
    assert.equal(await client.receive(), text, `length ${text.length}`);
  }
  await echo.join();
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("a receive() whose hot-path wait is cancelled leaves the connection readable", async () => {
  const [server, client] = await connectionPair();
  // A receive() left stuck by a cancelled one fails here instead of hanging.
  const receive = () => withTimeout(5000, () => server.receive());
  // Timed out while waiting with nothing buffered.
  await assert.rejects(withTimeout(10, () => server.receive()), TimeoutError);
  await client.send("one");
  assert.equal(await receive(), "one");

  // Failed at once: an error raised at the tasklet before it waits.
  const raised = new Error("raised before the wait");
  const go = new Event();
  const early = spawn(async () => {
    await go.wait();
    current().raise(raised); // pending: the next wait fails with it
    return await server.receive();
  });
  go.set();
  await assert.rejects(early.join(), (error) => error === raised);
  await client.send("two");
  assert.equal(await receive(), "two");

  // Killed while waiting, then the message comes.
  const killed = spawn(() => server.receive());
  await sleep(5);
  killed.kill();
  await killed.join().catch(() => {});
  await client.send("three");
  assert.equal(await receive(), "three");

  // for await goes through the same path.
  await client.send("four");
  for await (const message of server) {
    assert.equal(message, "four");
    break;
  }
  await Promise.all([client.close(), server.receive()]);
});

Deno.test("messages that arrive together are taken from the buffer one by one, in order, with what follows them", async () => {
  const { server, port, next } = echoServer({ maxMessageSize: 200 });
  const { ws } = await RawWebSocket.open(port);
  const bytes = new Uint8Array(300).map((_, i) => i & 255);
  try {
    // One write: short text (ASCII or not), a ping, binary with a 16-bit
    // length, a fragmented message, then a message over maxMessageSize.
    const frames = [
      clientFrame(TEXT, "one"),
      clientFrame(TEXT, "two, a little longer"),
      clientFrame(TEXT, "drei é"),
      clientFrame(PING, "p"),
      clientFrame(TEXT, ""),
      clientFrame(BINARY, bytes.subarray(0, 150)),
      clientFrame(TEXT, "frag", { fin: false }),
      clientFrame(CONT, "ment"),
      clientFrame(TEXT, "x".repeat(125)),
      clientFrame(TEXT, "y".repeat(201)),
    ];
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const frame of frames) {
      all.set(frame, at);
      at += frame.length;
    }
    await ws.send(all);
    assert.equal(payloadText(await ws.readFrame()), "one");
    assert.equal(payloadText(await ws.readFrame()), "two, a little longer");
    assert.equal(payloadText(await ws.readFrame()), "drei é");
    const pong = await ws.readFrame();
    assert.equal(pong?.opcode, PONG);
    assert.equal(payloadText(pong), "p");
    assert.equal(payloadText(await ws.readFrame()), "");
    assert.deepEqual((await ws.readFrame())?.payload, bytes.subarray(0, 150));
    assert.equal(payloadText(await ws.readFrame()), "fragment");
    assert.equal(payloadText(await ws.readFrame()), "x".repeat(125));
    assert.equal((await ws.readClose()).code, 1009);
  } finally {
    ws.close();
  }
  const ended = await next();
  assert.equal(ended.closeCode, 1009);
  assert.deepEqual(ended.received.map((m) => typeof m), [
    "string",
    "string",
    "string",
    "string",
    "object",
    "string",
    "string",
  ]);
  await server.shutdown();
});

Deno.test("short text sent while earlier frames are still being written keeps its bytes and its place", async () => {
  const [server, client] = await connectionPair();
  // Big frames fill the socket buffers while the client does not read, so
  // short ones are sent both with no write in flight and behind one.
  const expected: (string | number)[] = [];
  const sender = spawn(async () => {
    for (let i = 0; i < 200; i++) {
      if (i % 50 === 0) {
        expected.push(1 << 18);
        await server.send(new Uint8Array(1 << 18).fill(i));
      }
      const text = `${i}:` + "abcdefghij".repeat(i % 13);
      expected.push(text);
      if (i % 3 === 0) server.send(text).catch(() => {}); // not awaited
      else await server.send(text);
    }
  });
  await sleep(50); // the client reads only once the buffers are full
  let count = 0;
  while (count < 204) {
    const message = await client.receive();
    assert.ok(message !== null, `ended after ${count} messages`);
    await sleep(0);
    const want = expected[count++];
    if (typeof want === "number") {
      assert.ok(message instanceof Uint8Array);
      assert.equal(message.length, want);
    } else {
      assert.equal(message, want);
    }
  }
  await sender.join();
  await Promise.all([client.close(), server.receive()]);
});
