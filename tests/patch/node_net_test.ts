import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { TaskletExit, TimeoutError } from "../../coio/errors.ts";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import { withTimeout } from "../../coio/with_timeout.ts";
import { moveOnAfter } from "../../coio/move_on_after.ts";
import { patchNodeNet, unpatchNodeNet } from "../../patch/node_net.ts";

/** A listener that accepts and then never answers; closes what it accepted. */
function silentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      await loop;
      for (const conn of accepted) conn.close();
    },
  };
}

function closed(socket: net.Socket): Promise<void> {
  return socket.closed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once("close", () => resolve()));
}

Deno.test("patchNodeNet: a socket connected in a timeout scope gets TimeoutError when it expires", async () => {
  const server = silentServer();
  patchNodeNet();
  try {
    let socket: net.Socket | undefined;
    const started = performance.now();
    await assert.rejects(
      withTimeout(100, () =>
        new Promise((resolve, reject) => {
          socket = net.connect(server.port, "127.0.0.1");
          socket.on("error", reject);
          socket.on("data", resolve); // never comes
        })),
      TimeoutError,
    );
    assert.ok(performance.now() - started < 3000);
    assert.ok(socket!.destroyed);
    await closed(socket!);
  } finally {
    unpatchNodeNet();
    await server.close();
  }
});

Deno.test("patchNodeNet: killing the tasklet destroys its sockets, tls ones too", async () => {
  const server = silentServer();
  patchNodeNet();
  try {
    const sockets: net.Socket[] = [];
    const errors: unknown[] = [];
    const worker = spawn(async () => {
      const plain = net.createConnection({
        port: server.port,
        host: "127.0.0.1",
      });
      // A TLS handshake with a server that never answers never completes.
      const secure = tls.connect({ port: server.port, host: "127.0.0.1" });
      // Stuck in foreign code (not a coio wait) that fails on a socket error,
      // as a client library's pending request does.
      await Promise.all([plain, secure].map((socket) => {
        sockets.push(socket);
        return new Promise((_resolve, reject) =>
          socket.on("error", (e) => {
            errors.push(e);
            reject(e);
          })
        );
      }));
    });
    await sleep(50);
    assert.equal(sockets.length, 2);
    worker.kill();
    await assert.rejects(worker.join(), TaskletExit);
    await Promise.all(sockets.map(closed));
    assert.ok(sockets.every((s) => s.destroyed));
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e instanceof TaskletExit));
  } finally {
    unpatchNodeNet();
    await server.close();
  }
});

Deno.test("patchNodeNet: a socket without an error listener is destroyed quietly", async () => {
  const server = silentServer();
  patchNodeNet();
  try {
    let socket: net.Socket | undefined;
    const worker = spawn(async () => {
      socket = new net.Socket();
      socket.connect(server.port, "127.0.0.1");
      await sleep(60_000);
    });
    await sleep(30);
    worker.kill();
    await assert.rejects(worker.join(), TaskletExit);
    await closed(socket!);
    assert.ok(socket!.destroyed);
  } finally {
    unpatchNodeNet();
    await server.close();
  }
});

Deno.test("patchNodeNet: sockets connected outside tasklets or after the scope are left alone", async () => {
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = echo.addr as Deno.NetAddr;
  const serving = (async () => {
    for await (const conn of echo) {
      (async () => {
        try {
          await conn.readable.pipeTo(conn.writable);
        } catch {
          // The client went away.
        }
      })();
    }
  })();
  patchNodeNet();
  try {
    const outside = net.connect(port, "127.0.0.1");
    const inside = await withTimeout(50, () => {
      const socket = net.connect(port, "127.0.0.1");
      return new Promise<net.Socket>((resolve) =>
        socket.once("connect", () => resolve(socket))
      );
    });
    await sleep(100); // the scope ended normally; nothing fires later
    for (const socket of [outside, inside]) {
      assert.ok(!socket.destroyed);
      const reply = new Promise<string>((resolve) =>
        socket.once("data", (d) => resolve(String(d)))
      );
      socket.write("ping");
      assert.equal(await reply, "ping");
      socket.destroy();
      await closed(socket);
    }
  } finally {
    unpatchNodeNet();
    echo.close();
    await serving;
  }
});

Deno.test("patchNodeNet: a write inside a timeout scope ties a socket opened elsewhere", async () => {
  const server = silentServer();
  patchNodeNet();
  try {
    // Opened in the main tasklet, outside any scope: not tied.
    const socket = net.connect(server.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const started = performance.now();
    const error = await spawn(() =>
      withTimeout(100, () =>
        new Promise((resolve, reject) => {
          socket.on("error", reject);
          socket.write("request"); // the reply never comes
          socket.on("data", resolve);
        }))
    ).join().catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(performance.now() - started < 3000);
    await closed(socket);
    // A write from the main tasklet unties a socket again.
    const other = net.connect(server.port, "127.0.0.1");
    await new Promise((resolve) => other.once("connect", resolve));
    await moveOnAfter(50, () => {
      other.write("x");
      return sleep(60_000); // outlives the scope
    });
    assert.ok(other.destroyed, "the scope's expiry destroyed it");
    const third = net.connect(server.port, "127.0.0.1");
    await new Promise((resolve) => third.once("connect", resolve));
    await withTimeout(1000, async () => {
      third.write("x"); // tied to this scope...
      await sleep(1);
    });
    third.write("y"); // ...and untied here, in the main tasklet
    await sleep(20);
    assert.ok(!third.destroyed);
    third.destroy();
    await Promise.all([closed(other), closed(third)]);
  } finally {
    unpatchNodeNet();
    await server.close();
  }
});

Deno.test("patchNodeNet: idempotent and reversible", () => {
  const proto = net.Socket.prototype;
  const original = proto.connect;
  const write = proto.write;
  const ownWrite = Object.hasOwn(proto, "write");
  patchNodeNet();
  const patched = proto.connect;
  assert.notEqual(patched, original);
  assert.notEqual(proto.write, write);
  patchNodeNet();
  assert.equal(proto.connect, patched);
  unpatchNodeNet();
  assert.equal(proto.connect, original);
  assert.equal(proto.write, write);
  assert.equal(Object.hasOwn(proto, "write"), ownWrite);
  unpatchNodeNet();
  assert.equal(proto.connect, original);
});
