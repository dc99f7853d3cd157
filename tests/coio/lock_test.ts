import assert from "node:assert/strict";
import {
  Lock,
  schedule,
  spawn,
  TaskletExit,
  TimeoutError,
  withTimeout,
  WouldBlockError,
} from "../../coio/mod.ts";

/** Lets other tasklets run until `done()` holds (bounded, never sleeps). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await schedule();
  assert.ok(done(), `gave up waiting until ${what}`);
}

Deno.test("Lock: acquire and release a free lock", async () => {
  const lock = new Lock();
  assert.equal(lock.locked, false);
  const guard = await lock.acquire();
  assert.equal(lock.locked, true);
  assert.equal(typeof guard.release, "function");
  lock.release();
  assert.equal(lock.locked, false);
  assert.equal(lock.waiting, 0);
});

Deno.test("Lock: releasing an unlocked lock throws TypeError", async () => {
  const lock = new Lock();
  assert.throws(() => lock.release(), {
    name: "TypeError",
    message: "Cannot release a Lock that is not locked",
  });
  await lock.acquire();
  lock.release();
  assert.throws(() => lock.release(), TypeError);
  assert.equal(lock.locked, false);
});

Deno.test("Lock: waiters get the lock in FIFO order, newcomers cannot barge in", async () => {
  const lock = new Lock();
  const log: string[] = [];
  await lock.acquire();
  const worker = (name: string) => async () => {
    await lock.acquire();
    log.push(name);
    await schedule();
    lock.release();
  };
  const tasklets = ["A", "B", "C"].map((name) => spawn(worker(name)));
  await until(() => lock.waiting === 3, "three waiters");
  lock.release();
  // The lock went straight to A: it is still locked, so a poll fails and a
  // newcomer queues behind C.
  assert.equal(lock.locked, true);
  await assert.rejects(lock.acquire({ timeout: 0 }), WouldBlockError);
  tasklets.push(spawn(worker("D")));
  for (const t of tasklets) await t.join();
  assert.deepEqual(log, ["A", "B", "C", "D"]);
  assert.equal(lock.locked, false);
  assert.equal(lock.waiting, 0);
});

Deno.test("Lock: excludes: only one tasklet at a time in the critical section", async () => {
  const lock = new Lock();
  let inside = 0;
  let most = 0;
  const tasklets = Array.from({ length: 5 }, () =>
    spawn(async () => {
      for (let i = 0; i < 3; i++) {
        using _held = await lock.acquire();
        most = Math.max(most, ++inside);
        await schedule();
        await schedule();
        inside--;
      }
    }));
  for (const t of tasklets) await t.join();
  assert.equal(most, 1);
  assert.equal(inside, 0);
  assert.equal(lock.locked, false);
});

Deno.test("Lock: an aborted waiter leaves the queue and never gets the lock", async () => {
  const lock = new Lock();
  await lock.acquire();
  const controller = new AbortController();
  const got: string[] = [];
  const a = spawn(async () => {
    await lock.acquire({ signal: controller.signal });
    got.push("A");
    lock.release();
  });
  const b = spawn(async () => {
    await lock.acquire();
    got.push("B");
    lock.release();
  });
  await until(() => lock.waiting === 2, "two waiters");
  const reason = new Error("stop waiting");
  controller.abort(reason);
  await assert.rejects(a.join(), (error) => error === reason);
  assert.equal(lock.waiting, 1);
  lock.release();
  await b.join();
  assert.deepEqual(got, ["B"]);
  assert.equal(lock.locked, false);
});

Deno.test("Lock: a killed waiter leaves the queue", async () => {
  const lock = new Lock();
  await lock.acquire();
  const waiter = spawn(() => lock.acquire());
  await until(() => lock.waiting === 1, "one waiter");
  waiter.kill();
  await assert.rejects(waiter.join(), TaskletExit);
  assert.equal(lock.waiting, 0);
  lock.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock: an error raised into a waiter ends its wait only", async () => {
  const lock = new Lock();
  await lock.acquire();
  const waiter = spawn(async () => {
    try {
      await lock.acquire();
      return "acquired";
    } catch (error) {
      return (error as Error).message;
    }
  });
  await until(() => lock.waiting === 1, "one waiter");
  waiter.raise(new Error("bomb"));
  assert.equal(await waiter.join(), "bomb");
  assert.equal(lock.waiting, 0);
  lock.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock: a timeout scope or a timeout option cancels the wait", async () => {
  const lock = new Lock();
  await lock.acquire();
  const started = performance.now();
  await assert.rejects(withTimeout(10, () => lock.acquire()), TimeoutError);
  await assert.rejects(lock.acquire({ timeout: 10 }), TimeoutError);
  assert.ok(performance.now() - started < 5_000);
  await assert.rejects(lock.acquire({ timeout: 0 }), WouldBlockError);
  assert.equal(lock.waiting, 0);
  lock.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock: a signal already aborted rejects even when the lock is free", async () => {
  const lock = new Lock();
  const reason = new Error("already aborted");
  await assert.rejects(
    lock.acquire({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(lock.locked, false);
});

Deno.test("Lock: bad timeouts throw RangeError", () => {
  const lock = new Lock();
  assert.throws(() => lock.acquire({ timeout: -1 }), RangeError);
  assert.throws(() => lock.acquire({ timeout: NaN }), RangeError);
  assert.equal(lock.locked, false);
});

Deno.test("Lock: a guard releases once, and only the holding it proves", async () => {
  const lock = new Lock();
  {
    using _held = await lock.acquire();
    assert.equal(lock.locked, true);
  }
  assert.equal(lock.locked, false);

  const first = await lock.acquire();
  first.release();
  first.release(); // a second release of the same guard does nothing
  assert.equal(lock.locked, false);

  const second = await lock.acquire();
  first.release(); // an old guard cannot release the new holding
  first[Symbol.dispose]();
  assert.equal(lock.locked, true);
  second[Symbol.dispose]();
  assert.equal(lock.locked, false);

  // Mixed with lock.release(): the guard sees it no longer holds the lock.
  const third = await lock.acquire();
  lock.release();
  const fourth = await lock.acquire();
  third.release();
  assert.equal(lock.locked, true);
  fourth.release();
  assert.equal(lock.locked, false);
});

Deno.test("Lock: another tasklet may release it, handing it to the next waiter", async () => {
  const lock = new Lock();
  await lock.acquire();
  const waiter = spawn(async () => {
    using _held = await lock.acquire();
    return "got it";
  });
  await until(() => lock.waiting === 1, "one waiter");
  await spawn(() => lock.release()).join();
  assert.equal(await waiter.join(), "got it");
  assert.equal(lock.locked, false);
});
