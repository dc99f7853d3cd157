/**
 * Overhead of the patches: a keep-alive fetch loop and a Deno.connect loop
 * against a Deno.serve server in a child process, unpatched vs patched, in
 * the main tasklet, inside a tasklet, and inside a tasklet's timeout scope.
 *
 *   deno run -A --v8-flags=--expose-gc bench/patch.ts [--pairs=21] [--batch=200]
 *
 * Each round runs one unpatched/patched pair of batches per case, the cases
 * in a rotating order and the two sides of each pair in alternating order,
 * so that the machine's drifts hit both sides alike; every batch runs in a
 * new tasklet. The figure is CPU time of the JavaScript thread per
 * operation (clock_gettime(CLOCK_THREAD_CPUTIME_ID) through FFI; the
 * process's CPU time where libc cannot be opened): waiting for a busy core
 * is not in it, nor the GC and compiler helper threads, whose share shows in
 * the process-CPU ratio beside it. With `--expose-gc`, a young-generation GC
 * before and after each batch charges each batch for its own garbage.
 * Reported: the median of the pairs' patched/unpatched ratios with its
 * quartiles. Control rows tell what the ratios are worth: "same vs same"
 * runs identical unpatched batches on both sides (the noise floor), and
 * "own signal" gives the unpatched call a plain AbortSignal (Deno's own cost
 * of an abortable request or connect, which any real cancellation pays).
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

const options = new Map(
  Deno.args.map((arg) => {
    const [key, value] = arg.replace(/^--/, "").split("=");
    return [key, Number(value)] as const;
  }),
);
const pairs = options.get("pairs") ?? 21;
const requests = options.get("batch") ?? 200;
const connects = Math.max(1, Math.floor(requests / 4));

const gc = (globalThis as { gc?: (options?: { type: string }) => void }).gc;
const minorGc = gc === undefined ? () => {} : () => gc({ type: "minor" });

// CPU time of this thread alone: clock_gettime(CLOCK_THREAD_CPUTIME_ID)
// through libc. /proc/thread-self/schedstat is no substitute: for a running
// thread it lags by up to a scheduler tick.
const CLOCK_THREAD_CPUTIME_ID = 3;
const libc = (() => {
  try {
    return Deno.dlopen("libc.so.6", {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    });
  } catch {
    return undefined;
  }
})();
const timespec = new BigInt64Array(2);

/** CPU µs used so far by this thread (by the process, without libc). */
function threadCpu(): number {
  if (libc === undefined) return processCpu();
  libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, timespec);
  return Number(timespec[0]) * 1e6 + Number(timespec[1]) / 1000;
}

function processCpu(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

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

/** Runs `body` in the main tasklet, in a new tasklet, or in its scope. */
function runIn<T>(where: Where, body: () => Promise<T>): Promise<T> {
  if (where === "main") return body();
  if (where === "tasklet") return spawn(body).join();
  return spawn(() => withTimeout(60_000, body)).join();
}

// The same fetch machinery without the network: a steadier figure for the
// µs each side adds per call.
const dataUrl = "data:text/plain,hello%2C%20world";

async function fetchLoop(
  n: number,
  signal?: AbortSignal,
  target = url,
): Promise<void> {
  const init = signal === undefined ? undefined : { signal };
  for (let i = 0; i < n; i++) {
    const response = await fetch(target, init);
    await response.text();
  }
}

/** `n` fetches, each in a tasklet of its own (a tasklet per request). */
async function fetchPerTasklet(n: number, signal?: AbortSignal): Promise<void> {
  const init = signal === undefined ? undefined : { signal };
  for (let i = 0; i < n; i++) {
    await spawn(async () => {
      const response = await fetch(url, init);
      await response.text();
    }).join();
  }
}

async function connectLoop(n: number, signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < n; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port, signal });
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

interface Case {
  operation: string;
  where: Where;
  n: number;
  /** One batch of the case's unpatched (false) or patched (true) side. */
  side: (patched: boolean) => Promise<void>;
}

const ownSignal = new AbortController().signal;
const cases: Case[] = [];
for (const where of ["main", "tasklet", "scope"] as const) {
  cases.push({
    operation: "fetch",
    where,
    n: requests,
    side: (patched) => patchedRun(patched, where, () => fetchLoop(requests)),
  });
}
cases.push({
  operation: "fetch, a tasklet per request",
  where: "tasklet",
  n: requests,
  side: (patched) =>
    patchedRun(patched, "main", () => fetchPerTasklet(requests)),
});
cases.push({
  operation: "control: a tasklet per request, own signal",
  where: "tasklet",
  n: requests,
  side: (withSignal) =>
    fetchPerTasklet(requests, withSignal ? ownSignal : undefined),
});
for (const where of ["main", "tasklet", "scope"] as const) {
  cases.push({
    operation: "Deno.connect",
    where,
    n: connects,
    side: (patched) => patchedRun(patched, where, () => connectLoop(connects)),
  });
}
cases.push({
  operation: "control: same vs same",
  where: "tasklet",
  n: requests,
  side: () => runIn("tasklet", () => fetchLoop(requests)),
});
cases.push({
  operation: "control: fetch, own signal",
  where: "tasklet",
  n: requests,
  side: (withSignal) =>
    runIn(
      "tasklet",
      () => fetchLoop(requests, withSignal ? ownSignal : undefined),
    ),
});
cases.push({
  operation: "fetch of a data: URL",
  where: "tasklet",
  n: requests * 4,
  side: (patched) =>
    patchedRun(
      patched,
      "tasklet",
      () => fetchLoop(requests * 4, undefined, dataUrl),
    ),
});
cases.push({
  operation: "control: fetch of a data: URL, own signal",
  where: "tasklet",
  n: requests * 4,
  side: (withSignal) =>
    runIn(
      "tasklet",
      () =>
        fetchLoop(
          requests * 4,
          withSignal ? ownSignal : undefined,
          dataUrl,
        ),
    ),
});
cases.push({
  operation: "control: connect, own signal",
  where: "tasklet",
  n: connects,
  side: (withSignal) =>
    runIn(
      "tasklet",
      () => connectLoop(connects, withSignal ? ownSignal : undefined),
    ),
});

async function patchedRun(
  patched: boolean,
  where: Where,
  loop: () => Promise<void>,
): Promise<void> {
  patch(patched);
  try {
    await runIn(where, loop);
  } finally {
    patch(false);
  }
}

interface Sample {
  thread: number;
  process: number;
  wall: number;
}

/** Thread CPU, process CPU and wall µs per operation of one batch. */
async function measure(c: Case, patched: boolean): Promise<Sample> {
  minorGc();
  const thread = threadCpu();
  const cpu = processCpu();
  const started = performance.now();
  await c.side(patched);
  minorGc();
  return {
    thread: (threadCpu() - thread) / c.n,
    process: (processCpu() - cpu) / c.n,
    wall: (performance.now() - started) * 1000 / c.n,
  };
}

const samples = cases.map(() => ({
  plain: [] as Sample[],
  patched: [] as Sample[],
}));

try {
  // Warm-up: both sides of every case, so that the JIT has seen them all.
  for (const c of cases) {
    await measure(c, false);
    await measure(c, true);
  }
  for (let round = 0; round < pairs; round++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (round + k) % cases.length;
      const patchedFirst = round % 2 === 1;
      const first = await measure(cases[index], patchedFirst);
      const second = await measure(cases[index], !patchedFirst);
      samples[index].plain.push(patchedFirst ? second : first);
      samples[index].patched.push(patchedFirst ? first : second);
    }
  }
} finally {
  await child.stdin.close();
  await reader.cancel();
  await child.status;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}
const median = (values: number[]) => quantile(values, 0.5);

console.log(
  `pairs=${pairs}, batches of ${requests} fetches / ${connects} connects; ` +
    `CPU = ${
      libc === undefined ? "process (cpuUsage)" : "JavaScript thread"
    }; young GC per batch: ${gc === undefined ? "no (no --expose-gc)" : "yes"}`,
);
console.log(
  "| operation | where | unpatched CPU µs | patched CPU µs | added µs (median of pairs) | ratio: median of pairs (q1-q3) | process CPU ratio | unpatched wall µs | patched wall µs |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
cases.forEach((c, i) => {
  const { plain, patched } = samples[i];
  const ratios = plain.map((p, j) => patched[j].thread / p.thread);
  const added = plain.map((p, j) => patched[j].thread - p.thread);
  const processRatios = plain.map((p, j) => patched[j].process / p.process);
  const f = (x: number) => x.toFixed(1);
  const r = (x: number) => x.toFixed(3);
  console.log(
    `| ${c.operation} | ${c.where} | ${
      f(median(plain.map((s) => s.thread)))
    } | ${f(median(patched.map((s) => s.thread)))} | ${f(median(added))} | ${
      r(median(ratios))
    } (${r(quantile(ratios, 0.25))}-${r(quantile(ratios, 0.75))}) | ${
      r(median(processRatios))
    } | ${f(median(plain.map((s) => s.wall)))} | ${
      f(median(patched.map((s) => s.wall)))
    } |`,
  );
});

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
    const results: [number[], number[]] = [[], []];
    for (let r = 0; r < pairs; r++) {
      for (const patched of [false, true]) {
        if (patched) patchFetch();
        const started = threadCpu();
        await runIn(where, loop);
        results[patched ? 1 : 0].push((threadCpu() - started) / calls);
        unpatchFetch();
      }
    }
    return [median(results[0]), median(results[1])];
  } finally {
    globalThis.fetch = realFetch;
  }
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
libc?.close();
