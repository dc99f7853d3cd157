// Framing on the wire, with a raw client written from RFC 6455: lengths,
// fragmentation, control frames, the close handshake, and hand-crafted bad
// frames, each of which must be answered with a close frame carrying the
// right code before the TCP close, while the server goes on serving others.

import assert from "node:assert/strict";
import { serve, upgradeWebSocket } from "../../wsgi/mod.ts";
import {
  BINARY,
  clientFrame,
  CLOSE,
  closeBody,
  CONT,
  echoServer,
  payloadText,
  PING,
  PONG,
  RawWebSocket,
  TEXT,
  utf8,
} from "./_ws_helpers.ts";

Deno.test("echo of text and binary with 7-, 16- and 64-bit lengths, server frames unmasked", async () => {
  const { server, port, next } = echoServer();
  const { ws } = await RawWebSocket.open(port);
  try {
    for (const size of [0, 1, 125, 126, 65535, 65536, 200_000]) {
      const payload = new Uint8Array(size).map((_, i) => (i * 7) & 255);
      await ws.send(clientFrame(BINARY, payload));
      const frame = await ws.readFrame();
      assert.ok(frame);
      assert.equal(frame.opcode, BINARY);
      assert.equal(frame.fin, true);
      assert.equal(frame.masked, false);
      assert.deepEqual(frame.payload, payload, `size ${size}`);
    }
    // A 16-bit and a 64-bit length field for small payloads are accepted.
    await ws.send(clientFrame(TEXT, "sixteen", { lengthField: 126 }));
    assert.equal(payloadText(await ws.readFrame()), "sixteen");
    await ws.send(clientFrame(TEXT, "sixty-four", { lengthField: 127 }));
    assert.equal(payloadText(await ws.readFrame()), "sixty-four");
    await ws.send(clientFrame(TEXT, "héllo wörld ✓ 🎉"));
    assert.equal(payloadText(await ws.readFrame()), "héllo wörld ✓ 🎉");
    await ws.send(clientFrame(CLOSE, closeBody(1000)));
    const close = await ws.readClose();
    assert.equal(close.code, 1000);
    assert.equal(close.eof, true);
  } finally {
    ws.close();
  }
  const ended = await next();
  assert.equal(ended.closeCode, 1000);
  assert.equal(ended.received.length, 10);
  await server.shutdown();
});

Deno.test("a leading BOM in a text message is kept", async () => {
  const { server, port } = echoServer();
  const { ws } = await RawWebSocket.open(port);
  try {
    await ws.send(clientFrame(TEXT, "\uFEFFbom"));
    const frame = await ws.readFrame();
    assert.deepEqual(frame?.payload, utf8("\uFEFFbom"));
    await ws.send(clientFrame(CLOSE));
    await ws.readClose();
  } finally {
    ws.close();
  }
  await server.shutdown();
});

Deno.test("fragmented messages with control frames interleaved are joined; pings get pongs", async () => {
  const { server, port, next } = echoServer();
  const { ws } = await RawWebSocket.open(port);
  try {
    // "héllo" split inside the two-byte "é", with a ping between fragments.
    const bytes = utf8("héllo");
    await ws.send(clientFrame(TEXT, bytes.subarray(0, 2), { fin: false }));
    await ws.send(clientFrame(PING, "p1"));
    await ws.send(clientFrame(CONT, bytes.subarray(2, 4), { fin: false }));
    await ws.send(clientFrame(PONG, "unsolicited"));
    await ws.send(clientFrame(CONT, bytes.subarray(4)));
    const pong = await ws.readFrame();
    assert.equal(pong?.opcode, PONG);
    assert.equal(payloadText(pong), "p1");
    const echo = await ws.readFrame();
    assert.equal(echo?.opcode, TEXT);
    assert.equal(payloadText(echo), "héllo");
    // Binary in three fragments, one of them empty.
    await ws.send(clientFrame(BINARY, new Uint8Array([1, 2]), { fin: false }));
    await ws.send(clientFrame(CONT, new Uint8Array(0), { fin: false }));
    await ws.send(clientFrame(CONT, new Uint8Array([3])));
    const binary = await ws.readFrame();
    assert.equal(binary?.opcode, BINARY);
    assert.deepEqual(binary?.payload, new Uint8Array([1, 2, 3]));
    await ws.send(clientFrame(CLOSE, closeBody(1000)));
    assert.equal((await ws.readClose()).code, 1000);
  } finally {
    ws.close();
  }
  assert.deepEqual((await next()).received, [
    "héllo",
    new Uint8Array([1, 2, 3]),
  ]);
  await server.shutdown();
});

Deno.test("close handshake: code and reason echoed, an empty close answered empty", async () => {
  const { server, port, next } = echoServer();
  const a = (await RawWebSocket.open(port)).ws;
  try {
    await a.send(clientFrame(CLOSE, closeBody(4321, "fin ✓")));
    const close = await a.readClose();
    assert.equal(close.code, 4321);
    assert.equal(close.reason, "fin ✓");
    assert.equal(close.eof, true);
  } finally {
    a.close();
  }
  let ended = await next();
  assert.equal(ended.closeCode, 4321);
  assert.equal(ended.closeReason, "fin ✓");

  const b = (await RawWebSocket.open(port)).ws;
  try {
    await b.send(clientFrame(CLOSE));
    const frame = await b.readFrame();
    assert.equal(frame?.opcode, CLOSE);
    assert.equal(frame?.payload.length, 0);
    assert.equal(await b.readEof(), true);
  } finally {
    b.close();
  }
  ended = await next();
  assert.equal(ended.closeCode, 1005);
  await server.shutdown();
});

/** Sends `bytes` on a fresh connection; expects a close with `code`. */
async function expectFailure(
  port: number,
  bytes: Uint8Array[],
  code: number,
): Promise<void> {
  const { ws } = await RawWebSocket.open(port);
  try {
    for (const b of bytes) await ws.send(b);
    const close = await ws.readClose();
    assert.equal(close.code, code);
    assert.equal(close.eof, true, "the TCP connection ends after the close");
  } finally {
    ws.close();
  }
}

const MAX = 1000;

const BAD: [string, Uint8Array[], number][] = [
  [
    "an unmasked client frame",
    [clientFrame(TEXT, "hi", { mask: false })],
    1002,
  ],
  [
    "RSV1 without permessage-deflate",
    [clientFrame(TEXT, "hi", { rsv: 0x40 })],
    1002,
  ],
  ["RSV2 set", [clientFrame(TEXT, "hi", { rsv: 0x20 })], 1002],
  ["RSV3 set", [clientFrame(BINARY, "hi", { rsv: 0x10 })], 1002],
  ["reserved data opcode 3", [clientFrame(0x3, "hi")], 1002],
  ["reserved control opcode 0xB", [clientFrame(0xb, "hi")], 1002],
  ["a fragmented ping", [clientFrame(PING, "hi", { fin: false })], 1002],
  [
    "a fragmented close",
    [clientFrame(CLOSE, closeBody(1000), { fin: false })],
    1002,
  ],
  ["a ping over 125 bytes", [clientFrame(PING, new Uint8Array(126))], 1002],
  ["a continuation without a message", [clientFrame(CONT, "x")], 1002],
  [
    "a new message inside a fragmented one",
    [clientFrame(TEXT, "a", { fin: false }), clientFrame(TEXT, "b")],
    1002,
  ],
  ["a close frame of 1 byte", [clientFrame(CLOSE, new Uint8Array([3]))], 1002],
  ["close code 1005", [clientFrame(CLOSE, closeBody(1005))], 1002],
  ["close code 1006", [clientFrame(CLOSE, closeBody(1006))], 1002],
  ["close code 999", [clientFrame(CLOSE, closeBody(999))], 1002],
  ["close code 2000", [clientFrame(CLOSE, closeBody(2000))], 1002],
  ["close code 5000", [clientFrame(CLOSE, closeBody(5000))], 1002],
  [
    "invalid UTF-8 in text",
    [clientFrame(TEXT, new Uint8Array([0x61, 0xff]))],
    1007,
  ],
  [
    "invalid UTF-8 split across fragments",
    [
      clientFrame(TEXT, new Uint8Array([0xce]), { fin: false }),
      clientFrame(CONT, new Uint8Array([0x41])),
    ],
    1007,
  ],
  [
    "a truncated UTF-8 sequence at the end of a message",
    [
      clientFrame(TEXT, utf8("ok"), { fin: false }),
      clientFrame(CONT, new Uint8Array([0xe2, 0x82])),
    ],
    1007,
  ],
  [
    "a UTF-16 surrogate encoded in UTF-8",
    [clientFrame(TEXT, new Uint8Array([0xed, 0xa0, 0x80]))],
    1007,
  ],
  [
    "invalid UTF-8 in a close reason",
    [clientFrame(CLOSE, closeBody(1000, new Uint8Array([0xc3, 0x28])))],
    1007,
  ],
  ["a message over maxMessageSize", [
    clientFrame(BINARY, new Uint8Array(MAX + 1)),
  ], 1009],
  [
    "fragments adding up to more than maxMessageSize",
    [
      clientFrame(TEXT, "a".repeat(600), { fin: false }),
      clientFrame(CONT, "b".repeat(401)),
    ],
    1009,
  ],
  [
    "a head announcing 2^62 bytes",
    [clientFrame(BINARY, new Uint8Array(0), {
      lengthField: 127,
      announce: 2 ** 62,
    })],
    1009,
  ],
];

Deno.test("bad frames are answered with a close frame and their code; the server keeps serving", async () => {
  const { server, port, next } = echoServer({ maxMessageSize: MAX });
  // One connection stays open through all the failures.
  const { ws: bystander } = await RawWebSocket.open(port);
  try {
    for (const [name, bytes, code] of BAD) {
      await expectFailure(port, bytes, code).catch((error) => {
        throw new Error(`${name}: ${error.message}`);
      });
      const ended = await next();
      assert.equal(ended.closeCode, code, name);
      assert.notEqual(ended.closeReason, "", name);
      await bystander.send(clientFrame(TEXT, name));
      assert.equal(payloadText(await bystander.readFrame()), name);
    }
    await bystander.send(clientFrame(CLOSE, closeBody(1000)));
    assert.equal((await bystander.readClose()).code, 1000);
  } finally {
    bystander.close();
  }
  await next();
  await server.shutdown();
});

Deno.test("the most significant bit of a 64-bit length is a protocol error", async () => {
  const { server, port, next } = echoServer();
  const frame = clientFrame(BINARY, new Uint8Array(0), { lengthField: 127 });
  frame[2] = 0x80; // the length's top bit
  await expectFailure(port, [frame], 1002);
  assert.equal((await next()).closeCode, 1002);
  await server.shutdown();
});

Deno.test("a message of exactly maxMessageSize is accepted, text and binary", async () => {
  const { server, port, next } = echoServer({ maxMessageSize: MAX });
  const { ws } = await RawWebSocket.open(port);
  try {
    await ws.send(clientFrame(BINARY, new Uint8Array(MAX).fill(9)));
    assert.equal((await ws.readFrame())?.payload.length, MAX);
    await ws.send(clientFrame(TEXT, "x".repeat(500), { fin: false }));
    await ws.send(clientFrame(CONT, "y".repeat(MAX - 500)));
    assert.equal((await ws.readFrame())?.payload.length, MAX);
    await ws.send(clientFrame(CLOSE, closeBody(1000)));
    assert.equal((await ws.readClose()).code, 1000);
  } finally {
    ws.close();
  }
  assert.equal((await next()).closeCode, 1000);
  await server.shutdown();
});

Deno.test("maxBodySize does not apply to WebSocket messages", async () => {
  const s = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ);
    for await (const m of ws) await ws.send(m);
  }, { hostname: "127.0.0.1", port: 0, maxBodySize: 10 });
  const { ws } = await RawWebSocket.open(s.addr.port!);
  try {
    await ws.send(clientFrame(BINARY, new Uint8Array(5000)));
    assert.equal((await ws.readFrame())?.payload.length, 5000);
    await ws.send(clientFrame(CLOSE, closeBody(1000)));
    await ws.readClose();
  } finally {
    ws.close();
  }
  await s.shutdown();
});

Deno.test("a connection that drops without a close frame ends with 1006", async () => {
  const { server, port, next } = echoServer();
  const { ws } = await RawWebSocket.open(port);
  await ws.send(clientFrame(TEXT, "half", { fin: false }));
  ws.close();
  const ended = await next();
  assert.equal(ended.closeCode, 1006);
  await server.shutdown();
});

Deno.test("frames sent right behind the handshake are not lost", async () => {
  const { server, port, next } = echoServer();
  const ws = await RawWebSocket.connect(port);
  try {
    const key = btoa("0123456789abcdef");
    await ws.send(utf8(
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ));
    // No waiting for the 101: the frames travel with the request.
    await ws.send(clientFrame(TEXT, "early"));
    await ws.send(clientFrame(CLOSE, closeBody(1000)));
    assert.match(await ws.readHead(), /^HTTP\/1\.1 101 /);
    assert.equal(payloadText(await ws.readFrame()), "early");
    assert.equal((await ws.readClose()).code, 1000);
  } finally {
    ws.close();
  }
  assert.deepEqual((await next()).received, ["early"]);
  await server.shutdown();
});

Deno.test("permessage-deflate on the wire: our frames are compressed (RSV1), bad data fails with 1007", async () => {
  const { deflateRawSync, inflateRawSync, constants } = await import(
    "node:zlib"
  );
  const tail = new Uint8Array([0, 0, 0xff, 0xff]);
  const compress = (text: string) => {
    const out = deflateRawSync(utf8(text), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    return new Uint8Array(out.subarray(0, out.length - 4));
  };
  const inflate = (payload: Uint8Array) => {
    const joined = new Uint8Array(payload.length + 4);
    joined.set(payload);
    joined.set(tail, payload.length);
    return new TextDecoder().decode(
      inflateRawSync(joined, { finishFlush: constants.Z_SYNC_FLUSH }),
    );
  };
  const { server, port, next } = echoServer();
  const offer =
    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  const { ws } = await RawWebSocket.open(port, [offer]);
  try {
    const message = "compress me ".repeat(100);
    await ws.send(clientFrame(TEXT, compress(message), { rsv: 0x40 }));
    let frame = await ws.readFrame();
    assert.equal(frame?.rsv, 0x40);
    assert.ok(frame!.payload.length < message.length / 4);
    assert.equal(inflate(frame!.payload), message);
    // Uncompressed messages are fine too; the server may answer either way.
    await ws.send(clientFrame(TEXT, "plain"));
    frame = await ws.readFrame();
    assert.equal(
      frame?.rsv ? inflate(frame.payload) : payloadText(frame),
      "plain",
    );
    // A compressed message in two fragments (RSV1 on the first only).
    const both = compress("two fragments");
    await ws.send(
      clientFrame(TEXT, both.subarray(0, 5), { rsv: 0x40, fin: false }),
    );
    await ws.send(clientFrame(CONT, both.subarray(5)));
    frame = await ws.readFrame();
    assert.equal(inflate(frame!.payload), "two fragments");
    // RSV1 on a continuation frame is a protocol error.
    await ws.send(clientFrame(TEXT, compress("a"), { rsv: 0x40, fin: false }));
    await ws.send(clientFrame(CONT, compress("b"), { rsv: 0x40 }));
    assert.equal((await ws.readClose()).code, 1002);
  } finally {
    ws.close();
  }
  assert.equal((await next()).closeCode, 1002);

  const bad = (await RawWebSocket.open(port, [offer])).ws;
  try {
    await bad.send(
      clientFrame(TEXT, new Uint8Array([0xff, 0xff, 0xff]), { rsv: 0x40 }),
    );
    assert.equal((await bad.readClose()).code, 1007);
  } finally {
    bad.close();
  }
  assert.equal((await next()).closeCode, 1007);
  await server.shutdown();
});
