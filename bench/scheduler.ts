/**
 * Scheduler benchmarks, each measured side by side with its plain-JavaScript
 * alternative in the same run (the machine is shared, so only ratios measured
 * in one run mean anything):
 *
 * - `spawn`: spawn + join of 1 M tasklets alive at once, against bare async
 *   functions started and awaited the same way (and the same with one
 *   `AsyncLocalStorage.run` per call, the floor for anything that tracks a
 *   current tasklet).
 * - `sleep`: 100k tasklets each sleeping 500 ms, first spawn to last wake-up,
 *   against 100k bare `setTimeout` sleeps.
 * - `heap`: heap per sleeping tasklet against a bare sleeping async function
 *   (needs `--v8-flags=--expose-gc`).
 * - `rounds`: two tasklets ping-ponging through `schedule()`, and how long a
 *   timer waits meanwhile (the scheduler yields to the event loop about every
 *   millisecond).
 *
 * Run: `deno run -A --v8-flags=--expose-gc bench/scheduler.ts [--reps=5]
 * [--only=spawn,sleep,heap,rounds]`
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { schedule, sleep, spawn, type Tasklet } from "../coio/mod.ts";

const args = new Map(
  Deno.args.map((arg) => arg.replace(/^--/, "").split("=") as [string, string]),
);
const reps = Number(args.get("reps") ?? 5);
const only = new Set(
  (args.get("only") ?? "spawn,sleep,heap,rounds").split(","),
);
const gc = (globalThis as { gc?: () => void }).gc;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function collect(): void {
  gc?.();
  gc?.();
}

/**
 * Median, over the reps, of the ratio `a / b` of two variants measured back
 * to back in the same rep: less sensitive to a noisy neighbour than the ratio
 * of the medians.
 */
let lastTimes: Record<string, number[]> = {};
function pairedRatio(a: string, b: string): number {
  const ta = lastTimes[a];
  const tb = lastTimes[b];
  return median(ta.map((t, i) => t / tb[i]));
}

/** Runs each variant `reps` times, interleaved, and returns median ms. */
async function compare(
  variants: Record<string, () => Promise<number>>,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (const name in variants) times[name] = [];
  for (let r = 0; r < reps; r++) {
    for (const name in variants) {
      collect();
      times[name].push(await variants[name]());
    }
  }
  lastTimes = times;
  const medians: Record<string, number> = {};
  for (const name in variants) {
    medians[name] = median(times[name]);
    console.log(
      `  ${name.padEnd(24)} median ${medians[name].toFixed(1).padStart(8)} ms` +
        `  (runs: ${times[name].map((t) => t.toFixed(0)).join(", ")})`,
    );
  }
  return medians;
}

// --- spawn + join of 1 M tasklets alive at once ---------------------------

const SPAWN_N = 1_000_000;
const body = async (x: number) => {
  await null;
  return x;
};

async function bareSpawn(): Promise<number> {
  const start = performance.now();
  const promises: Promise<number>[] = [];
  for (let i = 0; i < SPAWN_N; i++) promises.push(body(i));
  for (const p of promises) await p;
  return performance.now() - start;
}

const storage = new AsyncLocalStorage<object>();
async function bareAlsSpawn(): Promise<number> {
  const start = performance.now();
  const promises: Promise<number>[] = [];
  for (let i = 0; i < SPAWN_N; i++) {
    promises.push(storage.run({ i }, body, i));
  }
  for (const p of promises) await p;
  return performance.now() - start;
}

async function taskletSpawn(): Promise<number> {
  const start = performance.now();
  const tasklets: Tasklet<number>[] = [];
  for (let i = 0; i < SPAWN_N; i++) tasklets.push(spawn(body, i));
  for (const t of tasklets) await t.join();
  return performance.now() - start;
}

// The same, but every body first waits for a gate that opens once all of them
// exist, so that 1 M of them are suspended at the same time.
let openGate: () => void = () => {};
let gate: Promise<void> = Promise.resolve();
function closeGate(): void {
  gate = new Promise<void>((resolve) => openGate = resolve);
}
const gatedBody = async (x: number) => {
  await gate;
  return x;
};

async function bareGated(): Promise<number> {
  closeGate();
  const start = performance.now();
  const promises: Promise<number>[] = [];
  for (let i = 0; i < SPAWN_N; i++) promises.push(gatedBody(i));
  openGate();
  for (const p of promises) await p;
  return performance.now() - start;
}

async function bareAlsGated(): Promise<number> {
  closeGate();
  const start = performance.now();
  const promises: Promise<number>[] = [];
  for (let i = 0; i < SPAWN_N; i++) {
    promises.push(storage.run({ i }, gatedBody, i));
  }
  openGate();
  for (const p of promises) await p;
  return performance.now() - start;
}

async function taskletGated(): Promise<number> {
  closeGate();
  const start = performance.now();
  const tasklets: Tasklet<number>[] = [];
  for (let i = 0; i < SPAWN_N; i++) tasklets.push(spawn(gatedBody, i));
  // Opened once they have all started and wait (a turn of the run queue).
  await schedule();
  openGate();
  for (const t of tasklets) await t.join();
  return performance.now() - start;
}

// --- 100k sleeps of 500 ms --------------------------------------------------

const SLEEP_N = 100_000;
const SLEEP_MS = 500;

function bareSleeper(): Promise<void> {
  return (async () => {
    await new Promise((resolve) => setTimeout(resolve, SLEEP_MS));
  })();
}

function taskletSleeper(): Tasklet<void> {
  return spawn(async () => {
    await sleep(SLEEP_MS);
  });
}

async function bareSleep(): Promise<number> {
  const start = performance.now();
  const promises: Promise<void>[] = [];
  for (let i = 0; i < SLEEP_N; i++) promises.push(bareSleeper());
  await Promise.all(promises);
  return performance.now() - start;
}

async function taskletSleep(): Promise<number> {
  const start = performance.now();
  const tasklets: Tasklet<void>[] = [];
  for (let i = 0; i < SLEEP_N; i++) tasklets.push(taskletSleeper());
  for (const t of tasklets) await t.join();
  return performance.now() - start;
}

// For the heap figure, sleepers that sleep long enough to be measured under
// any load, then are woken early: bare ones through their timer, tasklets
// through wake().
const LONG_MS = 60_000;
let parked = 0;

function bareLongSleeper(): [() => Promise<void>, () => void] {
  let wake = () => {};
  const promise = (async () => {
    await new Promise<void>((resolve) => {
      const id = setTimeout(resolve, LONG_MS);
      wake = () => {
        clearTimeout(id);
        resolve();
      };
      parked++;
    });
  })();
  return [() => promise, () => wake()];
}

function taskletLongSleeper(): [() => Promise<void>, () => void] {
  const t = spawn(async () => {
    parked++;
    await sleep(LONG_MS);
  });
  // Joined only after the measurement: a join is a wait of its own.
  return [() => t.join(), () => t.wake()];
}

/** Heap bytes per sleeper, measured once all of them sleep. */
async function heapPerSleeper(
  start: () => [() => Promise<void>, () => void],
): Promise<number> {
  collect();
  const before = Deno.memoryUsage().heapUsed;
  parked = 0;
  const sleepers: [() => Promise<void>, () => void][] = [];
  for (let i = 0; i < SLEEP_N; i++) sleepers.push(start());
  while (parked < SLEEP_N) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 10));
  collect();
  const during = Deno.memoryUsage().heapUsed;
  for (const [, wake] of sleepers) wake();
  for (const [end] of sleepers) await end();
  return (during - before) / SLEEP_N;
}

// --- schedule() rounds and timer latency while spinning -----------------------

async function rounds(): Promise<number> {
  const turns = 1_000_000;
  const start = performance.now();
  const spinner = async () => {
    for (let i = 0; i < turns; i++) await schedule();
  };
  const a = spawn(spinner);
  const b = spawn(spinner);
  await a.join();
  await b.join();
  return performance.now() - start;
}

async function timerLatencyWhileSpinning(): Promise<number[]> {
  let spinning = true;
  const spinner = async () => {
    while (spinning) await schedule();
  };
  const a = spawn(spinner);
  const b = spawn(spinner);
  const lateness: number[] = [];
  for (let i = 0; i < 50; i++) {
    const asked = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1));
    lateness.push(performance.now() - asked - 1);
  }
  spinning = false;
  await a.join();
  await b.join();
  return lateness;
}

// --- main ---------------------------------------------------------------------

console.log(
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}; ${reps} interleaved runs, medians`,
);

if (only.has("spawn")) {
  console.log(`\nspawn + join of ${SPAWN_N} tasklets alive at once`);
  const m = await compare({
    "bare async": bareSpawn,
    "bare async + ALS.run": bareAlsSpawn,
    "tasklets": taskletSpawn,
  });
  const rate = (ms: number) => (SPAWN_N / ms / 1000).toFixed(2) + " M/s";
  console.log(
    `  bare ${rate(m["bare async"])}, bare+ALS ${
      rate(m["bare async + ALS.run"])
    }, tasklets ${rate(m["tasklets"])}; tasklets/bare throughput = ${
      (m["bare async"] / m["tasklets"]).toFixed(2)
    }x (target >= 0.5x), tasklets/bare+ALS = ${
      (m["bare async + ALS.run"] / m["tasklets"]).toFixed(2)
    }x; median of per-rep ratios ${
      (1 / pairedRatio("tasklets", "bare async")).toFixed(2)
    }x`,
  );
}

if (only.has("spawn")) {
  console.log(
    `\nspawn + join of ${SPAWN_N} tasklets, all suspended at once on a gate`,
  );
  const m = await compare({
    "bare async": bareGated,
    "bare async + ALS.run": bareAlsGated,
    "tasklets": taskletGated,
  });
  console.log(
    `  tasklets/bare throughput = ${
      (m["bare async"] / m["tasklets"]).toFixed(2)
    }x (target >= 0.5x); median of per-rep ratios ${
      (1 / pairedRatio("tasklets", "bare async")).toFixed(2)
    }x; tasklets/bare+ALS = ${
      (m["bare async + ALS.run"] / m["tasklets"]).toFixed(2)
    }x`,
  );
}

if (only.has("sleep")) {
  console.log(
    `\n${SLEEP_N} sleeps of ${SLEEP_MS} ms, first spawn to last wake-up`,
  );
  const m = await compare({
    "bare setTimeout": bareSleep,
    "tasklets sleep()": taskletSleep,
  });
  console.log(
    `  tasklets/bare time = ${
      (m["tasklets sleep()"] / m["bare setTimeout"]).toFixed(2)
    }x (target <= 0.85x); median of per-rep ratios ${
      pairedRatio("tasklets sleep()", "bare setTimeout").toFixed(2)
    }x`,
  );
}

if (only.has("heap")) {
  console.log(`\nheap per sleeper (${SLEEP_N} sleeping at once)`);
  if (gc === undefined) {
    console.log("  skipped: run with --v8-flags=--expose-gc");
  } else {
    const bare: number[] = [];
    const ours: number[] = [];
    for (let r = 0; r < Math.min(reps, 3); r++) {
      bare.push(await heapPerSleeper(bareLongSleeper));
      ours.push(await heapPerSleeper(taskletLongSleeper));
    }
    const b = median(bare);
    const t = median(ours);
    console.log(
      `  bare sleeping async fn ${b.toFixed(0)} B, sleeping tasklet ${
        t.toFixed(0)
      } B; ratio ${(t / b).toFixed(2)}x (target <= 1.5x)`,
    );
  }
}

if (only.has("rounds")) {
  console.log(`\ntwo tasklets x 1 M schedule()`);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) times.push(await rounds());
  const ms = median(times);
  console.log(
    `  median ${ms.toFixed(1)} ms = ${(2 / ms * 1000).toFixed(2)} M switches/s`,
  );
  const lateness = await timerLatencyWhileSpinning();
  lateness.sort((a, b) => a - b);
  console.log(
    `  setTimeout(1) lateness while they spin: median ${
      median(lateness).toFixed(2)
    } ms, max ${lateness[lateness.length - 1].toFixed(2)} ms`,
  );
}
