// The opening handshake on our server: accept key, subprotocols,
// permessage-deflate negotiation, and the 400/426 answers to bad upgrades.

import assert from "node:assert/strict";
import { serve, TAKEOVER_KEY, upgradeWebSocket } from "../../wsgi/mod.ts";
import {
  clientFrame,
  closeBody,
  echoServer,
  expectedAccept,
  RawWebSocket,
} from "./_ws_helpers.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function request(lines: string[]): string {
  return ["GET /chat HTTP/1.1", "Host: 127.0.0.1", ...lines, "", ""].join(
    "\r\n",
  );
}

const GOOD = [
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Key: ${KEY}`,
  "Sec-WebSocket-Version: 13",
];

/** Sends `head` and returns the response head, then closes. */
async function answer(port: number, head: string): Promise<string> {
  const ws = await RawWebSocket.connect(port);
  try {
    await ws.send(head);
    return await ws.readHead();
  } finally {
    ws.close();
  }
}

function header(head: string, name: string): string | undefined {
  const match = new RegExp(`\r\n${name}: ([^\r]*)\r\n`, "i").exec(head);
  return match?.[1];
}

Deno.test("the 101 answer carries the RFC 6455 accept key (the RFC's own example)", async () => {
  assert.equal(
    await expectedAccept(KEY),
    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
  );
  const { server, port } = echoServer({ compression: false });
  const head = await answer(port, request(GOOD));
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.equal(
    header(head, "Sec-WebSocket-Accept"),
    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
  );
  assert.equal(header(head, "Upgrade")?.toLowerCase(), "websocket");
  assert.equal(header(head, "Connection")?.toLowerCase(), "upgrade");
  assert.equal(header(head, "Sec-WebSocket-Protocol"), undefined);
  assert.equal(header(head, "Sec-WebSocket-Extensions"), undefined);
  await server.shutdown();
});

Deno.test("header names and tokens in any case, Connection with several tokens", async () => {
  const { server, port } = echoServer();
  const head = await answer(
    port,
    request([
      "upgrade: WebSocket",
      "connection: keep-alive, UPGRADE",
      `sec-websocket-key: ${KEY}`,
      "sec-websocket-version: 13",
    ]),
  );
  assert.match(head, /^HTTP\/1\.1 101 /);
  await server.shutdown();
});

Deno.test("bad upgrades: 400, or 426 with Sec-WebSocket-Version for other versions", async () => {
  const server = serve(async (environ, startResponse) => {
    if (environ.PATH_INFO === "/plain") {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return "plain";
    }
    const ws = await upgradeWebSocket(environ);
    await ws.close();
  }, { hostname: "127.0.0.1", port: 0 });
  const port = server.addr.port!;
  const without = (name: string) => GOOD.filter((l) => !l.startsWith(name));
  const cases: [string, string, number][] = [
    ["no key", request(without("Sec-WebSocket-Key")), 400],
    [
      "a short key",
      request([...without("Sec-WebSocket-Key"), "Sec-WebSocket-Key: c2hvcnQ="]),
      400,
    ],
    [
      "a key that is not base64",
      request([
        ...without("Sec-WebSocket-Key"),
        "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==",
      ]),
      400,
    ],
    ["no Upgrade", request(without("Upgrade")), 400],
    ["Upgrade: h2c", request([...without("Upgrade"), "Upgrade: h2c"]), 400],
    [
      "no Connection: upgrade",
      request([...without("Connection"), "Connection: keep-alive"]),
      400,
    ],
    ["POST", request(GOOD).replace("GET", "POST"), 400],
    ["HTTP/1.0", request(GOOD).replace("HTTP/1.1", "HTTP/1.0"), 400],
    ["a body", request([...GOOD, "Content-Length: 2"]) + "hi", 400],
    [
      "version 8",
      request([
        ...without("Sec-WebSocket-Version"),
        "Sec-WebSocket-Version: 8",
      ]),
      426,
    ],
    ["no version", request(without("Sec-WebSocket-Version")), 426],
  ];
  for (const [name, head, status] of cases) {
    const response = await answer(port, head);
    assert.match(response, new RegExp(`^HTTP/1\\.1 ${status} `), name);
    if (status === 426) {
      assert.equal(header(response, "Sec-WebSocket-Version"), "13", name);
    }
  }
  // Plain requests are still served.
  const plain = await fetch(`http://127.0.0.1:${port}/plain`);
  assert.equal(await plain.text(), "plain");
  await server.shutdown();
});

Deno.test("subprotocols: a name agreed when offered, a chooser function, none when not offered", async () => {
  for (
    const [option, offer, agreed] of [
      ["chat", "superchat, chat", "chat"],
      ["chat", "other", undefined],
      [(offered: string[]) => offered.at(-1), "a, b, c", "c"],
      [(_offered: string[]) => undefined, "a", undefined],
    ] as const
  ) {
    const { server, port, next } = echoServer({ protocol: option });
    const { ws, head } = await RawWebSocket.open(port, [
      `Sec-WebSocket-Protocol: ${offer}`,
    ]);
    assert.equal(header(head, "Sec-WebSocket-Protocol"), agreed);
    await ws.send(clientFrame(0x8, closeBody(1000)));
    await ws.readClose();
    ws.close();
    await next();
    await server.shutdown();
  }
});

Deno.test("permessage-deflate: offers accepted with their parameters, bad ones declined", async () => {
  const { server, port, next } = echoServer();
  const cases: [string, string | undefined][] = [
    ["permessage-deflate", "permessage-deflate"],
    [
      "permessage-deflate; client_max_window_bits",
      "permessage-deflate",
    ],
    [
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    ],
    [
      "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
      "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
    ],
    // zlib has no 8-bit raw window: declined, then the next offer is taken.
    [
      "permessage-deflate; server_max_window_bits=8, permessage-deflate",
      "permessage-deflate",
    ],
    ["permessage-deflate; server_max_window_bits=8", undefined],
    ["permessage-deflate; unknown_param", undefined],
    ["permessage-deflate; server_max_window_bits=16", undefined],
    [
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      undefined,
    ],
    ["x-webkit-deflate-frame", undefined],
  ];
  for (const [offer, expected] of cases) {
    const { ws, head } = await RawWebSocket.open(port, [
      `Sec-WebSocket-Extensions: ${offer}`,
    ]);
    assert.equal(header(head, "Sec-WebSocket-Extensions"), expected, offer);
    await ws.send(clientFrame(0x8, closeBody(1000)));
    assert.equal((await ws.readClose()).code, 1000);
    ws.close();
    await next();
  }
  await server.shutdown();
});

Deno.test("compression: false declines every offer", async () => {
  const { server, port, next } = echoServer({ compression: false });
  const { ws, head } = await RawWebSocket.open(port, [
    "Sec-WebSocket-Extensions: permessage-deflate",
  ]);
  assert.equal(header(head, "Sec-WebSocket-Extensions"), undefined);
  // Without the extension, RSV1 is a protocol error.
  await ws.send(clientFrame(0x1, "x", { rsv: 0x40 }));
  assert.equal((await ws.readClose()).code, 1002);
  ws.close();
  assert.equal((await next()).closeCode, 1002);
  await server.shutdown();
});

Deno.test("extra 101 headers; bad options are refused before the handshake", async () => {
  const server = serve(async (environ) => {
    if (environ.PATH_INFO === "/bad") {
      await upgradeWebSocket(environ, { maxMessageSize: -1 });
      return;
    }
    const ws = await upgradeWebSocket(environ, {
      headers: [["Set-Cookie", "a=1"]],
    });
    await ws.close();
  }, { hostname: "127.0.0.1", port: 0, onError: () => {} });
  const port = server.addr.port!;
  const { ws, head } = await RawWebSocket.open(port);
  assert.equal(header(head, "Set-Cookie"), "a=1");
  const close = await ws.readFrame();
  assert.equal(close?.opcode, 0x8);
  await ws.send(clientFrame(0x8, close!.payload));
  assert.equal(await ws.readEof(), true);
  ws.close();
  const bad = await answer(port, request(GOOD).replace("/chat", "/bad"));
  assert.match(bad, /^HTTP\/1\.1 500 /);
  await server.shutdown();
});

Deno.test("an environ without the takeover function gets 501", async () => {
  const environ = {
    REQUEST_METHOD: "GET",
    SERVER_PROTOCOL: "HTTP/1.1",
    HTTP_UPGRADE: "websocket",
    HTTP_CONNECTION: "Upgrade",
    HTTP_SEC_WEBSOCKET_KEY: KEY,
    HTTP_SEC_WEBSOCKET_VERSION: "13",
  };
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    upgradeWebSocket(environ as any),
    (error: Error & { status?: number }) => error.status === 501,
  );
  assert.equal(TAKEOVER_KEY, "syncless.takeover");
});

Deno.test("keep-alive requests before the upgrade are answered first", async () => {
  const { server, port, next } = echoServer();
  const ws = await RawWebSocket.connect(port);
  try {
    await ws.send(
      "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n" + request(GOOD),
    );
    const first = await ws.readHead();
    assert.match(first, /^HTTP\/1\.1 200 /);
    assert.equal(new TextDecoder().decode(await ws.readBytes(5)), "plain");
    assert.match(await ws.readHead(), /^HTTP\/1\.1 101 /);
    await ws.send(clientFrame(0x1, "after"));
    const echo = await ws.readFrame();
    assert.equal(new TextDecoder().decode(echo?.payload), "after");
    await ws.send(clientFrame(0x8, closeBody(1000)));
    assert.equal((await ws.readClose()).code, 1000);
  } finally {
    ws.close();
  }
  await next();
  await server.shutdown();
});
