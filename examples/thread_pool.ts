/**
 * A thread pool for blocking and CPU-bound work (Syncless's
 * demo_thread_pool_sleep and demo_thread_pool_work): `pool.run(module,
 * name, ...args)` calls an exported function in a worker thread; the calling
 * tasklet waits, every other tasklet goes on, and errors come back to the
 * caller.
 *
 *     deno run -A examples/thread_pool.ts
 *
 * The functions run in the workers come from `thread_pool_work.ts`: each
 * worker imports that module, so it is kept small.
 *
 * @module
 */
import { sleep, spawn, ThreadPool } from "@syncless/syncless";

const work = new URL("./thread_pool_work.ts", import.meta.url);
const ms = Number(Deno.env.get("SLEEP_MS") ?? 500);
let ticks = 0;
const ticker = spawn(async () => {
  for (;;) {
    await sleep(50);
    ticks++;
  }
});

// Four blocking sleeps: 4 threads run them together, 2 threads in 2 rounds.
for (const threads of [4, 2]) {
  using pool = new ThreadPool(threads);
  // Start the workers first, so that their start-up is not timed.
  await Promise.all([1, 2, 3, 4].map(() => pool.run(work, "fib", 1)));
  const started = performance.now();
  ticks = 0;
  const calls = [1, 2, 3, 4].map(() =>
    spawn(() => pool.run(work, "blockingSleep", ms))
  );
  for (const call of calls) await call.join();
  const took = Math.round(performance.now() - started);
  console.log(
    `4 x sleep(${ms}) on ${threads} threads: ${took} ms ` +
      `(~${4 / threads} x ${ms}), main thread ticked ${ticks} times meanwhile`,
  );
}

// Work that returns values, and an error that comes back to the caller.
using pool = new ThreadPool(2);
const [a, b] = await Promise.all([
  pool.run<number>(work, "fib", 25),
  pool.run<number>(work, "fib", 26),
]);
console.log(`fib(25) + fib(26) = ${a + b}`);
console.log(`divide(1, 4) = ${await pool.run(work, "divide", 1, 4)}`);
try {
  await pool.run(work, "divide", 1, 0);
} catch (error) {
  console.log(`divide(1, 0) threw ${error}`);
}
ticker.kill();
