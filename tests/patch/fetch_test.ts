import assert from "node:assert/strict";
import { TaskletExit, TimeoutError } from "../../coio/errors.ts";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import { withTimeout } from "../../coio/with_timeout.ts";
import { patchFetch, unpatchFetch } from "../../patch/fetch.ts";

/** A local server whose /slow-head and /slow-body never finish on their own. */
function slowServer() {
  const controller = new AbortController();
  let onRequest: (() => void) | undefined;
  let aborted = 0;
  const abortedWaiters: (() => void)[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen() {},
  }, (request) => {
    const path = new URL(request.url).pathname;
    onRequest?.();
    request.signal.addEventListener("abort", () => {
      aborted++;
      for (const wake of abortedWaiters.splice(0)) wake();
    });
    if (path === "/fast") return new Response("fast body");
    if (path === "/slow-head") {
      // Never answers; the client must give up.
      return new Promise<Response>((resolve) => {
        request.signal.addEventListener(
          "abort",
          () => resolve(new Response("gone")),
        );
      });
    }
    let pull = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(stream) {
        if (pull++ === 0) stream.enqueue(new TextEncoder().encode("first"));
        // Later pulls wait for a chunk that never comes.
        return new Promise<void>((resolve) => {
          request.signal.addEventListener("abort", () => resolve());
        });
      },
    });
    return new Response(body);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    /** Resolves when the next request reaches the server. */
    nextRequest: () => new Promise<void>((resolve) => (onRequest = resolve)),
    /** Resolves once the server has seen `n` requests aborted by the client. */
    abortedCount: async (n: number) => {
      while (aborted < n) {
        await new Promise<void>((resolve) => abortedWaiters.push(resolve));
      }
    },
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

Deno.test("patchFetch: killing a tasklet aborts its pending fetch", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const arrived = server.nextRequest();
    const worker = spawn(() => fetch(`${server.url}/slow-head`));
    await arrived;
    worker.kill();
    await assert.rejects(worker.join(), TaskletExit);
    await server.abortedCount(1); // the request really went away
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: an expiring withTimeout aborts the fetch with TimeoutError", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const started = performance.now();
    const worker = spawn(() =>
      withTimeout(100, () => fetch(`${server.url}/slow-head`))
    );
    await assert.rejects(worker.join(), TimeoutError);
    assert.ok(performance.now() - started < 3000);
    await server.abortedCount(1);
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: a timeout also reaches the reading of the body", async () => {
  const server = slowServer();
  patchFetch();
  try {
    let head = "";
    const error = await withTimeout(150, async () => {
      const response = await fetch(`${server.url}/slow-body`);
      const reader = response.body!.getReader();
      head = new TextDecoder().decode((await reader.read()).value);
      await reader.read(); // never completes on its own
    }).catch((e) => e);
    assert.equal(head, "first");
    assert.ok(error instanceof TimeoutError, String(error));
    await server.abortedCount(1);
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: a kill reaches a body read after the request's scope has ended", async () => {
  const server = slowServer();
  patchFetch();
  try {
    let head = "";
    let reading: () => void;
    const readingNow = new Promise<void>((resolve) => (reading = resolve));
    const worker = spawn(async () => {
      const response = await withTimeout(
        60_000,
        () => fetch(`${server.url}/slow-body`),
      );
      const reader = response.body!.getReader();
      head = new TextDecoder().decode((await reader.read()).value);
      reading();
      await reader.read(); // never completes on its own
    });
    await readingNow;
    worker.kill();
    await assert.rejects(worker.join(), TaskletExit);
    assert.equal(head, "first");
    await server.abortedCount(1); // the body really went away
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: an outer scope's expiry aborts a fetch in an inner scope", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const worker = spawn(() =>
      withTimeout(
        100,
        () => withTimeout(60_000, () => fetch(`${server.url}/slow-head`)),
      )
    );
    await assert.rejects(worker.join(), TimeoutError);
    await server.abortedCount(1);
    // Scopes that end in time, one after another in one tasklet, still work.
    const texts = await spawn(async () => {
      const out: string[] = [];
      for (let i = 0; i < 20; i++) {
        out.push(
          await withTimeout(5000, async () => {
            const response = await fetch(`${server.url}/fast`);
            return await response.text();
          }),
        );
      }
      return out;
    }).join();
    assert.deepEqual(texts, new Array(20).fill("fast body"));
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: raise() fails the fetch with the raised error", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const arrived = server.nextRequest();
    const worker = spawn(() => fetch(`${server.url}/slow-head`));
    await arrived;
    const bomb = new RangeError("bomb");
    worker.raise(bomb);
    await assert.rejects(worker.join(), (e) => e === bomb);
    await server.abortedCount(1);
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: after a raise, later requests of the tasklet work", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const arrived = server.nextRequest();
    const bomb = new RangeError("bomb");
    const worker = spawn(async () => {
      const caught = await fetch(`${server.url}/slow-head`).catch((e) => e);
      const response = await fetch(`${server.url}/fast`);
      return [caught, await response.text()];
    });
    await arrived;
    worker.raise(bomb);
    const [caught, text] = await worker.join();
    assert.equal(caught, bomb);
    assert.equal(text, "fast body");
    await server.abortedCount(1);
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: the caller's own signal still aborts, with its reason", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const arrived = server.nextRequest();
    const worker = spawn(() =>
      fetch(`${server.url}/slow-head`, { signal: controller.signal })
    );
    await arrived;
    controller.abort(reason);
    await assert.rejects(worker.join(), (e) => e === reason);
    // A Request's own signal counts too when init has none.
    const controller2 = new AbortController();
    const arrived2 = server.nextRequest();
    const worker2 = spawn(() =>
      fetch(
        new Request(`${server.url}/slow-head`, { signal: controller2.signal }),
      )
    );
    await arrived2;
    controller2.abort(reason);
    await assert.rejects(worker2.join(), (e) => e === reason);
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: requests that finish in time are unaffected, in and out of tasklets", async () => {
  const server = slowServer();
  patchFetch();
  try {
    const inside = await spawn(() =>
      withTimeout(5000, async () => {
        const response = await fetch(`${server.url}/fast`);
        return await response.text();
      })
    ).join();
    assert.equal(inside, "fast body");
    const outside = await (await fetch(`${server.url}/fast`)).text();
    assert.equal(outside, "fast body");
    // A scope that ended long ago does not abort a response read later.
    const response = await withTimeout(50, () => fetch(`${server.url}/fast`));
    await sleep(80);
    assert.equal(await response.text(), "fast body");
  } finally {
    unpatchFetch();
    await server.close();
  }
});

Deno.test("patchFetch: idempotent and reversible", () => {
  const original = globalThis.fetch;
  patchFetch();
  const patched = globalThis.fetch;
  assert.notEqual(patched, original);
  patchFetch();
  assert.equal(globalThis.fetch, patched);
  unpatchFetch();
  assert.equal(globalThis.fetch, original);
  unpatchFetch();
  assert.equal(globalThis.fetch, original);
});
