// Tasklet life cycle: spawn, join, kill, raise, signals, current(), uncaught
// errors, bad input, and a leak check over many spawn/kill cycles.
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  current,
  schedule,
  setUncaughtErrorHandler,
  sleep,
  spawn,
  Tasklet,
  TaskletExit,
  waitFor,
  withTimeout,
} from "../../coio/mod.ts";
import { runQueueLength } from "../../coio/_runqueue.ts";
import { pendingTimerCount } from "../../coio/_timers.ts";

Deno.test("spawn: runs fn(...args) later and join returns its result", async () => {
  let ran = false;
  const t = spawn(
    (a: number, b: string) => {
      ran = true;
      return `${a}${b}`;
    },
    4,
    "2",
  );
  assert.ok(t instanceof Tasklet);
  assert.equal(ran, false, "spawn does not run the function synchronously");
  assert.equal(t.alive, true);
  assert.equal(await t.join(), "42");
  assert.equal(t.alive, false);
  assert.equal(await t.join(), "42", "join after the end");
});

Deno.test("spawn: options name the tasklet; ids are unique; name is writable", async () => {
  const a = spawn({ name: "alpha" }, () => current().name);
  const b = spawn(() => current().id);
  assert.equal(a.name, "alpha");
  assert.equal(b.name, `tasklet-${b.id}`);
  assert.notEqual(a.id, b.id);
  assert.ok(a.id > 0 && b.id > 0);
  assert.equal(await a.join(), "alpha");
  assert.equal(await b.join(), b.id);
  b.name = "renamed";
  assert.equal(b.name, "renamed");
});

Deno.test("spawn: a failing tasklet's join rejects with its error (sync and async)", async () => {
  const sync = new Error("sync");
  const async_ = new Error("async");
  const a = spawn(() => {
    throw sync;
  });
  const b = spawn(async () => {
    await schedule();
    throw async_;
  });
  await assert.rejects(a.join(), (e) => e === sync);
  await assert.rejects(b.join(), (e) => e === async_);
  await assert.rejects(b.join(), (e) => e === async_, "again after the end");
});

Deno.test("spawn: a non-function is a TypeError", () => {
  const bad: unknown[] = [42, null, undefined, "f", {}];
  for (const value of bad) {
    assert.throws(() => spawn(value as () => void), TypeError);
  }
  assert.throws(() => spawn({ name: "x" } as unknown as () => void), TypeError);
  assert.throws(
    () => spawn({ name: "x" }, 42 as unknown as () => void),
    TypeError,
  );
  assert.equal(runQueueLength(), 0, "nothing was queued");
});

Deno.test("current: main outside tasklets, the tasklet inside, through nested awaits", async () => {
  assert.equal(current().id, 0);
  assert.equal(current().name, "main");
  const inner = async (depth: number): Promise<Tasklet> => {
    await schedule();
    if (depth > 0) return await inner(depth - 1);
    await Promise.resolve();
    return current();
  };
  const seen: Tasklet[] = [];
  const a = spawn(async () => {
    seen.push(current());
    const child = spawn(() => current());
    seen.push(await child.join());
    seen.push(await inner(3));
    return current();
  });
  const result = await a.join();
  assert.equal(result, a);
  assert.equal(seen[0], a);
  assert.notEqual(seen[1], a, "a child tasklet sees itself");
  assert.equal(seen[2], a);
  assert.equal(current().id, 0, "main is still main");
  await withTimeout(1000, async () => {
    await schedule();
    assert.equal(current().id, 0, "a timeout scope does not change current()");
  });
});

Deno.test("kill: before start, the tasklet never runs and join rejects TaskletExit", async () => {
  let ran = false;
  const t = spawn(() => {
    ran = true;
  });
  t.kill();
  assert.equal(t.alive, false, "dead at once");
  await assert.rejects(t.join(), TaskletExit);
  await schedule();
  assert.equal(ran, false);
  assert.ok(t.signal.aborted);
});

Deno.test("kill: while scheduled, sleeping, joining or waiting for a promise", async () => {
  const log: string[] = [];
  const guard = (name: string, wait: () => Promise<unknown>) =>
    spawn(async () => {
      try {
        await wait();
        log.push(`${name}: returned`);
      } catch (error) {
        log.push(`${name}: ${(error as Error).name}`);
        throw error;
      }
    });
  const forever = spawn(() => sleep(Infinity));
  const tasklets = [
    guard("schedule", async () => {
      for (;;) await schedule();
    }),
    guard("sleep", () => sleep(60_000)),
    guard("join", () => forever.join()),
    guard("waitFor", () => waitFor(new Promise(() => {}))),
  ];
  await schedule();
  await schedule();
  for (const t of tasklets) t.kill();
  for (const t of tasklets) await assert.rejects(t.join(), TaskletExit);
  assert.deepEqual(log.sort(), [
    "join: TaskletExit",
    "schedule: TaskletExit",
    "sleep: TaskletExit",
    "waitFor: TaskletExit",
  ]);
  assert.equal(forever.alive, true, "killing a joiner leaves the joined alone");
  assert.equal(forever._joinerCount, 0, "the killed joiner left");
  forever.wake();
  await forever.join();
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("kill: every later wait raises TaskletExit too; killing twice or a dead tasklet is a no-op", async () => {
  const seen: string[] = [];
  const t = spawn(async () => {
    for (let i = 0; i < 3; i++) {
      try {
        await sleep(60_000);
      } catch (error) {
        seen.push((error as Error).name);
      }
    }
    return "survived";
  });
  await schedule();
  t.kill();
  t.kill();
  // It caught every TaskletExit, so it ends normally.
  assert.equal(await t.join(), "survived");
  assert.deepEqual(seen, ["TaskletExit", "TaskletExit", "TaskletExit"]);
  t.kill();
  assert.equal(await t.join(), "survived");
});

Deno.test("kill: signal is aborted with TaskletExit; not on raise or normal end", async () => {
  const sleeper = spawn(() => sleep(60_000));
  const signal = sleeper.signal;
  let reason: unknown;
  signal.addEventListener("abort", () => reason = signal.reason);
  await schedule();
  sleeper.raise(new Error("bomb"));
  await assert.rejects(sleeper.join(), { message: "bomb" });
  assert.equal(signal.aborted, false, "raise does not abort the signal");

  const victim = spawn(() => sleep(60_000));
  await schedule();
  victim.kill();
  assert.ok(victim.signal.aborted);
  assert.ok(victim.signal.reason instanceof TaskletExit);
  await assert.rejects(victim.join(), TaskletExit);
  assert.ok(victim.signal.reason instanceof TaskletExit, "still after the end");
  assert.equal(reason, undefined);

  const normal = spawn(() => 1);
  await normal.join();
  assert.equal(normal.signal.aborted, false);
});

Deno.test("kill: the tasklet's own signal reaches foreign APIs", async () => {
  const t = spawn(async () => {
    const signal = current().signal;
    await new Promise((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason));
    });
  });
  await schedule();
  t.kill();
  await assert.rejects(t.join(), TaskletExit);
});

Deno.test("raise: delivered once, to the current wait", async () => {
  const bomb = new Error("bomb");
  const results: unknown[] = [];
  const t = spawn(async () => {
    for (let i = 0; i < 2; i++) {
      try {
        await sleep(i === 0 ? 60_000 : 1);
        results.push("slept");
      } catch (error) {
        results.push(error);
      }
    }
  });
  await schedule();
  t.raise(bomb);
  await t.join();
  assert.deepEqual(results, [bomb, "slept"]);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("raise: before the tasklet waits, the error waits for its next wait", async () => {
  const bomb = new Error("early");
  const log: unknown[] = [];
  const t = spawn(async () => {
    log.push("started");
    try {
      await schedule();
    } catch (error) {
      log.push(error);
    }
    await schedule();
    log.push("done");
  });
  t.raise(bomb);
  await t.join();
  assert.deepEqual(log, ["started", bomb, "done"]);
  t.raise(new Error("dead")); // a no-op on a dead tasklet
});

Deno.test("spawn({ signal }): aborting kills the tasklet; an aborted signal means it never runs", async () => {
  const controller = new AbortController();
  const t = spawn({ signal: controller.signal }, () => sleep(60_000));
  await schedule();
  controller.abort();
  await assert.rejects(t.join(), TaskletExit);

  let ran = false;
  const never = spawn({ signal: AbortSignal.abort() }, () => {
    ran = true;
  });
  await assert.rejects(never.join(), TaskletExit);
  assert.equal(ran, false);

  // The tasklet stops listening once it ends: a later abort is harmless.
  const late = new AbortController();
  const done = spawn({ signal: late.signal }, () => "ok");
  assert.equal(await done.join(), "ok");
  late.abort();
  assert.equal(await done.join(), "ok");
});

Deno.test("uncaught errors: onError gets them; TaskletExit is never reported", async () => {
  const errors: unknown[] = [];
  const bomb = new Error("unjoined");
  const t = spawn({ onError: (e) => errors.push(e) }, () => {
    throw bomb;
  });
  const killed = spawn({ onError: (e) => errors.push(e) }, () => sleep(60_000));
  await schedule();
  killed.kill();
  await sleep(1);
  assert.deepEqual(errors, [bomb]);
  assert.equal(t.alive, false);
  await assert.rejects(t.join(), (e) => e === bomb, "join still gets it");
});

Deno.test("uncaught errors: setUncaughtErrorHandler gets (error, tasklet) when there is no onError", async () => {
  const reported: [unknown, Tasklet][] = [];
  const previous = setUncaughtErrorHandler((e, t) => reported.push([e, t]));
  try {
    const bomb = new Error("lost");
    const t = spawn(() => {
      throw bomb;
    });
    const killed = spawn(() => sleep(60_000));
    const joined = spawn(() => {
      throw new Error("joined");
    });
    // Joined before it ends, so its error goes to the joiner.
    const joining = assert.rejects(joined.join(), { message: "joined" });
    const withHandler = spawn({ onError: () => {} }, () => {
      throw new Error("handled");
    });
    await schedule();
    killed.kill();
    await joining;
    await sleep(1);
    assert.equal(reported.length, 1);
    assert.equal(reported[0][0], bomb);
    assert.equal(reported[0][1], t);
    assert.equal(withHandler.alive, false);
  } finally {
    assert.equal(setUncaughtErrorHandler(previous) !== undefined, true);
  }
});

Deno.test("join: cancellable by the joiner's own timeout; the joined tasklet goes on", async () => {
  const slow = spawn(async () => {
    await sleep(30);
    return "slow";
  });
  await assert.rejects(
    withTimeout(5, () => slow.join()),
    { name: "TimeoutError" },
  );
  assert.equal(slow._joinerCount, 0);
  assert.equal(await slow.join(), "slow");
});

Deno.test("leak: 100k spawn/kill cycles leave no timers, queue entries or joiners", async () => {
  const anchor = spawn(() => sleep(Infinity));
  let finished = 0;
  for (let batch = 0; batch < 100; batch++) {
    const tasklets: Tasklet[] = [];
    for (let i = 0; i < 1000; i++) {
      const kind = i % 4;
      tasklets.push(spawn(async () => {
        if (kind === 0) await sleep(60_000);
        else if (kind === 1) await anchor.join();
        else if (kind === 2) { for (;;) await schedule(); }
        // kind 3: killed before it starts
      }));
    }
    await schedule();
    for (const t of tasklets) t.kill();
    for (const t of tasklets) {
      await t.join().catch((e) => {
        if (!(e instanceof TaskletExit)) throw e;
      });
      finished++;
    }
  }
  assert.equal(finished, 100_000);
  assert.equal(pendingTimerCount(), 0);
  assert.equal(anchor._joinerCount, 0);
  await schedule();
  assert.equal(runQueueLength(), 0);
  anchor.kill();
  await assert.rejects(anchor.join(), TaskletExit);
});

Deno.test("current: coexists with other code's AsyncLocalStorage, both ways", async () => {
  const storage = new AsyncLocalStorage<string>();
  const seen = await storage.run("outside", async () => {
    const t = spawn({ name: "inner" }, async () => {
      await sleep(1);
      const inside = storage.run("inside", async () => {
        await schedule();
        return [current().name, storage.getStore()];
      });
      return [current().name, storage.getStore(), ...await inside];
    });
    return await t.join();
  });
  assert.deepEqual(seen, ["inner", "outside", "inner", "inside"]);
  assert.equal(storage.getStore(), undefined);
  assert.equal(current().id, 0);
});

Deno.test("kill: a tasklet killed after its turn came but before it started never runs", async () => {
  let ran = false;
  let victim: Tasklet | undefined;
  const killer = spawn(async () => {
    victim = spawn(() => {
      ran = true;
    });
    // Parking in sleep() ends our round and gives the victim its turn at
    // once; we kill it before its start (a microtask) has run.
    const nap = sleep(1);
    assert.equal(victim.alive, true);
    victim.kill();
    await nap;
  });
  await killer.join();
  await assert.rejects(victim!.join(), TaskletExit);
  assert.equal(ran, false);
});
