import assert from "node:assert/strict";
import { pendingTimerCount } from "../../coio/_timers.ts";
import { Channel } from "../../coio/channel.ts";
import {
  ChannelClosedError,
  TimeoutError,
  WouldBlockError,
} from "../../coio/errors.ts";
import { moveOnAfter } from "../../coio/move_on_after.ts";
import { schedule } from "../../coio/schedule.ts";
import { select, type SelectCase } from "../../coio/select.ts";
import { spawn } from "../../coio/spawn.ts";
import type { Tasklet } from "../../coio/tasklet.ts";
import { withTimeout } from "../../coio/with_timeout.ts";

Deno.test("select: a ready receive case completes at once", async () => {
  const a = new Channel<string>();
  const b = new Channel<string>({ capacity: 1 });
  await b.send("buffered");
  assert.deepEqual(await select([{ receive: a }, { receive: b }]), {
    index: 1,
    value: "buffered",
  });
  assert.equal(a.balance, 0);
  assert.equal(b.size, 0);
});

Deno.test("select: a ready send case hands its value over; its result value is undefined", async () => {
  const a = new Channel<number>();
  const receiver = spawn(() => a.receive());
  await schedule();
  const result = await select([{ send: a, value: 7 }]);
  assert.deepEqual(result, { index: 0, value: undefined });
  assert.equal(await receiver.join(), 7);
  assert.equal(a.balance, 0);
});

Deno.test("select: a blocked select is woken by a send and withdraws from the other channels", async () => {
  const a = new Channel<string>();
  const b = new Channel<string>();
  const selector = spawn(() => select([{ receive: a }, { receive: b }]));
  await schedule();
  assert.equal(a.balance, -1);
  assert.equal(b.balance, -1);
  await b.send("to b");
  assert.deepEqual(await selector.join(), { index: 1, value: "to b" });
  assert.equal(a.balance, 0);
  assert.equal(b.balance, 0);
  // The withdrawn case does not swallow a later value on `a`.
  const sender = spawn(() => a.send("to a"));
  await schedule();
  assert.equal(a.balance, 1);
  assert.equal(await a.receive(), "to a");
  await sender.join();
});

Deno.test("select: a blocked send case is woken by a receiver", async () => {
  const a = new Channel<string>();
  const b = new Channel<string>();
  const selector = spawn(() =>
    select<string>([{ receive: a }, { send: b, value: "offered" }])
  );
  await schedule();
  assert.equal(a.balance, -1);
  assert.equal(b.balance, 1);
  assert.equal(await b.receive(), "offered");
  assert.deepEqual(await selector.join(), { index: 1, value: undefined });
  assert.equal(a.balance, 0);
  assert.equal(b.balance, 0);
  assert.deepEqual(b.tryReceive(), { state: "empty" });
});

Deno.test("select: two blocked selects on the same channels each get one value", async () => {
  const a = new Channel<number>();
  const b = new Channel<number>();
  const cases: SelectCase<number>[] = [{ receive: a }, { receive: b }];
  const s1 = spawn(() => select(cases));
  const s2 = spawn(() => select(cases));
  await schedule();
  assert.equal(a.balance, -2);
  await a.send(1);
  await a.send(2);
  assert.deepEqual(await s1.join(), { index: 0, value: 1 });
  assert.deepEqual(await s2.join(), { index: 0, value: 2 });
  assert.equal(a.balance, 0);
  assert.equal(b.balance, 0);
});

Deno.test("select: default never waits", async () => {
  const a = new Channel<number>();
  assert.deepEqual(await select([{ receive: a }], { default: true }), {
    index: -1,
    value: undefined,
  });
  assert.deepEqual(await select([], { default: true }), {
    index: -1,
    value: undefined,
  });
  assert.equal(a.balance, 0);
  const b = new Channel<number>({ capacity: 1 });
  await b.send(3);
  assert.deepEqual(await select([{ receive: b }], { default: true }), {
    index: 0,
    value: 3,
  });
});

Deno.test("select: timeout 0 throws WouldBlockError, a timeout TimeoutError", async () => {
  const a = new Channel<number>();
  const b = new Channel<number>();
  await assert.rejects(
    select([{ receive: a }, { send: b, value: 1 }], { timeout: 0 }),
    WouldBlockError,
  );
  const start = performance.now();
  await assert.rejects(
    select([{ receive: a }, { send: b, value: 1 }], { timeout: 20 }),
    TimeoutError,
  );
  assert.ok(performance.now() - start < 2000);
  assert.equal(a.balance, 0);
  assert.equal(b.balance, 0);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("select: the choice among ready cases is fair", async () => {
  const a = new Channel<number>({ capacity: 1 });
  const b = new Channel<number>({ capacity: 1 });
  const counts = [0, 0];
  for (let i = 0; i < 2000; i++) {
    a.trySend(1);
    b.trySend(2);
    const { index } = await select([{ receive: a }, { receive: b }]);
    counts[index]++;
  }
  assert.equal(counts[0] + counts[1], 2000);
  for (const count of counts) {
    assert.ok(count > 700 && count < 1300, `counts ${counts}`);
  }
});

Deno.test("select: a closed channel's case rejects with ChannelClosedError", async () => {
  const open = new Channel<number>();
  const closed = new Channel<number>();
  closed.close("gone");
  await assert.rejects(
    select([{ receive: open }, { receive: closed }]),
    (error) => {
      assert.ok(error instanceof ChannelClosedError);
      assert.equal(error.reason, "gone");
      return true;
    },
  );
  await assert.rejects(
    select([{ send: closed, value: 5 }]),
    (error) => {
      assert.ok(error instanceof ChannelClosedError);
      assert.equal(error.value, 5);
      return true;
    },
  );
  assert.equal(open.balance, 0);
});

Deno.test("select: closing a channel wakes a blocked select with ChannelClosedError", async () => {
  const a = new Channel<number>();
  const quit = new Channel<never>();
  const selector = spawn(() => select([{ receive: a }, { receive: quit }]));
  await schedule();
  quit.close("stop");
  await assert.rejects(selector.join(), (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.reason, "stop");
    return true;
  });
  assert.equal(a.balance, 0);
});

Deno.test("select: an exception sent to a receive case is thrown by select", async () => {
  const a = new Channel<number>();
  const error = new Error("bomb");
  // Receiver preferred: the select runs (and throws) before the send returns.
  const selector = spawn(() => select([{ receive: a }]).catch((e) => e));
  await schedule();
  await a.sendException(error);
  assert.equal(await selector.join(), error);
  assert.equal(a.balance, 0);
});

/** Starts a tasklet blocked in a select and says how to cancel it. */
const cancellations: Record<
  string,
  (
    wait: (signal?: AbortSignal) => Promise<unknown>,
  ) => { tasklet: Tasklet<unknown>; cancel: () => void }
> = {
  kill: (wait) => {
    const tasklet = spawn(() => wait());
    return { tasklet, cancel: () => tasklet.kill() };
  },
  raise: (wait) => {
    const tasklet = spawn(() => wait());
    return { tasklet, cancel: () => tasklet.raise(new Error("raised")) };
  },
  withTimeout: (wait) => ({
    tasklet: spawn(() => withTimeout(5, () => wait())),
    cancel: () => {},
  }),
  moveOnAfter: (wait) => ({
    tasklet: spawn(async () => {
      if (await moveOnAfter(5, () => wait()) === undefined) {
        throw new Error("moved on");
      }
    }),
    cancel: () => {},
  }),
  signal: (wait) => {
    const controller = new AbortController();
    return {
      tasklet: spawn(() => wait(controller.signal)),
      cancel: () => controller.abort(new Error("aborted")),
    };
  },
};

for (const [kind, start] of Object.entries(cancellations)) {
  Deno.test(`select: cancelling a blocked select (${kind}) withdraws every case`, async () => {
    const a = new Channel<string>();
    const b = new Channel<string>();
    const { tasklet, cancel } = start((signal) =>
      select<string>([{ receive: a }, { send: b, value: "never" }], {
        signal,
      })
    );
    await schedule();
    assert.equal(a.balance, -1);
    assert.equal(b.balance, 1);
    cancel();
    await assert.rejects(tasklet.join());
    assert.equal(a.balance, 0);
    assert.equal(b.balance, 0);
    assert.deepEqual(b.tryReceive(), { state: "empty" });
    const receiver = spawn(() => a.receive());
    await a.send("kept");
    assert.equal(await receiver.join(), "kept");
    assert.equal(pendingTimerCount(), 0);
  });
}

Deno.test("select: bad cases throw TypeError, bad timeouts RangeError", () => {
  const a = new Channel<number>();
  const bad: unknown[] = [
    "not an array",
    [null],
    [42],
    [{}],
    [{ receive: a, send: a, value: 1 }],
    [{ receive: {} }],
    [{ send: [], value: 1 }],
  ];
  for (const cases of bad) {
    assert.throws(
      () => select(cases as SelectCase[]),
      TypeError,
      JSON.stringify(cases),
    );
  }
  assert.throws(() => select([{ receive: a }], { timeout: -1 }), RangeError);
  assert.throws(() => select([{ receive: a }], { timeout: NaN }), RangeError);
  assert.equal(a.balance, 0);
});

Deno.test("select: an aborted signal rejects at once", async () => {
  const a = new Channel<number>({ capacity: 1 });
  await a.send(1);
  const reason = new Error("no");
  await assert.rejects(
    select([{ receive: a }], { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(a.size, 1);
});
