// Graceful shutdown under load: keep-alive and pipelining clients keep
// sending while the server shuts down; every request the app started must
// reach its client whole, every response after the start of the shutdown
// says Connection: close, and shutdown ends by itself.

import assert from "node:assert/strict";
import { sleep } from "../../coio/mod.ts";
import { serve } from "../../wsgi/mod.ts";
import { parseResponse } from "../wsgi/_helpers.ts";
import { isReset } from "./_net.ts";
import { Prng } from "./_prng.ts";

const CLIENTS = 50;
const SHUTDOWN_AFTER = 2_000;

function bodyFor(id: string, size: number): string {
  return `${id};`.padEnd(size, "x");
}

Deno.test(`graceful shutdown under load: ${CLIENTS} clients, no lost or truncated response`, async () => {
  const started = new Set<string>();
  let answered = 0;
  let shutdownStarted = false;
  let triggerShutdown!: () => void;
  const shutdownWanted = new Promise<void>((r) => (triggerShutdown = r));
  const server = serve(async (environ, startResponse) => {
    const id = String(environ.PATH_INFO).slice(1);
    started.add(id);
    const size = Number(environ.QUERY_STRING);
    // Some answers take a while, so that shutdown finds them in progress.
    if (size % 3 === 0) await sleep(size % 20);
    if (size % 2 === 0) {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return bodyFor(id, size);
    }
    // Streamed (chunked) in pieces, with a wait in the middle.
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    const body = bodyFor(id, size);
    return (async function* () {
      yield body.slice(0, size >> 1);
      await sleep(1);
      yield body.slice(size >> 1);
    })();
  }, { port: 0, keepAliveTimeout: 30_000, headersTimeout: 30_000 });
  const port = server.addr.port!;

  const received = new Set<string>();
  const failures: string[] = [];
  let closeAfterShutdown = 0;

  const client = async (c: number) => {
    const rng = new Prng(c + 1);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const buf = new Uint8Array(65536);
    let pending = "";
    try {
      for (let seq = 0;; seq += 1) {
        // One request, or a pipelined batch of three.
        const batch = rng.chance(0.3) ? 3 : 1;
        const ids: [string, number][] = [];
        let request = "";
        for (let k = 0; k < batch; k++) {
          const id = `${c}-${seq}-${k}`;
          const size = rng.range(1, 20_000);
          ids.push([id, size]);
          request += `GET /${id}?${size} HTTP/1.1\r\nHost: h\r\n\r\n`;
        }
        const sentBeforeShutdown = !shutdownStarted;
        try {
          await conn.write(new TextEncoder().encode(request));
        } catch (error) {
          if (isReset(error)) return; // closed by the shutdown: never sent
          throw error;
        }
        for (const [id, size] of ids) {
          let response = parseResponse(pending);
          while (response === null) {
            let n: number | null;
            try {
              n = await conn.read(buf);
            } catch (error) {
              if (!isReset(error)) throw error;
              n = null;
            }
            if (n === null) {
              // Closed: fine only if nothing of this response had come.
              if (pending !== "") {
                failures.push(`truncated ${id}: ${pending.length} bytes`);
              }
              return;
            }
            pending += new TextDecoder("latin1").decode(buf.subarray(0, n));
            response = parseResponse(pending);
          }
          pending = pending.slice(response.length);
          if (response.status !== 200 || response.body !== bodyFor(id, size)) {
            failures.push(`bad response for ${id}: ${response.status}`);
          }
          received.add(id);
          if (++answered === SHUTDOWN_AFTER) triggerShutdown();
          if (response.headers["connection"] === "close") {
            if (!sentBeforeShutdown || shutdownStarted) closeAfterShutdown++;
            return;
          }
        }
      }
    } finally {
      conn.close();
    }
  };

  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  await shutdownWanted;
  shutdownStarted = true;
  const shutdownAt = performance.now();
  await server.shutdown();
  const shutdownMs = performance.now() - shutdownAt;
  await Promise.all(clients);

  assert.deepEqual(failures, []);
  assert.ok(answered >= SHUTDOWN_AFTER);
  const lost = [...started].filter((id) => !received.has(id));
  assert.deepEqual(
    lost,
    [],
    "requests the app started but the client never got",
  );
  assert.ok(
    closeAfterShutdown > 0,
    "in-progress responses said Connection: close",
  );
  assert.ok(shutdownMs < 5_000, `shutdown took ${shutdownMs.toFixed(0)} ms`);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
    "no longer listening",
  );
});
