import assert from "node:assert/strict";
import {
  schedule,
  sleep,
  spawn,
  TaskletExit,
  ThreadPool,
  ThreadPoolError,
  TimeoutError,
  withTimeout,
} from "../../coio/mod.ts";

const fixture = new URL("./_thread_pool_fixture.ts", import.meta.url);

/** Lets other tasklets run until `done()` holds (bounded). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await schedule();
  assert.ok(done(), `gave up waiting until ${what}`);
}

/** A shared cell that a worker can wait on and the test can set. */
function gate(): { buffer: SharedArrayBuffer; open(): void } {
  const buffer = new SharedArrayBuffer(4);
  const cell = new Int32Array(buffer);
  return {
    buffer,
    open() {
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
    },
  };
}

/** What a promise ended with: its error, or `"resolved"`. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => "resolved", (error: unknown) => error);
}

Deno.test("ThreadPool: runs an exported function and returns its result", async () => {
  using pool = new ThreadPool(2);
  assert.equal(pool.threadCount, 0); // workers start lazily
  assert.equal(await pool.run(fixture, "add", 2, 3), 5);
  assert.equal(await pool.run(fixture.href, "doubleLater", 21), 42);
  assert.equal(pool.threadCount, 1); // and are reused
});

Deno.test("ThreadPool: a CPU-bound call runs while another tasklet keeps ticking", async () => {
  using pool = new ThreadPool(1);
  const flag = gate();
  let ticks = 0;
  // The worker spins until the ticker has ticked 5 times: the call can only
  // finish if the ticker ran while the worker was busy.
  const ticker = spawn(async () => {
    while (ticks < 5) {
      await sleep(1);
      ticks++;
    }
    flag.open();
  });
  const result = await pool.run(fixture, "spinUntilSet", flag.buffer, 20_000);
  assert.equal(result, "released");
  assert.equal(ticks, 5);
  await ticker.join();
});

Deno.test("ThreadPool: a blocking call (Atomics.wait) in a worker does not block tasklets", async () => {
  using pool = new ThreadPool(1);
  const flag = gate();
  let ticks = 0;
  const ticker = spawn(async () => {
    while (ticks < 5) {
      await sleep(1);
      ticks++;
    }
    flag.open();
  });
  const result = await pool.run(
    fixture,
    "blockUntilNotified",
    flag.buffer,
    20_000,
  );
  assert.equal(result, "released");
  assert.equal(ticks, 5);
  await ticker.join();
});

Deno.test("ThreadPool: with one thread, extra calls queue and run FIFO", async () => {
  using pool = new ThreadPool(1);
  const flag = gate();
  const first = spawn(() =>
    pool.run(fixture, "blockThenRecord", flag.buffer, "A")
  );
  const rest = ["B", "C", "D", "E"].map((tag) =>
    spawn(() => pool.run<[string, number]>(fixture, "record", tag))
  );
  await until(() => pool.queued === 4, "four queued calls");
  assert.equal(pool.threadCount, 1);
  flag.open();
  assert.deepEqual(await first.join(), ["released", "A", 1]);
  const results = [];
  for (const t of rest) results.push(await t.join());
  assert.deepEqual(results, [["B", 2], ["C", 3], ["D", 4], ["E", 5]]);
  assert.equal(pool.queued, 0);
  assert.equal(pool.threadCount, 1);
});

Deno.test("ThreadPool: starts workers up to maxThreads, then queues", async () => {
  using pool = new ThreadPool(2);
  const flag = gate();
  const calls = [1, 2, 3].map(() =>
    pool.run<string>(fixture, "blockUntilNotified", flag.buffer, 20_000)
  );
  assert.equal(pool.threadCount, 2);
  assert.equal(pool.running, 2);
  assert.equal(pool.queued, 1);
  flag.open();
  assert.deepEqual(await Promise.all(calls), [
    "released",
    "released",
    "released",
  ]);
  const ids = await Promise.all([
    pool.run(fixture, "workerId"),
    pool.run(fixture, "workerId"),
  ]);
  assert.notEqual(ids[0], ids[1]); // two calls at once use the two workers
  assert.equal(pool.threadCount, 2);
});

Deno.test("ThreadPool: errors thrown in the worker are rethrown in the caller", async () => {
  using pool = new ThreadPool(1);
  await assert.rejects(
    pool.run(fixture, "throwTypeError", "bad input"),
    (error) =>
      error instanceof TypeError && error.message === "bad input" &&
      (error.stack ?? "").includes("_thread_pool_fixture.ts"),
  );
  await assert.rejects(
    pool.run(fixture, "throwCustom", "unexpected token"),
    (error: Error & { code?: string }) =>
      error instanceof Error && error.name === "ParseFailure" &&
      error.message === "unexpected token" && error.code === "E_PARSE",
  );
  await assert.rejects(
    pool.run(fixture, "throwString"),
    (error) => error === "a plain string",
  );
  await assert.rejects(
    pool.run(fixture, "returnFunction"),
    { name: "TypeError", message: /could not be sent back from the worker/ },
  );
  await assert.rejects(
    pool.run(fixture, "add", () => 1, 2),
    { name: "TypeError", message: /Cannot send the arguments of add\(\)/ },
  );
  // The worker survives all of that.
  assert.equal(await pool.run(fixture, "add", 1, 1), 2);
  assert.equal(pool.threadCount, 1);
});

Deno.test("ThreadPool: a missing module or a non-function export is a ThreadPoolError", async () => {
  using pool = new ThreadPool(1);
  const missing = new URL("./no_such_module.ts", import.meta.url);
  await assert.rejects(
    pool.run(missing, "main"),
    (error) =>
      error instanceof ThreadPoolError &&
      error.code === "ERR_MODULE_NOT_FOUND" &&
      error.message.startsWith(`Cannot import ${missing.href} in a worker: `),
  );
  await assert.rejects(
    pool.run("data:text/javascript,export const f = (;", "f"),
    (error) =>
      error instanceof ThreadPoolError && error.code === "ERR_MODULE_LOAD" &&
      error.cause instanceof Error &&
      error.cause.message.includes("Expression expected"),
  );
  await assert.rejects(pool.run(fixture, "answer"), {
    name: "ThreadPoolError",
    code: "ERR_NOT_A_FUNCTION",
    message:
      `Export "answer" of ${fixture.href} is not a function (it is number)`,
  });
  await assert.rejects(pool.run(fixture, "noSuchExport"), {
    name: "ThreadPoolError",
    code: "ERR_NOT_A_FUNCTION",
    message: `Module ${fixture.href} has no export named "noSuchExport"`,
  });
  assert.equal(await pool.run(fixture, "add", 2, 2), 4);
});

Deno.test("ThreadPool: bad arguments are rejected with TypeError or RangeError", async () => {
  for (const bad of [0, -1, 1.5, NaN, "2"]) {
    assert.throws(() => new ThreadPool(bad as number), RangeError);
  }
  using pool = new ThreadPool(1);
  await assert.rejects(pool.run("./relative.ts", "f"), {
    name: "TypeError",
    message: /needs an absolute module URL/,
  });
  await assert.rejects(
    pool.run(42 as unknown as string, "f"),
    TypeError,
  );
  await assert.rejects(pool.run(fixture, ""), TypeError);
  await assert.rejects(pool.run(fixture, 7 as unknown as string), TypeError);
  assert.equal(pool.threadCount, 0);
});

Deno.test("ThreadPool: a worker that dies fails its call, and the pool goes on", async () => {
  using pool = new ThreadPool(1);
  await assert.rejects(pool.run(fixture, "exitWorker", 3), {
    name: "ThreadPoolError",
    code: "ERR_WORKER_EXITED",
    message: /exitWorker\(\) .* exited with code 3/,
  });
  await assert.rejects(
    pool.run(fixture, "crashLater"),
    (error) =>
      error instanceof ThreadPoolError && error.code === "ERR_WORKER_EXITED" &&
      error.message.includes("crashed later"),
  );
  assert.equal(pool.threadCount, 0);
  assert.equal(await pool.run(fixture, "add", 3, 4), 7);
  assert.equal(pool.threadCount, 1);
});

Deno.test("ThreadPool: a cancelled running call terminates its worker", async () => {
  using pool = new ThreadPool(1);
  const flag = gate();
  const firstId = await pool.run(fixture, "workerId");
  await assert.rejects(
    withTimeout(
      20,
      () => pool.run(fixture, "blockUntilNotified", flag.buffer, 20_000),
    ),
    TimeoutError,
  );
  assert.equal(pool.threadCount, 0);
  // The next call gets a fresh worker.
  assert.notEqual(await pool.run(fixture, "workerId"), firstId);

  const killed = spawn(() =>
    pool.run(fixture, "blockUntilNotified", flag.buffer, 20_000)
  );
  await until(() => pool.running === 1, "a running call");
  const end = outcome(killed.join());
  killed.kill();
  assert.ok(await end instanceof TaskletExit);
  assert.equal(pool.threadCount, 0);
  assert.equal(pool.running, 0);
});

Deno.test("ThreadPool: a cancelled queued call never runs, and the queue moves on", async () => {
  using pool = new ThreadPool(1);
  const flag = gate();
  const controller = new AbortController();
  const blocker = pool.run(fixture, "blockThenRecord", flag.buffer, "A");
  const cancelled = outcome(
    pool.run({ signal: controller.signal }, fixture, "record", "cancelled"),
  );
  const after = pool.run(fixture, "record", "B");
  assert.equal(pool.queued, 2);
  const reason = new Error("not needed");
  controller.abort(reason);
  assert.equal(await cancelled, reason);
  assert.equal(pool.queued, 1);
  flag.open();
  assert.deepEqual(await blocker, ["released", "A", 1]);
  assert.deepEqual(await after, ["B", 2]); // "cancelled" never ran
});

Deno.test("ThreadPool: when a running call is cancelled, a queued one gets a new worker", async () => {
  using pool = new ThreadPool(1);
  const flag = gate();
  const controller = new AbortController();
  const running = outcome(
    pool.run(
      { signal: controller.signal },
      fixture,
      "blockUntilNotified",
      flag.buffer,
      20_000,
    ),
  );
  const queued = pool.run(fixture, "add", 20, 22);
  assert.equal(pool.queued, 1);
  controller.abort(new Error("cancel"));
  assert.equal((await running as Error).message, "cancel");
  assert.equal(await queued, 42);
  assert.equal(pool.threadCount, 1);
});

Deno.test("ThreadPool: close() rejects pending calls and later ones", async () => {
  const pool = new ThreadPool(1);
  const flag = gate();
  const running = outcome(
    pool.run(fixture, "blockUntilNotified", flag.buffer, 20_000),
  );
  const queued = outcome(pool.run(fixture, "add", 1, 2));
  assert.equal(pool.threadCount, 1);
  pool.close();
  assert.equal(pool.closed, true);
  assert.equal(pool.threadCount, 0);
  for (const end of [await running, await queued]) {
    assert.ok(end instanceof ThreadPoolError);
    assert.equal(end.code, "ERR_POOL_CLOSED");
  }
  await assert.rejects(pool.run(fixture, "add", 1, 2), {
    name: "ThreadPoolError",
    code: "ERR_POOL_CLOSED",
    message: "ThreadPool is closed",
  });
  pool.close(); // closing again does nothing
  flag.open();
});

Deno.test("ThreadPool: idle workers do not keep the process alive, busy ones do", async () => {
  const mod = new URL("../../coio/mod.ts", import.meta.url).href;
  const code = `
    import { ThreadPool } from ${JSON.stringify(mod)};
    const pool = new ThreadPool(2);
    const url = ${JSON.stringify(fixture.href)};
    // The result arrives although nothing but the busy worker is pending.
    console.log(await pool.run(url, "doubleLater", 21));
    // No close(): the idle worker must not hold the process open.
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.signal, null, "the child had to be killed: it hung");
  assert.equal(output.code, 0, stderr);
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "42");
});
