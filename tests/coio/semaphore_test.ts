import assert from "node:assert/strict";
import {
  schedule,
  Semaphore,
  spawn,
  TaskletExit,
  TimeoutError,
  withTimeout,
  WouldBlockError,
} from "../../coio/mod.ts";

/** What a tasklet ended with: its error, or `"returned"`. */
function outcome(tasklet: { join(): Promise<unknown> }): Promise<unknown> {
  return tasklet.join().then(() => "returned", (error: unknown) => error);
}

/** Lets other tasklets run until `done()` holds (bounded, never sleeps). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await schedule();
  assert.ok(done(), `gave up waiting until ${what}`);
}

Deno.test("Semaphore: a bad initial value throws RangeError", () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, "2", null]) {
    assert.throws(
      () => new Semaphore(bad as number),
      {
        name: "RangeError",
        message: `Semaphore value must be a non-negative integer, got ${
          String(bad)
        }`,
      },
    );
  }
  assert.equal(new Semaphore(0).available, 0);
  assert.equal(new Semaphore().available, 1);
});

Deno.test("Semaphore: acquire and release count permits", async () => {
  const semaphore = new Semaphore(2);
  const a = await semaphore.acquire();
  assert.equal(semaphore.available, 1);
  await semaphore.acquire();
  assert.equal(semaphore.available, 0);
  await assert.rejects(semaphore.acquire({ timeout: 0 }), WouldBlockError);
  a.release();
  assert.equal(semaphore.available, 1);
  semaphore.release();
  assert.equal(semaphore.available, 2);
  // Like threading.Semaphore, releases may go above the initial value.
  semaphore.release();
  assert.equal(semaphore.available, 3);
});

Deno.test("Semaphore: at most n tasklets hold a permit at once", async () => {
  const semaphore = new Semaphore(2);
  let inside = 0;
  let most = 0;
  const tasklets = Array.from({ length: 6 }, () =>
    spawn(async () => {
      using _permit = await semaphore.acquire();
      most = Math.max(most, ++inside);
      await schedule();
      await schedule();
      inside--;
    }));
  for (const t of tasklets) await t.join();
  assert.equal(most, 2);
  assert.equal(semaphore.available, 2);
  assert.equal(semaphore.waiting, 0);
});

Deno.test("Semaphore: waiters are served FIFO and a released permit is not stolen", async () => {
  const semaphore = new Semaphore(0);
  const log: string[] = [];
  const tasklets = ["A", "B", "C"].map((name) =>
    spawn(async () => {
      await semaphore.acquire();
      log.push(name);
    })
  );
  await until(() => semaphore.waiting === 3, "three waiters");
  semaphore.release();
  // The permit went straight to A.
  assert.equal(semaphore.available, 0);
  await assert.rejects(semaphore.acquire({ timeout: 0 }), WouldBlockError);
  semaphore.release();
  semaphore.release();
  for (const t of tasklets) await t.join();
  assert.deepEqual(log, ["A", "B", "C"]);
  assert.equal(semaphore.available, 0);
});

Deno.test("Semaphore: cancelled waiters leave the queue and take no permit", async () => {
  const semaphore = new Semaphore(0);
  const controller = new AbortController();
  const aborted = spawn(() => semaphore.acquire({ signal: controller.signal }));
  const killed = spawn(() => semaphore.acquire());
  const raisedInto = spawn(() => semaphore.acquire());
  const served = spawn(async () => {
    await semaphore.acquire();
    return "served";
  });
  await until(() => semaphore.waiting === 4, "four waiters");
  // Joined before they fail, so that their errors count as handled.
  const ends = [aborted, killed, raisedInto].map(outcome);
  const reason = new Error("abort");
  controller.abort(reason);
  killed.kill();
  raisedInto.raise(new RangeError("bomb"));
  const [abortedEnd, killedEnd, raisedEnd] = await Promise.all(ends);
  assert.equal(abortedEnd, reason);
  assert.ok(killedEnd instanceof TaskletExit);
  assert.ok(raisedEnd instanceof RangeError);
  assert.equal(semaphore.waiting, 1);
  semaphore.release();
  assert.equal(await served.join(), "served");
  assert.equal(semaphore.available, 0);
  semaphore.release();
  assert.equal(semaphore.available, 1);
});

Deno.test("Semaphore: timeouts cancel the wait", async () => {
  const semaphore = new Semaphore(0);
  await assert.rejects(
    withTimeout(10, () => semaphore.acquire()),
    TimeoutError,
  );
  await assert.rejects(semaphore.acquire({ timeout: 10 }), TimeoutError);
  assert.throws(() => semaphore.acquire({ timeout: -5 }), RangeError);
  assert.equal(semaphore.waiting, 0);
  assert.equal(semaphore.available, 0);
});

Deno.test("Semaphore: a permit is given back once, however often it is released", async () => {
  const semaphore = new Semaphore(1);
  {
    using _permit = await semaphore.acquire();
    assert.equal(semaphore.available, 0);
  }
  assert.equal(semaphore.available, 1);
  const permit = await semaphore.acquire();
  permit.release();
  permit.release();
  permit[Symbol.dispose]();
  assert.equal(semaphore.available, 1);
});

Deno.test("Semaphore: a signal already aborted rejects without taking a permit", async () => {
  const semaphore = new Semaphore(1);
  const reason = new Error("too late");
  await assert.rejects(
    semaphore.acquire({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(semaphore.available, 1);
});

Deno.test("Semaphore(0) counts events for a consumer", async () => {
  const items = new Semaphore(0);
  const consumed: number[] = [];
  const consumer = spawn(async () => {
    for (let i = 0; i < 3; i++) {
      await items.acquire();
      consumed.push(i);
    }
  });
  items.release();
  items.release();
  items.release();
  await consumer.join();
  assert.deepEqual(consumed, [0, 1, 2]);
  assert.equal(items.available, 0);
});
