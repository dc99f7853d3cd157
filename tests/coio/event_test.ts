import assert from "node:assert/strict";
import {
  Event,
  schedule,
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

Deno.test("Event: set, wait and clear", async () => {
  const event = new Event();
  assert.equal(event.isSet, false);
  await assert.rejects(event.wait({ timeout: 0 }), WouldBlockError);
  event.set();
  assert.equal(event.isSet, true);
  await event.wait();
  await event.wait({ timeout: 0 });
  event.clear();
  assert.equal(event.isSet, false);
  await assert.rejects(event.wait({ timeout: 0 }), WouldBlockError);
});

Deno.test("Event: set() wakes every waiter, in the order they waited", async () => {
  const event = new Event();
  const log: string[] = [];
  const tasklets = ["A", "B", "C"].map((name) =>
    spawn(async () => {
      await event.wait();
      log.push(name);
    })
  );
  await until(() => event.waiting === 3, "three waiters");
  assert.deepEqual(log, []);
  event.set();
  assert.equal(event.waiting, 0);
  for (const t of tasklets) await t.join();
  assert.deepEqual(log, ["A", "B", "C"]);
});

Deno.test("Event: after clear(), waiters wait for the next set()", async () => {
  const event = new Event();
  event.set();
  event.clear();
  let woken = 0;
  const waiter = spawn(async () => {
    await event.wait();
    woken++;
    await event.wait();
    woken++;
  });
  await until(() => event.waiting === 1, "a waiter");
  event.set();
  event.set(); // setting a set event wakes nobody twice
  await waiter.join();
  assert.equal(woken, 2);
  assert.equal(event.waiting, 0);
});

Deno.test("Event: cancelled waits leave the list of waiters", async () => {
  const event = new Event();
  const controller = new AbortController();
  const aborted = spawn(() => event.wait({ signal: controller.signal }));
  const killed = spawn(() => event.wait());
  const raisedInto = spawn(() => event.wait());
  const timedOut = spawn(() => withTimeout(20, () => event.wait()));
  const served = spawn(async () => {
    await event.wait();
    return "served";
  });
  await until(() => event.waiting === 5, "five waiters");
  // Joined before they fail, so that their errors count as handled.
  const ends = [aborted, killed, raisedInto, timedOut].map(outcome);
  const reason = new Error("abort");
  controller.abort(reason);
  killed.kill();
  raisedInto.raise(new RangeError("bomb"));
  const [abortedEnd, killedEnd, raisedEnd, timedOutEnd] = await Promise.all(
    ends,
  );
  assert.equal(abortedEnd, reason);
  assert.ok(killedEnd instanceof TaskletExit);
  assert.ok(raisedEnd instanceof RangeError);
  assert.ok(timedOutEnd instanceof TimeoutError);
  assert.equal(event.waiting, 1);
  event.set();
  assert.equal(await served.join(), "served");
});

Deno.test("Event: a timeout option ends the wait with TimeoutError", async () => {
  const event = new Event();
  const started = performance.now();
  await assert.rejects(event.wait({ timeout: 10 }), TimeoutError);
  assert.ok(performance.now() - started < 5_000);
  assert.throws(() => event.wait({ timeout: -1 }), RangeError);
  assert.equal(event.waiting, 0);
});

Deno.test("Event: a signal already aborted rejects even when set", async () => {
  const event = new Event();
  event.set();
  const reason = new Error("too late");
  await assert.rejects(
    event.wait({ signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
});
