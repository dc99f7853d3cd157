// schedule_test.py's [core] case, plus what the run queue promises beyond it:
// killing a scheduled tasklet, I/O-woken tasklets going first, and timers and
// I/O not starving while tasklets spin through schedule().
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import {
  current,
  schedule,
  sleep,
  spawn,
  type Tasklet,
  TaskletExit,
  waitFor,
} from "../../coio/mod.ts";
import { runQueueLength } from "../../coio/_runqueue.ts";
import { pendingTimerCount } from "../../coio/_timers.ts";

function worker(log: string[], name: string, turns: number) {
  return async () => {
    for (let i = 0; i < turns; i++) {
      log.push(name);
      await schedule();
    }
  };
}

Deno.test("schedule: exact round-robin A(5) B(9) C(7) (testFairSchedulingWithoutFile)", async () => {
  const log: string[] = [];
  const tasklets = [
    spawn(worker(log, "A", 5)),
    spawn(worker(log, "B", 9)),
    spawn(worker(log, "C", 7)),
  ];
  for (let i = 0; i < 10; i++) await schedule();
  for (const t of tasklets) await t.join();
  assert.equal(log.join(""), "ABCABCABCABCABCBCBCBB");
  assert.equal(runQueueLength(), 0);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("schedule: round-robin holds when the yields are nested in helper functions", async () => {
  const log: string[] = [];
  const step = async (name: string) => {
    log.push(name);
    await schedule();
  };
  const nested = (name: string, turns: number) => async () => {
    for (let i = 0; i < turns; i++) await step(name);
  };
  const tasklets = [
    spawn(nested("A", 2)),
    spawn(nested("B", 4)),
    spawn(nested("C", 3)),
  ];
  for (const t of tasklets) await t.join();
  assert.equal(log.join(""), "ABCABCBCB");
});

Deno.test("schedule: spawned tasklets start in FIFO order, after the spawner yields", async () => {
  const log: string[] = [];
  const tasklets = ["a", "b", "c"].map((name) => spawn(() => log.push(name)));
  assert.deepEqual(log, []);
  await schedule();
  assert.deepEqual(log, ["a", "b", "c"]);
  for (const t of tasklets) await t.join();
});

Deno.test("schedule: a killed tasklet leaves the queue with TaskletExit", async () => {
  const log: string[] = [];
  const spinner = spawn(async () => {
    try {
      for (;;) await schedule();
    } catch (error) {
      log.push((error as Error).name);
      throw error;
    }
  });
  await schedule();
  await schedule();
  spinner.kill();
  await assert.rejects(spinner.join(), TaskletExit);
  assert.deepEqual(log, ["TaskletExit"]);
  assert.equal(spinner.alive, false);
});

Deno.test("schedule: raise() rejects one schedule() and the tasklet goes on", async () => {
  const bomb = new Error("bomb");
  const caught: unknown[] = [];
  const t = spawn(async () => {
    for (let i = 0; i < 3; i++) {
      try {
        await schedule();
      } catch (error) {
        caught.push(error);
      }
    }
    return "done";
  });
  await schedule();
  t.raise(bomb);
  assert.equal(await t.join(), "done");
  assert.deepEqual(caught, [bomb]);
});

Deno.test("schedule: the main tasklet can yield too", async () => {
  const log: string[] = [];
  const t = spawn(worker(log, "T", 3));
  for (let i = 0; i < 3; i++) {
    await schedule();
    log.push("m");
  }
  await t.join();
  assert.equal(log.join(""), "TmTmTm");
  assert.equal(current().id, 0);
});

Deno.test("schedule: a tasklet woken by I/O runs before the ones already queued", async () => {
  // A and B spin through schedule() logging one letter per turn, so a round
  // is always "AB". W waits for real I/O; when it wakes it must log between
  // two rounds, never inside one (Syncless: "wBC" in testFairSchedulingBlockedOnFile).
  const log: string[] = [];
  let spinning = true;
  const spinner = (name: string) => async () => {
    for (let i = 0; spinning && i < 5_000_000; i++) {
      log.push(name);
      await schedule();
    }
  };
  const a = spawn(spinner("A"));
  const b = spawn(spinner("B"));
  const w = spawn(async () => {
    for (let i = 0; i < 5; i++) {
      await waitFor(Deno.stat("."));
      log.push("w");
    }
    spinning = false;
  });
  await w.join();
  await a.join();
  await b.join();
  const rounds = log.join("").split("w");
  assert.equal(rounds.length, 6);
  for (const segment of rounds.slice(0, 5)) {
    assert.ok(
      /^(AB)*$/.test(segment),
      `W woke inside a round: ${segment.slice(-40)}`,
    );
  }
});

Deno.test("schedule: timers and I/O are not starved while two tasklets spin", async () => {
  let spinning = true;
  let turns = 0;
  const spinner = async () => {
    // Bounded: stops by itself if the sleep below never completes.
    while (spinning && turns < 20_000_000) {
      turns++;
      await schedule();
    }
  };
  const a = spawn(spinner);
  const b = spawn(spinner);
  const sleeper = spawn(async () => {
    const start = performance.now();
    await sleep(5);
    const slept = performance.now() - start;
    const timerStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const timed = performance.now() - timerStart;
    const statStart = performance.now();
    await waitFor(Deno.stat("."));
    return [slept, timed, performance.now() - statStart];
  });
  const [slept, timed, statted] = await sleeper.join();
  spinning = false;
  await a.join();
  await b.join();
  assert.ok(turns > 0, "the spinners ran");
  assert.ok(slept < 200, `sleep(5) took ${slept} ms`);
  assert.ok(timed < 200, `a 5 ms setTimeout took ${timed} ms`);
  assert.ok(statted < 200, `a stat() took ${statted} ms`);
  assert.ok(turns < 20_000_000, "the spinners stopped because the timer fired");
});

Deno.test("schedule: a tasklet awaiting a foreign promise does not hold up the others", async () => {
  const log: string[] = [];
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const blocked = spawn(async () => {
    log.push("A waits");
    await gate; // not a coio wait
    log.push("A goes on");
  });
  const others = ["B", "C"].map((name) =>
    spawn(async () => {
      log.push(name);
      await schedule();
      log.push(`${name} again`);
    })
  );
  for (const t of others) await t.join();
  assert.deepEqual(log, ["A waits", "B", "C", "B again", "C again"]);
  release();
  await blocked.join();
  assert.equal(log.at(-1), "A goes on");
});

Deno.test("schedule: a thousand tasklets blocked on foreign promises all start in one round", async () => {
  let started = 0;
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const tasklets = Array.from({ length: 1000 }, () =>
    spawn(async () => {
      started++;
      await gate;
    }));
  await schedule();
  assert.equal(started, 1000);
  release();
  for (const t of tasklets) await t.join();
});

Deno.test("schedule: a long round lets the event loop turn before it ends", async () => {
  const total = 50_000;
  let ran = 0;
  let ranWhenTurned = -1;
  setImmediate(() => ranWhenTurned = ran);
  const tasklets: Tasklet<void>[] = [];
  for (let i = 0; i < total; i++) {
    tasklets.push(spawn(() => {
      ran++;
    }));
  }
  for (const t of tasklets) await t.join();
  assert.equal(ran, total);
  assert.ok(
    ranWhenTurned >= 0 && ranWhenTurned < total,
    `the event loop turned after ${ranWhenTurned} of ${total}`,
  );
});
