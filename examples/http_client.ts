/**
 * HTTP downloads in tasklets with a progress ticker (Syncless's
 * demo_https_client). `patchFetch()` makes the ordinary `fetch` obey coio:
 * a `withTimeout` around a download aborts the request and its body, wherever
 * it is waiting. A ticker tasklet prints the progress meanwhile.
 *
 *     deno run -A examples/http_client.ts    # local server port 8005, env PORT
 *
 * It starts its own slow HTTP server (`/N` streams N KiB, one every
 * `CHUNK_MS`, 100 by default), so no network is needed.
 *
 * @module
 */
import {
  patchFetch,
  serve,
  sleep,
  spawn,
  TimeoutError,
  unpatchFetch,
  withTimeout,
} from "@syncless/syncless";
import { portArg } from "./_cli.ts";

const chunkMs = Number(Deno.env.get("CHUNK_MS") ?? 100);

// The server: our serve() with a WSGI-style app streaming its body.
const server = serve((environ, startResponse) => {
  const kib = Number(environ.PATH_INFO.slice(1)) || 1;
  startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
  return (async function* () {
    for (let i = 0; i < kib; i++) {
      await sleep(chunkMs);
      yield new Uint8Array(1024);
    }
  })();
}, { hostname: "127.0.0.1", port: portArg(8005) });
const base = `http://127.0.0.1:${server.addr.port}`;
console.log(`slow HTTP server listening on 127.0.0.1:${server.addr.port}`);

patchFetch();
const received = new Map<string, number>();

async function download(path: string): Promise<number> {
  const response = await fetch(base + path);
  received.set(path, 0);
  for await (const chunk of response.body!) {
    received.set(path, received.get(path)! + chunk.length);
  }
  return received.get(path)!;
}

const ticker = spawn(async () => {
  for (;;) {
    await sleep(chunkMs * 2);
    const parts = [...received].map(([path, n]) => `${path} ${n} B`);
    console.log(`progress: ${parts.join(", ")}`);
  }
});

// Three downloads at once; each may take at most 1.5 s (15 chunks).
const deadline = chunkMs * 15;
const paths = ["/3", "/8", "/40"];
const jobs = paths.map((path) =>
  spawn(() => withTimeout(deadline, () => download(path)))
);
for (const [i, job] of jobs.entries()) {
  try {
    console.log(`${paths[i]}: done, ${await job.join()} bytes`);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    console.log(`${paths[i]}: timed out after ${deadline} ms`);
  }
}

ticker.kill();
unpatchFetch();
await server.shutdown();
