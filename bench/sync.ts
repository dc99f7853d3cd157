/**
 * Lock and Semaphore benchmarks, each measured side by side, in the same run,
 * with `npm:async-mutex` (the most used promise mutex/semaphore on npm) doing
 * the same work with plain async functions. The machine is shared and noisy:
 * only ratios measured in one run mean anything.
 *
 * - `lock-free`: acquire + release of a free lock, 1 M times in a row.
 * - `lock-contended`: 4 workers x 100k acquire/increment/release on one lock
 *   (every release hands the lock to a waiter).
 * - `semaphore`: 8 workers x 50k acquire/increment/release on a semaphore of 2.
 * - `event`: 1k rounds of 100 async functions waiting in `Event.wait()`,
 *   woken by one `set()`, against 100 awaits of one shared promise resolved
 *   per round (the cheapest possible broadcast).
 *
 * Run: `deno run -A bench/sync.ts [--reps=5] [--only=lock-free,lock-contended,semaphore,event]`
 *
 * @module
 */
// A benchmark peer, pinned here rather than in deno.json's imports.
// deno-lint-ignore no-import-prefix
import { Mutex, Semaphore as NpmSemaphore } from "npm:async-mutex@0.5.0";
import { Event, Lock, Semaphore, spawn } from "../coio/mod.ts";

const args = new Map(
  Deno.args.map((arg) => arg.replace(/^--/, "").split("=") as [string, string]),
);
const reps = Number(args.get("reps") ?? 5);
const only = new Set(
  (args.get("only") ?? "lock-free,lock-contended,semaphore,event").split(","),
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs each variant `reps` times, interleaved; prints medians and ratios. */
async function compare(
  title: string,
  operations: number,
  variants: Record<string, () => Promise<void>>,
): Promise<void> {
  console.log(`${title} (${operations.toLocaleString("en")} operations)`);
  const times: Record<string, number[]> = {};
  for (const name in variants) times[name] = [];
  for (let r = 0; r < reps; r++) {
    for (const name in variants) {
      const start = performance.now();
      await variants[name]();
      times[name].push(performance.now() - start);
    }
  }
  const names = Object.keys(variants);
  const base = median(times[names[0]]);
  for (const name of names) {
    const ms = median(times[name]);
    console.log(
      `  ${name.padEnd(28)} median ${ms.toFixed(1).padStart(8)} ms  ` +
        `${(operations / ms / 1000).toFixed(2).padStart(7)} M ops/s  ` +
        `time ratio ${(ms / base).toFixed(2)}x`,
    );
  }
}

if (only.has("lock-free")) {
  const n = 1_000_000;
  await compare("lock-free: acquire + release of a free lock", n, {
    "coio Lock": async () => {
      const lock = new Lock();
      for (let i = 0; i < n; i++) {
        await lock.acquire();
        lock.release();
      }
    },
    "coio Lock (using guard)": async () => {
      const lock = new Lock();
      for (let i = 0; i < n; i++) {
        using _held = await lock.acquire();
      }
    },
    "async-mutex Mutex": async () => {
      const mutex = new Mutex();
      for (let i = 0; i < n; i++) {
        const release = await mutex.acquire();
        release();
      }
    },
  });
}

if (only.has("lock-contended")) {
  const workers = 4;
  const each = 100_000;
  await compare(
    `lock-contended: ${workers} workers x ${each} hand-offs`,
    workers * each,
    {
      "coio Lock (tasklets)": async () => {
        const lock = new Lock();
        let counter = 0;
        const tasklets = Array.from(
          { length: workers },
          () =>
            spawn(async () => {
              for (let i = 0; i < each; i++) {
                await lock.acquire();
                counter++;
                lock.release();
              }
            }),
        );
        for (const t of tasklets) await t.join();
        if (counter !== workers * each) throw new Error("lost updates");
      },
      "async-mutex Mutex (async fns)": async () => {
        const mutex = new Mutex();
        let counter = 0;
        await Promise.all(
          Array.from({ length: workers }, async () => {
            for (let i = 0; i < each; i++) {
              const release = await mutex.acquire();
              counter++;
              release();
            }
          }),
        );
        if (counter !== workers * each) throw new Error("lost updates");
      },
    },
  );
}

if (only.has("semaphore")) {
  const workers = 8;
  const each = 50_000;
  await compare(
    `semaphore: ${workers} workers x ${each} on a semaphore of 2`,
    workers * each,
    {
      "coio Semaphore (tasklets)": async () => {
        const semaphore = new Semaphore(2);
        let counter = 0;
        const tasklets = Array.from(
          { length: workers },
          () =>
            spawn(async () => {
              for (let i = 0; i < each; i++) {
                await semaphore.acquire();
                counter++;
                semaphore.release();
              }
            }),
        );
        for (const t of tasklets) await t.join();
        if (counter !== workers * each) throw new Error("lost updates");
      },
      "async-mutex Semaphore": async () => {
        const semaphore = new NpmSemaphore(2);
        let counter = 0;
        await Promise.all(
          Array.from({ length: workers }, async () => {
            for (let i = 0; i < each; i++) {
              const [, release] = await semaphore.acquire();
              counter++;
              release();
            }
          }),
        );
        if (counter !== workers * each) throw new Error("lost updates");
      },
    },
  );
}

if (only.has("event")) {
  const rounds = 1_000;
  const waiters = 100;
  await compare(
    `event: ${rounds} rounds of ${waiters} waiters woken at once`,
    rounds * waiters,
    {
      "coio Event": async () => {
        for (let r = 0; r < rounds; r++) {
          const event = new Event();
          const waiting = Array.from(
            { length: waiters },
            async () => await event.wait(),
          );
          event.set();
          await Promise.all(waiting);
        }
      },
      "shared promise": async () => {
        for (let r = 0; r < rounds; r++) {
          let set!: () => void;
          const event = new Promise<void>((resolve) => set = resolve);
          const waiting = Array.from(
            { length: waiters },
            async () => await event,
          );
          set();
          await Promise.all(waiting);
        }
      },
    },
  );
}
