// TaskGroup: structured concurrency over tasklets.
import assert from "node:assert/strict";
import {
  current,
  schedule,
  setUncaughtErrorHandler,
  sleep,
  spawn,
  TaskGroup,
  TaskGroupClosedError,
  type Tasklet,
  TaskletExit,
  TimeoutError,
  withTimeout,
} from "../../coio/mod.ts";
import { pendingTimerCount } from "../../coio/_timers.ts";

Deno.test("TaskGroup: join waits for every member", async () => {
  const log: string[] = [];
  const group = new TaskGroup();
  const a = group.spawn(async () => {
    await sleep(10);
    log.push("a");
    return "A";
  });
  const b = group.spawn({ name: "b" }, async (x: number) => {
    await sleep(1);
    log.push("b");
    return x;
  }, 7);
  assert.equal(group.size, 2);
  assert.equal(b.name, "b");
  await group.join();
  assert.deepEqual(log, ["b", "a"]);
  assert.equal(group.size, 0);
  assert.equal(group.closed, true);
  assert.equal(await a.join(), "A");
  assert.equal(await b.join(), 7);
});

Deno.test("TaskGroup: await using joins at the end of the block", async () => {
  const log: string[] = [];
  {
    await using group = new TaskGroup();
    group.spawn(async () => {
      await sleep(5);
      log.push("member");
    });
    log.push("body");
  }
  log.push("after");
  assert.deepEqual(log, ["body", "member", "after"]);
});

Deno.test("TaskGroup: members spawned while join waits are waited for too", async () => {
  const log: string[] = [];
  const group = new TaskGroup();
  group.spawn(async () => {
    await sleep(2);
    group.spawn(async () => {
      await sleep(5);
      log.push("grandchild");
    });
    log.push("child");
  });
  await group.join();
  assert.deepEqual(log, ["child", "grandchild"]);
});

Deno.test("TaskGroup: the first error kills the siblings and join rethrows it", async () => {
  const bomb = new Error("first");
  const cleanups: string[] = [];
  const group = new TaskGroup();
  const siblings = [1, 2, 3].map((n) =>
    group.spawn(async () => {
      try {
        await sleep(60_000);
      } finally {
        cleanups.push(`sibling ${n}`);
      }
    })
  );
  const failing = group.spawn(async () => {
    await sleep(1);
    throw bomb;
  });
  const error = await group.join().catch((e) => e);
  assert.equal(error, bomb);
  assert.deepEqual(cleanups.sort(), ["sibling 1", "sibling 2", "sibling 3"]);
  for (const s of siblings) {
    assert.equal(s.alive, false);
    await assert.rejects(s.join(), TaskletExit);
  }
  await assert.rejects(failing.join(), (e) => e === bomb);
  assert.equal(group.signal.aborted, true);
  assert.equal(group.signal.reason, bomb);
  assert.equal(pendingTimerCount(), 0);
  await assert.rejects(group.join(), (e) => e === bomb, "again: same outcome");
});

Deno.test("TaskGroup: later errors and the siblings' TaskletExit are not reported", async () => {
  const reported: unknown[] = [];
  const previous = setUncaughtErrorHandler((e) => reported.push(e));
  try {
    const group = new TaskGroup();
    group.spawn(async () => {
      await sleep(1);
      throw new Error("first");
    });
    group.spawn(async () => {
      try {
        await sleep(60_000);
      } catch {
        throw new Error("second, while being killed");
      }
    });
    group.spawn(() => sleep(60_000));
    await assert.rejects(group.join(), { message: "first" });
    await sleep(1);
    assert.deepEqual(reported, []);
  } finally {
    setUncaughtErrorHandler(previous);
  }
});

Deno.test("TaskGroup: a member killed from outside is not a group error", async () => {
  const group = new TaskGroup();
  const victim = group.spawn(() => sleep(60_000));
  const other = group.spawn(async () => {
    await sleep(5);
    return "fine";
  });
  await schedule();
  victim.kill();
  await group.join();
  assert.equal(await other.join(), "fine");
});

Deno.test("TaskGroup: spawn into a closed group throws TaskGroupClosedError", async () => {
  const group = new TaskGroup();
  group.spawn(() => {});
  await group.join();
  assert.throws(() => group.spawn(() => {}), TaskGroupClosedError);
  const empty = new TaskGroup();
  await empty.join();
  assert.equal(empty.closed, true);
  assert.throws(() => empty.spawn(() => {}), TaskGroupClosedError);
});

Deno.test("TaskGroup: cancel() kills the members; join then returns normally", async () => {
  const group = new TaskGroup();
  const members = [
    group.spawn(() => sleep(60_000)),
    group.spawn(() => sleep(60_000)),
  ];
  await schedule();
  group.cancel();
  let ran = false;
  const late = group.spawn(() => {
    ran = true;
  });
  await group.join();
  for (const m of [...members, late]) {
    await assert.rejects(m.join(), TaskletExit);
  }
  assert.equal(ran, false, "spawned into a cancelled group: never runs");
  assert.ok(group.signal.reason instanceof TaskletExit);
});

Deno.test("TaskGroup: the group's signal option cancels it", async () => {
  const controller = new AbortController();
  const group = new TaskGroup({ signal: controller.signal });
  const member = group.spawn(() => sleep(60_000));
  await schedule();
  controller.abort();
  await group.join();
  await assert.rejects(member.join(), TaskletExit);
  const never = new TaskGroup({ signal: AbortSignal.abort() });
  let ran = false;
  never.spawn(() => {
    ran = true;
  });
  await never.join();
  assert.equal(ran, false);
});

Deno.test("TaskGroup: a timeout around join kills the members, waits for them, then throws", async () => {
  const cleaned: string[] = [];
  let member: Tasklet | undefined;
  const error = await withTimeout(10, async () => {
    await using group = new TaskGroup();
    member = group.spawn(async () => {
      try {
        await sleep(60_000);
      } finally {
        cleaned.push("member");
      }
    });
  }).catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.deepEqual(cleaned, ["member"], "the member ended before the block");
  assert.equal(member!.alive, false);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("TaskGroup: killing the owner while it joins kills the members", async () => {
  let member: Tasklet | undefined;
  const owner = spawn(async () => {
    const group = new TaskGroup();
    member = group.spawn(() => sleep(60_000));
    await group.join();
  });
  while (member === undefined) await schedule();
  await schedule(); // the owner now waits in join()
  owner.kill();
  await assert.rejects(owner.join(), TaskletExit);
  assert.equal(member.alive, false);
  await assert.rejects(member.join(), TaskletExit);
});

Deno.test("TaskGroup: members of a group run as tasklets of their own", async () => {
  const group = new TaskGroup();
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) group.spawn(() => ids.push(current().id));
  await group.join();
  assert.equal(new Set(ids).size, 3);
  assert.ok(!ids.includes(0));
});

Deno.test("TaskGroup: bad input is a TypeError", () => {
  const group = new TaskGroup();
  assert.throws(() => group.spawn(42 as unknown as () => void), TypeError);
  assert.throws(
    () => group.spawn({ name: "x" }, null as unknown as () => void),
    TypeError,
  );
  assert.equal(group.size, 0);
});
