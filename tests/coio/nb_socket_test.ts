import assert from "node:assert/strict";
import {
  configureResolver,
  connect,
  GaiError,
  listen,
  type NbSocket,
  schedule,
  SocketError,
  socketpair,
  spawn,
  TimeoutError,
  WouldBlockError,
} from "../../coio/mod.ts";
import { testCertificate, text } from "./_io_fixtures.ts";

function isCode(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof SocketError, `expected SocketError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  };
}

/** Lets other tasklets run until `done()` holds (bounded, never sleeps). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await schedule();
  assert.ok(done(), `gave up waiting until ${what}`);
}

Deno.test("NbSocket: socketpair round trip; recv at EOF is empty", async () => {
  const [a, b] = await socketpair();
  assert.equal(await a.send("ping"), 4);
  assert.equal(text(await b.recv(10)), "ping");
  await b.sendall(new Uint8Array([1, 2, 3]));
  const buf = new Uint8Array(8);
  assert.equal(await a.recvInto(buf), 3);
  assert.deepEqual([...buf.subarray(0, 3)], [1, 2, 3]);
  a.close();
  assert.equal((await b.recv(10)).length, 0);
  b.close();
  b.close();
  await assert.rejects(b.recv(1), isCode("EBADF"));
  await assert.rejects(b.sendall("x"), isCode("EBADF"));
});

Deno.test("NbSocket: timeouts on the socket (testTimeout)", async () => {
  const [a, b] = await socketpair();
  try {
    assert.equal(a.gettimeout(), null);
    a.settimeout(0);
    await assert.rejects(a.recv(1), (e: unknown) => {
      assert.ok(e instanceof WouldBlockError);
      assert.equal(e.code, "EAGAIN");
      return true;
    });
    a.settimeout(0.002);
    await assert.rejects(a.recv(1), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.message, "timed out");
      return true;
    });
    a.setblocking(false);
    assert.equal(a.gettimeout(), 0);
    a.setblocking(true);
    assert.equal(a.gettimeout(), null);
    assert.throws(() => a.settimeout(-1), RangeError);
    // The reads that gave up are still in flight: nothing sent is lost.
    await b.sendall("kept");
    assert.equal(text(await a.recv(10)), "kept");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("NbSocket: makefile copies the timeout at creation (testTimeout)", async () => {
  const [a, b] = await socketpair();
  try {
    a.settimeout(2500);
    const file = a.makefile();
    assert.equal(file.timeout, 2500);
    file.settimeout(3250);
    assert.equal(a.gettimeout(), 2500);
    a.settimeout(4000);
    assert.equal(file.timeout, 3250);
    file.settimeout(null);
    assert.equal(file.timeout, null);
    file.settimeout(0);
    await assert.rejects(file.read(1), WouldBlockError);
    file.settimeout(0.002);
    await assert.rejects(file.read(1), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.message, "timed out");
      return true;
    });
    await b.sendall("z");
    file.settimeout(null);
    assert.equal(text(await file.read(1)), "z");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("NbSocket: closing a makefile file leaves the socket open (testClose)", async () => {
  const [a, b] = await socketpair();
  const file = a.makefile();
  await b.sendall("one\ntwo\n");
  assert.equal(text(await file.readline()), "one\n");
  await file.close();
  assert.equal(file.closed, true);
  assert.equal((a.localAddr as Deno.NetAddr).hostname, "127.0.0.1");
  // The file's buffered bytes are the socket's too: nothing is hidden.
  assert.equal(text(await a.recv(100)), "two\n");
  await a.sendall("back");
  assert.equal(text(await b.recv(10)), "back");
  const second = a.makefile({ writeBufferLimit: 2 });
  await second.write("buffered");
  assert.equal(second.writeBufferLength, 8);
  await second.close();
  assert.equal(text(await b.recv(10)), "buffered");
  a.close();
  b.close();
});

Deno.test("NbSocket: a killed recv leaves its bytes to the next recv", async () => {
  const [a, b] = await socketpair();
  const victim = spawn(() => a.recv(10));
  await schedule();
  await schedule();
  victim.kill();
  await assert.rejects(victim.join());
  await b.sendall("after");
  assert.equal(text(await a.recv(10)), "after");
  a.close();
  b.close();
});

Deno.test("NbSocket: shutdown() sends EOF, the other direction goes on", async () => {
  const [a, b] = await socketpair();
  await a.sendall("last");
  await a.shutdown();
  const file = b.makefile();
  assert.equal(text(await file.read()), "last");
  await b.sendall("reply");
  assert.equal(text(await a.recv(10)), "reply");
  a.close();
  b.close();
});

Deno.test("NbSocket: close() fails a waiting reader with EBADF", async () => {
  const [a, b] = await socketpair();
  const reader = spawn(() => a.recv(1));
  await schedule();
  await schedule();
  a.close();
  await assert.rejects(reader.join(), isCode("EBADF"));
  b.close();
});

Deno.test("connect: a refused connection is ECONNREFUSED", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await assert.rejects(
    connect({ hostname: "127.0.0.1", port }),
    isCode("ECONNREFUSED"),
  );
});

Deno.test("connect: bad options are typed errors; an aborted connect leaks nothing", async () => {
  await assert.rejects(connect({ port: 70000 }), RangeError);
  await assert.rejects(connect({ port: 1, timeout: -1 }), RangeError);
  await assert.rejects(connect({ transport: "unix" }), TypeError);
  using listener = listen({ hostname: "127.0.0.1", port: 0 });
  const reason = new Error("stop");
  await assert.rejects(
    connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      signal: AbortSignal.abort(reason),
    }),
    (e) => e === reason,
  );
  // The connection made anyway is closed, and the listener still works.
  (await listener.accept()).close();
});

Deno.test("NbSocket: a peer's reset is ECONNRESET", async () => {
  const [a, b] = await socketpair();
  await a.sendall("unread by b");
  // Closing with unread data makes the kernel send a reset.
  b.conn.close();
  let error: unknown;
  try {
    for (let i = 0; i < 20; i++) {
      await a.sendall("x".repeat(65536));
      if ((await a.recv(10)).length === 0) break;
    }
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof SocketError, `got ${error}`);
  assert.ok(["ECONNRESET", "EPIPE"].includes(error.code), error.code);
  a.close();
  b.close();
});

Deno.test("NbListener: accept timeouts, and a late connection is not lost", async () => {
  const listener = listen({ hostname: "127.0.0.1", port: 0 });
  await assert.rejects(listener.accept({ timeout: 0 }), WouldBlockError);
  await assert.rejects(listener.accept({ timeout: 5 }), TimeoutError);
  const client = await connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const server = await listener.accept();
  await client.sendall("hi");
  assert.equal(text(await server.recv(2)), "hi");
  client.close();
  server.close();
  listener.close();
});

Deno.test("NbListener: close() ends waiting accepts and iteration", async () => {
  const listener = listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: NbSocket[] = [];
  const loop = spawn(async () => {
    for await (const socket of listener) accepted.push(socket);
  });
  const client = await connect({ port: listener.addr.port });
  await until(() => accepted.length === 1, "the connection was accepted");
  listener.close();
  await loop.join();
  await assert.rejects(listener.accept(), isCode("EBADF"));
  client.close();
  accepted[0].close();
});

Deno.test("NbListener: listening twice on one port is EADDRINUSE", () => {
  using listener = listen({ hostname: "127.0.0.1", port: 0 });
  assert.throws(
    () => listen({ hostname: "127.0.0.1", port: listener.addr.port }),
    isCode("EADDRINUSE"),
  );
  assert.throws(() => listen({ port: -1 }), RangeError);
});

Deno.test("NbListener: reusePort lets two listeners share a port", () => {
  if (Deno.build.os !== "linux") {
    console.log("SKIP: reusePort is Linux-only");
    return;
  }
  if (
    typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function"
  ) {
    // Without the flag listen() must refuse cleanly (Deno itself would exit).
    assert.throws(
      () => listen({ hostname: "127.0.0.1", port: 0, reusePort: true }),
      isCode("EOPNOTSUPP"),
    );
    console.log("SKIP: reusePort needs --unstable-net");
    return;
  }
  using first = listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
  using second = listen({
    hostname: "127.0.0.1",
    port: first.addr.port,
    reusePort: true,
  });
  assert.equal(second.addr.port, first.addr.port);
});

Deno.test("Unix sockets: listen, connect, round trip", async () => {
  if (Deno.build.os === "windows") {
    console.log("SKIP: no Unix sockets on Windows");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "syncless-unix-" });
  const path = `${dir}/sock`;
  try {
    const listener = listen({ transport: "unix", path });
    assert.equal((listener.address as Deno.UnixAddr).path, path);
    const client = await connect({ transport: "unix", path });
    const server = await listener.accept();
    await client.sendall("over unix\n");
    assert.equal(text(await server.makefile().readline()), "over unix\n");
    client.close();
    server.close();
    listener.close();
    await assert.rejects(
      connect({ transport: "unix", path: `${dir}/missing` }),
      isCode("ENOENT"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS: round trip, startTls, and a bad certificate is a typed error", async () => {
  const tls = await testCertificate();
  if (tls === undefined) {
    console.log("SKIP: openssl not found, cannot make a test certificate");
    return;
  }
  const listener = listen({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: tls.cert, key: tls.key },
  });
  const port = listener.addr.port;
  const serverErrors: unknown[] = [];
  const server = spawn(async () => {
    for (let i = 0; i < 3; i++) {
      const socket = await listener.accept();
      try {
        const file = socket.makefile();
        const line = await file.readline();
        await socket.sendall(line);
      } catch (error) {
        serverErrors.push(error);
      } finally {
        socket.close();
      }
    }
  });

  const client = await connect({
    hostname: "localhost",
    port,
    tls: { caCerts: [tls.caCert] },
  });
  await client.sendall("secret\n");
  assert.equal(text(await client.makefile().readline()), "secret\n");
  client.close();

  const plain = await connect({ hostname: "127.0.0.1", port });
  await plain.startTls({ hostname: "localhost", caCerts: [tls.caCert] });
  await plain.sendall("upgraded\n");
  assert.equal(text(await plain.makefile().readline()), "upgraded\n");
  plain.close();

  // Not signed by a CA the client trusts.
  await assert.rejects(
    connect({ hostname: "localhost", port, tls: true }),
    isCode("EPROTO"),
  );
  await server.join();
  listener.close();
  assert.equal(serverErrors.length, 1);
  assert.ok(serverErrors[0] instanceof SocketError);
});

Deno.test("connect: names resolve through coio's resolver, each address in turn", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syncless-hosts-" });
  const hostsFile = `${dir}/hosts`;
  await Deno.writeTextFile(
    hostsFile,
    "127.0.0.2 syncless-io-test.invalid\n127.0.0.1 syncless-io-test.invalid\n",
  );
  // A name server nobody answers on: only the hosts file can resolve.
  const previous = configureResolver({
    hostsFile,
    nameServer: { ipAddr: "127.0.0.1", port: 9 },
    attempts: 1,
    timeout: 200,
  });
  const listener = listen({ hostname: "127.0.0.1", port: 0 });
  try {
    // 127.0.0.2 refuses (nothing listens there), then 127.0.0.1 answers.
    const client = await connect({
      hostname: "syncless-io-test.invalid",
      port: listener.addr.port,
    });
    const server = await listener.accept();
    assert.equal((client.remoteAddr as Deno.NetAddr).hostname, "127.0.0.1");
    client.close();
    server.close();
    await assert.rejects(
      connect({ hostname: "no-such-name.invalid", port: listener.addr.port }),
      GaiError,
    );
  } finally {
    listener.close();
    configureResolver(previous);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connect: localhost and IPv6 literals need no DNS", async () => {
  using v4 = listen({ hostname: "127.0.0.1", port: 0 });
  const a = await connect({ hostname: "localhost", port: v4.addr.port });
  (await v4.accept()).close();
  a.close();
  let v6: ReturnType<typeof listen>;
  try {
    v6 = listen({ hostname: "::1", port: 0 });
  } catch {
    console.log("SKIP: no IPv6 loopback");
    return;
  }
  const b = await connect({ hostname: "::1", port: v6.addr.port });
  (await v6.accept()).close();
  b.close();
  v6.close();
});

Deno.test("NbSocket: recvInto fills the caller's buffer, 0 at EOF", async () => {
  const [a, b] = await socketpair();
  const data = new Uint8Array(200_000).map((_, i) => i % 251);
  const sending = spawn(async () => {
    await a.sendall(data);
    a.close();
  });
  const buf = new Uint8Array(4096);
  const got: number[] = [];
  for (let n; (n = await b.recvInto(buf)) > 0;) got.push(...buf.subarray(0, n));
  await sending.join();
  assert.deepEqual(new Uint8Array(got), data);
  assert.equal(await b.recvInto(new Uint8Array(0)), 0);
  await assert.rejects(b.recvInto("x" as unknown as Uint8Array), TypeError);
  b.close();
});
