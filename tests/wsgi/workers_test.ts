// workers: N event loops (Web Workers) sharing one port with SO_REUSEPORT.

import assert from "node:assert/strict";
import { serve } from "../../wsgi/mod.ts";
import { assertNotServed, deferred, exchange, parseAll } from "./_helpers.ts";

Deno.test("workers: 2 — connections are spread over both workers; shutdown stops both", async () => {
  const listening = deferred<unknown>();
  const server = serve(new URL("./_worker_app.ts", import.meta.url), {
    hostname: "127.0.0.1",
    port: 0,
    workers: 2,
    onListen: (addr) => listening.resolve(addr),
  });
  try {
    assert.deepEqual(await listening.promise, server.addr);
    const ids = new Set<string>();
    // New connections are spread by the kernel (hash of the client port).
    for (let i = 0; i < 40 && ids.size < 2; i++) {
      const responses = parseAll(
        await exchange(server.addr.port!, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"),
      );
      const [id, multiprocess] = responses[0].body.split(" ");
      assert.equal(multiprocess, "true");
      ids.add(id);
    }
    assert.equal(ids.size, 2);
  } finally {
    await server.shutdown();
  }
  await assertNotServed(server.addr.port!);
});

Deno.test("workers: a module without an app fails `finished` with a clear error", async () => {
  const server = serve(new URL("./_helpers.ts", import.meta.url), {
    hostname: "127.0.0.1",
    port: 0,
    workers: 2,
  });
  await assert.rejects(server.finished, /WSGI-style function/);
  await server.shutdown().catch(() => {});
});
