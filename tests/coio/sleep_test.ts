// sleep_test.py's [core] cases ("no events or timers registered" becomes
// pendingTimerCount() === 0, with Deno's op sanitizer on top), plus the
// python-only testRunInterruptedSleep as tasklet.wake().
import assert from "node:assert/strict";
import {
  Channel,
  current,
  schedule,
  sleep,
  spawn,
  TaskletExit,
  withTimeout,
} from "../../coio/mod.ts";
import { pendingTimerCount } from "../../coio/_timers.ts";

Deno.test("sleep: in the main tasklet returns normally (testMainSleep)", async () => {
  assert.equal(pendingTimerCount(), 0);
  const start = performance.now();
  const result = await sleep(20);
  assert.equal(result, undefined);
  assert.ok(performance.now() - start >= 19, "slept at least ~20 ms");
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: sleep(0) returns and leaves no timer (testZeroSleep)", async () => {
  const p = sleep(0);
  assert.equal(pendingTimerCount(), 0);
  await p;
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: sleep(-42) returns at once, no error, no timer (testNegativeSleep)", async () => {
  const p = sleep(-42);
  assert.equal(pendingTimerCount(), 0);
  await p;
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: another tasklet sleeps, then sends to main (testOtherTaskletSleep)", async () => {
  const log: string[] = [];
  // Sender preferred: the sender goes on (and ends) before main resumes.
  const channel = new Channel<string>({ preference: 1 });
  const sleeper = spawn(async () => {
    log.push("sleeping");
    await sleep(20);
    log.push("slept");
    await channel.send("woke");
  });
  await schedule();
  assert.deepEqual(log, ["sleeping"]);
  assert.equal(sleeper.alive, true, "blocked in its sleep");
  assert.equal(pendingTimerCount(), 1);
  assert.equal(await channel.receive(), "woke");
  assert.deepEqual(log, ["sleeping", "slept"]);
  assert.equal(sleeper.alive, false, "the preferred sender already ended");
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: raise() into a sleep makes it throw and clears its timer (testBombInterruptedSleep)", async () => {
  const log: string[] = [];
  const sleeper = spawn(async () => {
    try {
      await sleep(30_000);
    } catch (error) {
      log.push((error as Error).message);
    }
    log.push("slept");
  });
  await schedule();
  assert.equal(sleeper.alive, true);
  assert.equal(pendingTimerCount(), 1, "the sleep registered a timer");
  sleeper.raise(new Error("bombed"));
  await sleeper.join();
  assert.deepEqual(log, ["bombed", "slept"]);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: tasklet.wake() ends a sleep early and normally (testRunInterruptedSleep)", async () => {
  const log: string[] = [];
  const sleeper = spawn(async () => {
    await sleep(99_999_999);
    log.push("slept");
  });
  await schedule();
  assert.equal(pendingTimerCount(), 1);
  sleeper.wake();
  assert.equal(pendingTimerCount(), 0, "wake() removed the timer at once");
  await sleeper.join();
  assert.deepEqual(log, ["slept"]);
});

Deno.test("sleep: wake() of a tasklet that is not sleeping does nothing", async () => {
  const t = spawn(async () => {
    await schedule();
    return "ok";
  });
  t.wake();
  await schedule();
  t.wake();
  assert.equal(await t.join(), "ok");
  t.wake();
});

Deno.test("sleep: kill() during a sleep throws TaskletExit and clears the timer", async () => {
  let caught: unknown;
  const sleeper = spawn(async () => {
    try {
      await sleep(60_000);
    } catch (error) {
      caught = error;
      throw error;
    }
  });
  await schedule();
  sleeper.kill();
  await assert.rejects(sleeper.join(), TaskletExit);
  assert.ok(caught instanceof TaskletExit);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: an aborted signal rejects with its reason and clears the timer", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  const p = sleep(60_000, { signal: controller.signal });
  assert.equal(pendingTimerCount(), 1);
  controller.abort(reason);
  await assert.rejects(p, (error) => error === reason);
  assert.equal(pendingTimerCount(), 0);
  await assert.rejects(
    sleep(10, { signal: controller.signal }),
    (error) => error === reason,
  );
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: many sleepers wake in deadline order", async () => {
  // 4 ms apart, so that starting them (one round) cannot reorder them.
  const durations = [17, 3, 29, 11, 1, 23, 7, 13, 5, 19, 2, 31, 37, 9]
    .map((n) => n * 4);
  const woke: number[] = [];
  const tasklets = durations.map((ms) =>
    spawn(async () => {
      await sleep(ms);
      woke.push(ms);
    })
  );
  await schedule();
  assert.equal(pendingTimerCount(), durations.length);
  for (const t of tasklets) await t.join();
  assert.deepEqual(woke, [...durations].sort((a, b) => a - b));
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: sleep(ms <= 0) still throws a pending kill or raise", async () => {
  const bomb = new Error("bomb");
  const t = spawn(async () => {
    current().raise(bomb);
    await assert.rejects(sleep(0), (error) => error === bomb);
    await sleep(0); // delivered once
    current().kill();
    await assert.rejects(sleep(-1), TaskletExit);
    return "checked";
  });
  assert.equal(await t.join(), "checked");
});

Deno.test("sleep: an expired timeout scope makes sleep(0) throw", async () => {
  await assert.rejects(
    withTimeout(5, async () => {
      await assert.rejects(sleep(60_000), { name: "TimeoutError" });
      await sleep(0);
    }),
    { name: "TimeoutError" },
  );
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("sleep: Infinity waits until woken", async () => {
  const t = spawn(() => sleep(Infinity));
  await schedule();
  assert.equal(pendingTimerCount(), 0, "no timer for an endless sleep");
  assert.equal(t.alive, true);
  t.wake();
  await t.join();
});

Deno.test("sleep: bad durations are typed errors", () => {
  assert.throws(() => sleep(NaN), RangeError);
  assert.throws(() => sleep("10" as unknown as number), TypeError);
  assert.throws(() => sleep(undefined as unknown as number), TypeError);
  assert.equal(pendingTimerCount(), 0);
});
