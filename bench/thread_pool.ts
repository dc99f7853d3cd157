/**
 * ThreadPool benchmarks, each measured side by side, in the same run, with
 * hand-written workers that do the same calls with no pool around them. The
 * machine is shared (2 cores) and noisy: only ratios measured in one run
 * mean anything.
 *
 * - `round-trip`: 20k sequential calls of a tiny function (`add(i, 1)`) on
 *   one worker: `ThreadPool(1).run()` against a raw `node:worker_threads`
 *   worker and a raw Web Worker answering the same message.
 * - `parallel`: 2 x 10k calls from 2 tasklets on `ThreadPool(2)`, against 2
 *   raw `node:worker_threads` workers driven by 2 async functions.
 * - `cpu`: 4 CPU-bound calls (fib(30)) on `ThreadPool(2)` against the same 4
 *   calls run one after the other on the main thread.
 *
 * Run: `deno run -A bench/thread_pool.ts [--reps=5] [--only=round-trip,parallel,cpu]`
 *
 * @module
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { spawn, ThreadPool } from "../coio/mod.ts";

const args = new Map(
  Deno.args.map((arg) => arg.replace(/^--/, "").split("=") as [string, string]),
);
const reps = Number(args.get("reps") ?? 5);
const only = new Set(
  (args.get("only") ?? "round-trip,parallel,cpu").split(","),
);

// The functions every variant calls.
const FUNCTIONS = `
export function add(a, b) { return a + b; }
export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
`;
const functionsUrl = "data:text/javascript," + encodeURIComponent(FUNCTIONS);

// A raw worker: answers [a, b] with add(a, b), nothing else.
function rawSource(port: "node" | "web"): string {
  return port === "node"
    ? `import { parentPort } from "node:worker_threads";
       import { add } from ${JSON.stringify(functionsUrl)};
       parentPort.on("message", ([a, b]) => parentPort.postMessage(add(a, b)));`
    : `import { add } from ${JSON.stringify(functionsUrl)};
       self.onmessage = (e) => self.postMessage(add(e.data[0], e.data[1]));`;
}

function dataUrl(source: string): URL {
  return new URL("data:text/javascript," + encodeURIComponent(source));
}

/** Sends `calls` messages one after the other and awaits each answer. */
async function driveNode(worker: NodeWorker, calls: number): Promise<void> {
  let resolve!: (value: number) => void;
  worker.on("message", (value: number) => resolve(value));
  for (let i = 0; i < calls; i++) {
    const answer = new Promise<number>((r) => resolve = r);
    worker.postMessage([i, 1]);
    if (await answer !== i + 1) throw new Error("wrong answer");
  }
}

async function onlineNode(): Promise<NodeWorker> {
  const worker = new NodeWorker(dataUrl(rawSource("node")));
  await new Promise((resolve) => worker.once("online", resolve));
  return worker;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs each variant `reps` times, interleaved, and prints medians and
 * ratios. A variant returns the milliseconds it measured (its set-up, such
 * as starting workers, is left out).
 */
async function compare(
  title: string,
  operations: number,
  variants: Record<string, () => Promise<number>>,
): Promise<void> {
  console.log(`${title} (${operations.toLocaleString("en")} calls)`);
  const times: Record<string, number[]> = {};
  for (const name in variants) times[name] = [];
  for (let r = 0; r < reps; r++) {
    for (const name in variants) times[name].push(await variants[name]());
  }
  const names = Object.keys(variants);
  const base = median(times[names[0]]);
  for (const name of names) {
    const ms = median(times[name]);
    console.log(
      `  ${name.padEnd(30)} median ${ms.toFixed(1).padStart(8)} ms  ` +
        `${(operations / ms * 1000).toFixed(0).padStart(7)} calls/s  ` +
        `time ratio ${(ms / base).toFixed(2)}x`,
    );
  }
}

if (only.has("round-trip")) {
  const calls = 20_000;
  await compare("round-trip: sequential calls on one worker", calls, {
    "ThreadPool(1).run": async () => {
      using pool = new ThreadPool(1);
      await pool.run(functionsUrl, "add", 0, 1); // start the worker
      const start = performance.now();
      for (let i = 0; i < calls; i++) {
        if (await pool.run(functionsUrl, "add", i, 1) !== i + 1) {
          throw new Error("wrong answer");
        }
      }
      return performance.now() - start;
    },
    "raw node:worker_threads": async () => {
      const worker = await onlineNode();
      const start = performance.now();
      await driveNode(worker, calls);
      const ms = performance.now() - start;
      await worker.terminate();
      return ms;
    },
    "raw Web Worker": async () => {
      const worker = new Worker(dataUrl(rawSource("web")), { type: "module" });
      let resolve!: (value: number) => void;
      worker.onmessage = (e) => resolve(e.data);
      const first = new Promise<number>((r) => resolve = r);
      worker.postMessage([0, 1]);
      await first;
      const start = performance.now();
      for (let i = 0; i < calls; i++) {
        const answer = new Promise<number>((r) => resolve = r);
        worker.postMessage([i, 1]);
        if (await answer !== i + 1) throw new Error("wrong answer");
      }
      const ms = performance.now() - start;
      worker.terminate();
      return ms;
    },
  });
}

if (only.has("parallel")) {
  const each = 10_000;
  await compare("parallel: 2 callers on 2 workers", 2 * each, {
    "ThreadPool(2), 2 tasklets": async () => {
      using pool = new ThreadPool(2);
      await Promise.all([
        pool.run(functionsUrl, "add", 0, 1),
        pool.run(functionsUrl, "add", 0, 1),
      ]);
      const start = performance.now();
      const callers = [0, 1].map(() =>
        spawn(async () => {
          for (let i = 0; i < each; i++) {
            await pool.run(functionsUrl, "add", i, 1);
          }
        })
      );
      for (const caller of callers) await caller.join();
      return performance.now() - start;
    },
    "2 raw node:worker_threads": async () => {
      const workers = await Promise.all([onlineNode(), onlineNode()]);
      const start = performance.now();
      await Promise.all(workers.map((worker) => driveNode(worker, each)));
      const ms = performance.now() - start;
      for (const worker of workers) await worker.terminate();
      return ms;
    },
  });
}

if (only.has("cpu")) {
  const n = 30;
  const fib = (k: number): number => k < 2 ? k : fib(k - 1) + fib(k - 2);
  await compare(`cpu: 4 x fib(${n})`, 4, {
    "ThreadPool(2)": async () => {
      using pool = new ThreadPool(2);
      await Promise.all([
        pool.run(functionsUrl, "add", 0, 1),
        pool.run(functionsUrl, "add", 0, 1),
      ]);
      const start = performance.now();
      await Promise.all(
        [1, 2, 3, 4].map(() => pool.run(functionsUrl, "fib", n)),
      );
      return performance.now() - start;
    },
    "main thread, one after another": () => {
      const start = performance.now();
      for (let i = 0; i < 4; i++) fib(n);
      return Promise.resolve(performance.now() - start);
    },
  });
}
