import assert from "node:assert/strict";
import dgram from "node:dgram";
import { TaskletExit, TimeoutError } from "../../coio/errors.ts";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import { withTimeout } from "../../coio/with_timeout.ts";
import { patchDeno, unpatchDeno } from "../../patch/deno.ts";
import { openBlackhole, testCertificates } from "./_helpers.ts";

Deno.test("patchDeno: a pending Deno.connect is aborted by a timeout scope", async () => {
  const hole = await openBlackhole();
  patchDeno();
  try {
    const started = performance.now();
    await assert.rejects(
      withTimeout(
        100,
        () => Deno.connect({ hostname: hole.hostname, port: hole.port }),
      ),
      TimeoutError,
    );
    assert.ok(performance.now() - started < 3000);
  } finally {
    unpatchDeno();
    hole.close();
  }
});

Deno.test("patchDeno: killing a tasklet aborts its pending Deno.connect", async () => {
  const hole = await openBlackhole();
  patchDeno();
  try {
    const worker = spawn(() =>
      Deno.connect({ hostname: hole.hostname, port: hole.port })
    );
    await sleep(30);
    assert.ok(worker.alive);
    worker.kill();
    await assert.rejects(worker.join(), TaskletExit);
  } finally {
    unpatchDeno();
    hole.close();
  }
});

Deno.test("patchDeno: the caller's signal still aborts Deno.connect with its reason", async () => {
  const hole = await openBlackhole();
  patchDeno();
  try {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const worker = spawn(() =>
      Deno.connect({
        hostname: hole.hostname,
        port: hole.port,
        signal: controller.signal,
      })
    );
    await sleep(30);
    controller.abort(reason);
    await assert.rejects(worker.join(), (e) => e === reason);
  } finally {
    unpatchDeno();
    hole.close();
  }
});

Deno.test("patchDeno: connections made in time work and outlive their scope", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  patchDeno();
  try {
    const accepted = listener.accept();
    const conn = await spawn(() =>
      withTimeout(50, () => Deno.connect({ hostname: "127.0.0.1", port }))
    ).join();
    const server = await accepted;
    await sleep(100); // well past the scope's 50 ms
    await conn.write(new TextEncoder().encode("ping"));
    const buffer = new Uint8Array(4);
    assert.equal(await server.read(buffer), 4);
    assert.equal(new TextDecoder().decode(buffer), "ping");
    conn.close();
    server.close();
    // Outside tasklets the call goes straight through.
    const direct = await Deno.connect({ hostname: "127.0.0.1", port });
    (await listener.accept()).close();
    direct.close();
  } finally {
    unpatchDeno();
    listener.close();
  }
});

Deno.test("patchDeno: Deno.connectTls works in a tasklet and its pending connect is aborted", async () => {
  const pair = await testCertificates();
  if (pair === undefined) {
    console.log("SKIP: openssl is not installed (no test certificate)");
    return;
  }
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: pair.cert,
    key: pair.key,
  });
  const { port } = listener.addr as Deno.NetAddr;
  const hole = await openBlackhole();
  patchDeno();
  try {
    const echo = (async () => {
      const conn = await listener.accept();
      try {
        const buffer = new Uint8Array(5);
        const n = await conn.read(buffer);
        await conn.write(buffer.subarray(0, n ?? 0));
      } finally {
        conn.close();
      }
    })();
    const reply = await spawn(() =>
      withTimeout(5000, async () => {
        const conn = await Deno.connectTls({
          hostname: "localhost",
          port,
          caCerts: [pair.ca],
        });
        try {
          await conn.write(new TextEncoder().encode("hello"));
          const buffer = new Uint8Array(5);
          const n = await conn.read(buffer);
          return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
        } finally {
          conn.close();
        }
      })
    ).join();
    assert.equal(reply, "hello");
    await echo;
    await assert.rejects(
      withTimeout(
        100,
        () =>
          Deno.connectTls({
            hostname: hole.hostname,
            port: hole.port,
            caCerts: [pair.ca],
          }),
      ),
      TimeoutError,
    );
  } finally {
    unpatchDeno();
    hole.close();
    listener.close();
  }
});

Deno.test("patchDeno: a Deno.resolveDns that gets no answer is aborted by a timeout scope", async () => {
  // A name server that reads queries and never answers.
  const silent = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
  const { port } = silent.address();
  let queries = 0;
  silent.on("message", () => queries++);
  patchDeno();
  try {
    const started = performance.now();
    await assert.rejects(
      spawn(() =>
        withTimeout(150, () =>
          Deno.resolveDns("example.test", "A", {
            nameServer: { ipAddr: "127.0.0.1", port },
          }))
      ).join(),
      TimeoutError,
    );
    assert.ok(performance.now() - started < 3000);
    assert.ok(queries >= 1, "the query reached the silent server");
  } finally {
    unpatchDeno();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

Deno.test("patchDeno: idempotent and reversible", () => {
  const { connect, connectTls, resolveDns } = Deno;
  patchDeno();
  const patched = Deno.connect;
  assert.notEqual(patched, connect);
  patchDeno();
  assert.equal(Deno.connect, patched);
  unpatchDeno();
  assert.equal(Deno.connect, connect);
  assert.equal(Deno.connectTls, connectTls);
  assert.equal(Deno.resolveDns, resolveDns);
  unpatchDeno();
  assert.equal(Deno.connect, connect);
});
