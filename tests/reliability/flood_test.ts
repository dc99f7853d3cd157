// Floods: thousands of concurrent connections, connection churn, and running
// out of file descriptors (a server under `ulimit -n 256` in a child process)
// must be survived, with service resuming once descriptors free up.
// `deno task stress` runs the 100k-connection churn.

import assert from "node:assert/strict";
import { Tasklet } from "../../coio/mod.ts";
import { serve } from "../../wsgi/mod.ts";
import {
  exchangeRaw,
  HAS_PROC,
  openFds,
  openFdsOf,
  pool,
  responsesOf,
  waitUntil,
} from "./_net.ts";
import { parseResponse } from "../wsgi/_helpers.ts";

const encoder = new TextEncoder();
const GET = encoder.encode("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
const GET_CLOSE = encoder.encode(
  "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
);
const CONCURRENT = Number(Deno.env.get("SYNCLESS_FLOOD_CONNECTIONS") ?? 5_000);
const CHURN = Number(Deno.env.get("SYNCLESS_CHURN_CONNECTIONS") ?? 5_000);

function okApp() {
  return serve((_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return "ok";
  }, { port: 0, headersTimeout: 60_000, keepAliveTimeout: 60_000 });
}

/** Reads one response from `conn` (the server keeps the connection open). */
async function readOne(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const parsed = parseResponse(text);
    if (parsed !== null) return parsed.status;
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed after ${JSON.stringify(text)}`);
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

Deno.test(`${CONCURRENT} concurrent keep-alive connections, two requests each`, async () => {
  if (!HAS_PROC) {
    console.log("SKIP: counting descriptors needs /proc (Linux)");
    return;
  }
  const taskletsBefore = Tasklet.aliveCount;
  const fdsBefore = openFds();
  const server = okApp();
  const port = server.addr.port!;
  const conns: Deno.Conn[] = [];
  try {
    // Ramp up 500 at a time (a SYN burst beyond the backlog would only
    // measure the kernel's retry timer).
    await pool(CONCURRENT, 500, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await conn.write(GET);
      assert.equal(await readOne(conn), 200);
    });
    assert.equal(conns.length, CONCURRENT);
    // All of them open at once, each served again.
    assert.ok(openFds() >= fdsBefore + 2 * CONCURRENT, "all connections open");
    let served = 0;
    await pool(CONCURRENT, 1000, async (i) => {
      await conns[i].write(GET);
      assert.equal(await readOne(conns[i]), 200);
      served++;
    });
    assert.equal(served, CONCURRENT);
  } finally {
    for (const conn of conns) conn.close();
  }
  assert.ok(
    await waitUntil(() => openFds() <= fdsBefore + 2, 10_000),
    `descriptors: ${openFds()}, started with ${fdsBefore}`,
  );
  await server.shutdown();
  // The accept loop's tasklet ends right after `finished` resolves.
  assert.ok(
    await waitUntil(() => Tasklet.aliveCount === taskletsBefore, 1_000),
    `${Tasklet.aliveCount - taskletsBefore} tasklets left behind`,
  );
});

Deno.test(`connection churn: ${CHURN} short connections`, async () => {
  if (!HAS_PROC) {
    console.log("SKIP: counting descriptors needs /proc (Linux)");
    return;
  }
  const taskletsBefore = Tasklet.aliveCount;
  const fdsBefore = openFds();
  const server = okApp();
  const port = server.addr.port!;
  let ok = 0;
  try {
    await pool(CHURN, 50, async () => {
      const result = await exchangeRaw(port, GET_CLOSE, 10_000);
      const responses = responsesOf(result.data);
      assert.equal(responses.length, 1);
      assert.equal(responses[0].status, 200);
      ok++;
    });
    assert.equal(ok, CHURN);
    assert.ok(
      await waitUntil(() => openFds() <= fdsBefore + 2, 10_000),
      `descriptors: ${openFds()}, started with ${fdsBefore}`,
    );
  } finally {
    await server.shutdown();
  }
  // The accept loop's tasklet ends right after `finished` resolves.
  assert.ok(
    await waitUntil(() => Tasklet.aliveCount === taskletsBefore, 1_000),
    `${Tasklet.aliveCount - taskletsBefore} tasklets left behind`,
  );
});

Deno.test("out of descriptors (ulimit -n 256): accept errors survived, service resumes", async () => {
  if (!HAS_PROC) {
    console.log("SKIP: counting descriptors needs /proc (Linux)");
    return;
  }
  const script = new URL("./_limited_server.ts", import.meta.url).pathname;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 256 && exec "$0" run -A --unstable-net "$1"`,
      Deno.execPath(),
      script,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const port = Number(line.trim());
  const held: Deno.Conn[] = [];
  try {
    assert.ok(port > 0, `child said ${JSON.stringify(line)}`);
    // 300 idle connections: more than the child has descriptors for.
    for (let i = 0; i < 300; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    assert.ok(
      await waitUntil(() => openFdsOf(child.pid) >= 250, 10_000),
      `the child should run out of descriptors (${openFdsOf(child.pid)})`,
    );
    // A request queued behind the limit...
    const pending = exchangeRaw(port, GET_CLOSE, 20_000);
    // ...while the server stays out of descriptors for a while: Deno sets
    // up its signal handling lazily during its first seconds, and used to
    // panic (EMFILE) when that came while a server had no descriptor left.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // ...is served once descriptors are freed.
    for (const conn of held.splice(0, 200)) conn.close();
    const result = await pending;
    assert.equal(result.timedOut, false, "service did not resume");
    assert.equal(responsesOf(result.data)[0]?.status, 200);
    // The remaining held connections were accepted meanwhile and work.
    for (const conn of held) {
      await conn.write(GET);
      assert.equal(await readOne(conn), 200);
    }
  } finally {
    for (const conn of held) conn.close();
    await child.stdin.close();
    await child.stdout.cancel();
  }
  const status = await child.status;
  const errors = await stderr;
  assert.equal(status.code, 0, `child failed: ${errors}`);
  assert.doesNotMatch(errors, /server error|Uncaught|panic/, errors);
});
