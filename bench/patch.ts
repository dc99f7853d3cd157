/**
 * Overhead of the patches: a keep-alive fetch loop and a Deno.connect loop
 * against a Deno.serve server in a child process, unpatched vs patched, in
 * the main tasklet, inside a tasklet, and inside a tasklet's timeout scope.
 * Scenarios alternate round by round so that the machine's noise hits them
 * alike; the figures are medians over rounds of the time per operation.
 *
 *   deno run -A bench/patch.ts [pairs=15] [requests per batch=100]
 */
import process from "node:process";
import { spawn } from "../coio/spawn.ts";
import { withTimeout } from "../coio/with_timeout.ts";
import { patchDeno, unpatchDeno } from "../patch/deno.ts";
import { patchFetch, unpatchFetch } from "../patch/fetch.ts";

if (Deno.args[0] === "--server") {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("hello, world"),
  );
  console.log(server.addr.port);
  // Ends when the parent closes our stdin.
  for await (const _ of Deno.stdin.readable);
  await server.shutdown();
  Deno.exit(0);
}

const rounds = Number(Deno.args[0] ?? 15);
const requests = Number(Deno.args[1] ?? 100);

const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL(import.meta.url).pathname, "--server"],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let firstLine = "";
while (!firstLine.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("server did not start");
  firstLine += value;
}
const port = Number(firstLine.trim());
const url = `http://127.0.0.1:${port}/`;

type Where = "main" | "tasklet" | "scope";

/** Runs `body` in the main tasklet, in a tasklet, or in a tasklet's scope. */
function runIn<T>(where: Where, body: () => Promise<T>): Promise<T> {
  if (where === "main") return body();
  if (where === "tasklet") return spawn(body).join();
  return spawn(() => withTimeout(60_000, body)).join();
}

async function fetchLoop(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await fetch(url);
    await response.text();
  }
}

async function connectLoop(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
  }
}

function patch(on: boolean): void {
  if (on) {
    patchFetch();
    patchDeno();
  } else {
    unpatchFetch();
    unpatchDeno();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * CPU µs (user + system, this process only: the server is a child) and wall
 * µs per operation of one batch, patched or not, in `where`. CPU time is the
 * steadier figure on a shared machine: waiting for a busy core is not in it.
 */
async function batch(
  loop: (n: number) => Promise<void>,
  n: number,
  where: Where,
  patched: boolean,
): Promise<{ cpu: number; wall: number }> {
  patch(patched);
  try {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    await runIn(where, () => loop(n));
    const wall = (performance.now() - started) * 1000 / n;
    const { user, system } = process.cpuUsage(cpuStart);
    return { cpu: (user + system) / n, wall };
  } finally {
    patch(false);
  }
}

interface Row {
  operation: string;
  where: Where;
  plain: number[];
  patched: number[];
  ratios: number[];
  plainWall: number[];
  patchedWall: number[];
}

const rows: Row[] = [];
const loops = [
  ["fetch", fetchLoop, requests],
  ["Deno.connect", connectLoop, Math.max(1, Math.floor(requests / 3))],
] as const;

try {
  for (const [operation, loop, n] of loops) {
    for (const where of ["main", "tasklet", "scope"] as const) {
      const row: Row = {
        operation,
        where,
        plain: [],
        patched: [],
        ratios: [],
        plainWall: [],
        patchedWall: [],
      };
      await batch(loop, n, where, false); // warm-up
      await batch(loop, n, where, true);
      // Adjacent pairs, in alternating order, so drifts in the machine's load
      // hit both sides of each ratio alike.
      for (let pair = 0; pair < rounds; pair++) {
        const patchedFirst = pair % 2 === 1;
        const first = await batch(loop, n, where, patchedFirst);
        const second = await batch(loop, n, where, !patchedFirst);
        const [plain, patched] = patchedFirst
          ? [second, first]
          : [first, second];
        row.plain.push(plain.cpu);
        row.patched.push(patched.cpu);
        row.ratios.push(patched.cpu / plain.cpu);
        row.plainWall.push(plain.wall);
        row.patchedWall.push(patched.wall);
      }
      rows.push(row);
    }
  }
} finally {
  await child.stdin.close();
  await reader.cancel();
  await child.status;
}

// The wrapper alone: the same calls on a transport that answers at once, so
// that what is left is the patch's own work per call.
async function wrapperOverhead(where: Where): Promise<[number, number]> {
  const realFetch = globalThis.fetch;
  const response = new Response(null);
  globalThis.fetch = () => Promise.resolve(response);
  const calls = 20_000;
  const loop = async () => {
    for (let i = 0; i < calls; i++) await fetch(url);
  };
  try {
    const samples: [number[], number[]] = [[], []];
    for (let r = 0; r < rounds; r++) {
      for (const patched of [false, true]) {
        if (patched) patchFetch();
        const started = performance.now();
        await runIn(where, loop);
        samples[patched ? 1 : 0].push(
          (performance.now() - started) * 1000 / calls,
        );
        unpatchFetch();
      }
    }
    return [median(samples[0]), median(samples[1])];
  } finally {
    globalThis.fetch = realFetch;
  }
}

console.log(
  `pairs=${rounds} batch=${requests} fetches (${
    Math.max(1, Math.floor(requests / 3))
  } connects): medians over adjacent unpatched/patched batch pairs; ` +
    `ratio = median of the pairs' patched/unpatched CPU time`,
);
console.log(
  "| operation | where | unpatched CPU µs | patched CPU µs | ratio | unpatched wall µs | patched wall µs |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const row of rows) {
  console.log(
    `| ${row.operation} | ${row.where} | ${median(row.plain).toFixed(1)} | ${
      median(row.patched).toFixed(1)
    } | ${median(row.ratios).toFixed(3)} | ${
      median(row.plainWall).toFixed(1)
    } | ${median(row.patchedWall).toFixed(1)} |`,
  );
}
console.log("");
console.log("fetch wrapper alone (a stub transport that answers at once):");
console.log("| where | unpatched µs/call | patched µs/call | added µs/call |");
console.log("| --- | ---: | ---: | ---: |");
for (const where of ["main", "tasklet", "scope"] as const) {
  const [plain, patched] = await wrapperOverhead(where);
  console.log(
    `| ${where} | ${plain.toFixed(2)} | ${patched.toFixed(2)} | ${
      (patched - plain).toFixed(2)
    } |`,
  );
}
