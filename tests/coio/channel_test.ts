import assert from "node:assert/strict";
import { runQueueLength } from "../../coio/_runqueue.ts";
import { pendingTimerCount } from "../../coio/_timers.ts";
import { Channel } from "../../coio/channel.ts";
import {
  ChannelClosedError,
  TaskletExit,
  TimeoutError,
  WouldBlockError,
} from "../../coio/errors.ts";
import { moveOnAfter } from "../../coio/move_on_after.ts";
import { receiveWithTimeout } from "../../coio/receive_with_timeout.ts";
import { schedule } from "../../coio/schedule.ts";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import type { Tasklet } from "../../coio/tasklet.ts";
import { withTimeout } from "../../coio/with_timeout.ts";

/** Yields until a round of the run queue logs nothing more (stackless_test's Run). */
async function run(events: string[]): Promise<void> {
  for (;;) {
    events.push("schedule");
    const before = events.length;
    await schedule();
    if (before === events.length) break;
  }
  events.push("done");
}

/** Spawns a tasklet that receives and logs until it is killed. */
function worker(
  name: string,
  channel: Channel<string>,
  events: string[],
): Tasklet<void> {
  return spawn({ name }, async () => {
    for (;;) {
      events.push(`${name}.wait`);
      events.push(`${name}/${await channel.receive()}`);
    }
  });
}

async function expectExit(tasklet: Tasklet<unknown>): Promise<void> {
  await assert.rejects(tasklet.join(), TaskletExit);
}

Deno.test("stackless_test testStackless: channel segments 1-5, 9, 10, 12", async () => {
  const events: string[] = [];
  const c = new Channel<string>();
  const ta = worker("A", c, events);
  const tb = worker("B", c, events);
  const tc = worker("C", c, events);
  const td = worker("D", c, events);
  assert.equal(runQueueLength(), 4);

  // Segment 1: receiver preferred; the send blocks until A takes the value,
  // and A keeps running before B, C and D start.
  assert.equal(c.preference, -1);
  assert.equal(c.balance, 0);
  events.push("send");
  assert.equal(await c.send("msg"), undefined);
  await run(events);
  assert.equal(
    events.join(" "),
    "send A.wait A/msg A.wait B.wait C.wait D.wait schedule done",
  );
  assert.equal(c.balance, -4);

  // Segment 2: preference 0 prefers the sender: the send returns at once and
  // the receiver becomes runnable.
  events.length = 0;
  events.push("send");
  c.preference = 0;
  assert.equal(runQueueLength(), 0);
  await c.send("msg");
  assert.equal(runQueueLength(), 1);
  await run(events);
  assert.equal(events.join(" "), "send schedule A/msg A.wait schedule done");
  assert.equal(c.preference, 0);
  assert.equal(c.balance, -4);

  // Segment 3: preference 1; receivers are served FIFO (A went to the back).
  events.length = 0;
  c.preference = 1;
  events.push("send");
  await c.send("msg");
  assert.equal(runQueueLength(), 1);
  await run(events);
  assert.equal(events.join(" "), "send schedule B/msg B.wait schedule done");

  // Segment 4: preference 2 behaves like 1: two sends return at once.
  events.length = 0;
  c.preference = 2;
  events.push("send");
  await c.send("msg");
  await c.send("msg");
  assert.equal(runQueueLength(), 2);
  await run(events);
  assert.equal(
    events.join(" "),
    "send schedule C/msg C.wait D/msg D.wait schedule done",
  );
  assert.equal(c.balance, -4);

  // Segment 5: preference 5; four sends go to the four waiting receivers
  // without blocking, the next two block; with the sender preferred, the
  // sender resumes as soon as a receiver takes its value.
  events.length = 0;
  c.preference = 5;
  events.push("send");
  const t = spawn(() => {
    events.push("T.single");
  });
  assert.equal(runQueueLength(), 1);
  await c.send("msg1");
  assert.equal(c.balance, -3);
  await c.send("msg2");
  await c.send("msg3");
  await c.send("msg4");
  assert.equal(runQueueLength(), 5);
  events.push("a4");
  assert.equal(c.balance, 0);
  await c.send("msg5");
  events.push("a5");
  await c.send("msg6");
  await run(events);
  assert.equal(
    events.join(" "),
    "send a4 T.single A/msg1 A.wait a5 B/msg2 B.wait schedule C/msg3 C.wait " +
      "D/msg4 D.wait A/msg5 A.wait B/msg6 B.wait schedule done",
  );
  await t.join();

  // Segment 9: killing each blocked receiver removes it from the channel.
  events.length = 0;
  assert.equal(c.balance, -4);
  ta.kill();
  assert.equal(c.balance, -3);
  td.kill();
  assert.equal(c.balance, -2);
  tc.kill();
  assert.equal(c.balance, -1);
  tb.kill();
  assert.equal(c.balance, 0);
  for (const w of [ta, tb, tc, td]) await expectExit(w);
  assert.deepEqual(events, []);

  // Segment 10: an exception sent through the channel is raised by the
  // receive: the very same object, twice.
  class ZeroDivisionError extends Error {}
  const bomb = new ZeroDivisionError("integer division or modulo by zero");
  for (let round = 0; round < 2; round++) {
    assert.equal(c.balance, 0);
    c.preference = 1;
    const sender = spawn(() => c.sendException(bomb));
    await assert.rejects(c.receive(), (error) => error === bomb);
    await sender.join();
  }

  // Segment 12: a tasklet sends an exception it creates; the receive raises it.
  assert.equal(c.balance, 0);
  c.preference = 1;
  const sender = spawn(() => c.sendException(new RangeError("43")));
  await assert.rejects(c.receive(), { name: "RangeError", message: "43" });
  await sender.join();
  assert.equal(c.balance, 0);
  assert.equal(runQueueLength(), 0);
});

Deno.test("stackless_test testRaiseException: kill and raise into a blocked receive", async () => {
  const c = new Channel<number>();
  const killed = spawn(() => c.receive());
  await schedule();
  assert.equal(c.balance, -1);
  killed.kill();
  assert.equal(c.balance, 0);
  await expectExit(killed);

  const caught: unknown[] = [];
  const raised = spawn(async () => {
    try {
      await c.receive();
    } catch (error) {
      caught.push(error);
    }
  });
  await schedule();
  assert.equal(c.balance, -1);
  const ae = new Error("ae");
  raised.raise(ae);
  assert.equal(c.balance, 0);
  await raised.join();
  assert.deepEqual(caught, [ae]);
});

Deno.test("Channel: a rendezvous send resolves only once a receiver has the value", async () => {
  const c = new Channel<string>();
  const log: string[] = [];
  const sender = spawn(async () => {
    await c.send("x");
    log.push("sent");
  });
  await schedule();
  assert.equal(c.balance, 1);
  assert.deepEqual(log, []);
  assert.equal(await c.receive(), "x");
  await sender.join();
  assert.deepEqual(log, ["sent"]);
  assert.equal(c.balance, 0);
});

Deno.test("Channel: waiting senders and receivers are served FIFO", async () => {
  const c = new Channel<number>();
  const senders = [1, 2, 3].map((n) => spawn(() => c.send(n)));
  await schedule();
  assert.equal(c.balance, 3);
  assert.deepEqual([await c.receive(), await c.receive(), await c.receive()], [
    1,
    2,
    3,
  ]);
  for (const s of senders) await s.join();

  const got: string[] = [];
  const receivers = ["a", "b", "c"].map((name) =>
    spawn(async () => {
      got.push(`${name}${await c.receive()}`);
    })
  );
  await schedule();
  assert.equal(c.balance, -3);
  for (const n of [1, 2, 3]) await c.send(n);
  for (const r of receivers) await r.join();
  assert.deepEqual(got, ["a1", "b2", "c3"]);
});

Deno.test("Channel: preference -1 runs the receiver first, 1 the sender", async () => {
  for (
    const [preference, expected] of [
      [-1, "recv:v send-returned"],
      [1, "send-returned recv:v"],
    ] as const
  ) {
    const c = new Channel<string>({ preference });
    const log: string[] = [];
    const receiver = spawn(async () => {
      log.push(`recv:${await c.receive()}`);
    });
    await schedule();
    const sender = spawn(async () => {
      await c.send("v");
      log.push("send-returned");
    });
    await sender.join();
    await receiver.join();
    assert.equal(log.join(" "), expected, `preference ${preference}`);
  }
});

Deno.test("Channel: a buffered channel is FIFO and send waits only when it is full", async () => {
  const c = new Channel<number>({ capacity: 2 });
  assert.equal(c.capacity, 2);
  await c.send(1);
  await c.send(2);
  assert.equal(c.size, 2);
  assert.equal(c.balance, 0);
  let thirdSent = false;
  const sender = spawn(async () => {
    await c.send(3);
    thirdSent = true;
  });
  await schedule();
  assert.equal(thirdSent, false);
  assert.equal(c.balance, 1);
  assert.equal(await c.receive(), 1);
  // The waiting sender's value moved into the freed slot.
  assert.equal(c.size, 2);
  assert.equal(c.balance, 0);
  await sender.join();
  assert.equal(thirdSent, true);
  assert.equal(await c.receive(), 2);
  assert.equal(await c.receive(), 3);
  assert.equal(c.size, 0);

  const unbounded = new Channel<number>({ capacity: Infinity });
  for (let i = 0; i < 1000; i++) await unbounded.send(i);
  assert.equal(unbounded.size, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(await unbounded.receive(), i);
});

Deno.test("Channel: trySend and tryReceive never wait", async () => {
  const c = new Channel<number>();
  assert.equal(c.trySend(1), false);
  assert.deepEqual(c.tryReceive(), { state: "empty" });
  assert.equal(c.balance, 0);

  const receiver = spawn(() => c.receive());
  await schedule();
  assert.equal(c.trySend(5), true);
  assert.equal(c.balance, 0);
  assert.equal(await receiver.join(), 5);

  let sent = false;
  const sender = spawn(async () => {
    await c.send(6);
    sent = true;
  });
  await schedule();
  assert.deepEqual(c.tryReceive(), { state: "ok", value: 6 });
  await sender.join();
  assert.equal(sent, true);

  const buffered = new Channel<number>({ capacity: 1 });
  assert.equal(buffered.trySend(1), true);
  assert.equal(buffered.trySend(2), false);
  assert.deepEqual(buffered.tryReceive(), { state: "ok", value: 1 });
  buffered.close();
  assert.deepEqual(buffered.tryReceive(), { state: "closed" });
  assert.throws(() => buffered.trySend(3), ChannelClosedError);

  const bombed = new Channel<number>({ capacity: 1 });
  const error = new Error("boom");
  await bombed.sendException(error);
  assert.throws(() => bombed.tryReceive(), (e) => e === error);
});

Deno.test("Channel: close keeps buffered values, then fails receives and sends", async () => {
  const c = new Channel<string>({ capacity: 2 });
  await c.send("a");
  await c.send("b");
  assert.equal(c.closed, false);
  c.close("finished");
  assert.equal(c.closed, true);
  await assert.rejects(c.send("late"), (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.value, "late");
    assert.equal(error.reason, "finished");
    return true;
  });
  assert.equal(await c.receive(), "a");
  assert.equal(await c.receive(), "b");
  await assert.rejects(c.receive(), (error) => {
    assert.ok(error instanceof ChannelClosedError);
    assert.equal(error.reason, "finished");
    return true;
  });
  // A second close is a clear error; dispose after close is a no-op.
  assert.throws(() => c.close(), {
    name: "ChannelClosedError",
    message: "channel already closed",
  });
  c[Symbol.dispose]();
});

Deno.test("Channel: close rejects blocked receivers and senders", async () => {
  const receivers = new Channel<number>();
  const r1 = spawn(() => receivers.receive());
  const r2 = spawn(() => receivers.receive());
  await schedule();
  assert.equal(receivers.balance, -2);
  const reason = new Error("shutdown");
  receivers.close(reason);
  assert.equal(receivers.balance, 0);
  for (const r of [r1, r2]) {
    await assert.rejects(r.join(), (error) => {
      assert.ok(error instanceof ChannelClosedError);
      assert.equal(error.reason, reason);
      return true;
    });
  }

  const senders = new Channel<number>({ capacity: 1 });
  await senders.send(1);
  const s1 = spawn(() => senders.send(2));
  const s2 = spawn(() => senders.send(3));
  await schedule();
  assert.equal(senders.balance, 2);
  senders.close();
  assert.equal(senders.balance, 0);
  const unsent: unknown[] = [];
  for (const s of [s1, s2]) {
    await assert.rejects(s.join(), (error) => {
      assert.ok(error instanceof ChannelClosedError);
      unsent.push(error.value);
      return true;
    });
  }
  assert.deepEqual(unsent, [2, 3]);
  // The value buffered before the close is still there.
  assert.equal(await senders.receive(), 1);
});

Deno.test("Channel: using disposes by closing", async () => {
  let leaked: Channel<number>;
  {
    using c = new Channel<number>({ capacity: 1 });
    leaked = c;
    await c.send(1);
  }
  assert.equal(leaked.closed, true);
  assert.equal(await leaked.receive(), 1);
  await assert.rejects(leaked.receive(), ChannelClosedError);
});

Deno.test("Channel: for await receives until close, and rethrows sent exceptions", async () => {
  const c = new Channel<number>();
  const producer = spawn(async () => {
    for (let i = 1; i <= 3; i++) await c.send(i);
    c.close();
  });
  const got: number[] = [];
  for await (const n of c) got.push(n);
  assert.deepEqual(got, [1, 2, 3]);
  await producer.join();

  const bombed = new Channel<number>({ capacity: 2 });
  const error = new Error("bad item");
  await bombed.send(1);
  await bombed.sendException(error);
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const n of bombed) seen.push(n);
    })(),
    (e) => e === error,
  );
  assert.deepEqual(seen, [1]);
});

Deno.test("Channel: a closed channel's sendException reports the error as the unsent value", async () => {
  const c = new Channel<number>();
  c.close();
  const error = new Error("x");
  await assert.rejects(c.sendException(error), (e) => {
    assert.ok(e instanceof ChannelClosedError);
    assert.equal(e.value, error);
    return true;
  });
});

/** Every way of cancelling a wait, as a function of the wait to cancel. */
const cancellations: Record<
  string,
  (
    wait: (signal?: AbortSignal) => Promise<unknown>,
  ) => Promise<{ tasklet: Tasklet<unknown>; cancel: () => void }>
> = {
  kill: (wait) => {
    const tasklet = spawn(() => wait());
    return Promise.resolve({ tasklet, cancel: () => tasklet.kill() });
  },
  raise: (wait) => {
    const tasklet = spawn(() => wait());
    return Promise.resolve({
      tasklet,
      cancel: () => tasklet.raise(new Error("raised")),
    });
  },
  withTimeout: (wait) => {
    const tasklet = spawn(() => withTimeout(5, () => wait()));
    return Promise.resolve({ tasklet, cancel: () => {} });
  },
  moveOnAfter: (wait) => {
    const tasklet = spawn(async () => {
      const result = await moveOnAfter(5, () => wait());
      if (result === undefined) throw new Error("moved on");
      return result;
    });
    return Promise.resolve({ tasklet, cancel: () => {} });
  },
  signal: (wait) => {
    const controller = new AbortController();
    const tasklet = spawn(() => wait(controller.signal));
    return Promise.resolve({
      tasklet,
      cancel: () => controller.abort(new Error("aborted")),
    });
  },
  timeoutOption: (wait) => {
    const tasklet = spawn(() => wait());
    return Promise.resolve({ tasklet, cancel: () => {} });
  },
};

for (const [kind, start] of Object.entries(cancellations)) {
  Deno.test(`Channel: cancelling a blocked receive (${kind}) restores balance and loses nothing`, async () => {
    const c = new Channel<string>();
    const timeout = kind === "timeoutOption" ? 5 : undefined;
    const { tasklet, cancel } = await start((signal) =>
      c.receive({ signal, timeout })
    );
    await schedule();
    assert.equal(c.balance, -1);
    cancel();
    await assert.rejects(tasklet.join());
    assert.equal(c.balance, 0);
    // The next value goes to the next receiver, not to the cancelled one.
    const next = spawn(() => c.receive());
    await c.send("kept");
    assert.equal(await next.join(), "kept");
    assert.equal(c.balance, 0);
    assert.equal(pendingTimerCount(), 0);
  });

  Deno.test(`Channel: cancelling a blocked send (${kind}) restores balance and sends nothing`, async () => {
    const c = new Channel<string>();
    const timeout = kind === "timeoutOption" ? 5 : undefined;
    const { tasklet, cancel } = await start((signal) =>
      c.send("dropped", { signal, timeout })
    );
    await schedule();
    assert.equal(c.balance, 1);
    cancel();
    await assert.rejects(tasklet.join());
    assert.equal(c.balance, 0);
    assert.deepEqual(c.tryReceive(), { state: "empty" });
    const next = spawn(() => c.send("kept"));
    assert.equal(await c.receive(), "kept");
    await next.join();
  });
}

Deno.test("Channel: a timeout option of 0 never waits", async () => {
  const c = new Channel<number>({ capacity: 1 });
  await assert.rejects(c.receive({ timeout: 0 }), WouldBlockError);
  await c.send(1, { timeout: 0 });
  await assert.rejects(c.send(2, { timeout: 0 }), WouldBlockError);
  assert.equal(await c.receive({ timeout: 0 }), 1);
  assert.equal(c.balance, 0);
  // A rendezvous hand-off to a waiting receiver is not a wait.
  const r = new Channel<number>();
  const receiver = spawn(() => r.receive());
  await schedule();
  await r.send(3, { timeout: 0 });
  assert.equal(await receiver.join(), 3);
});

Deno.test("Channel: a per-wait timeout rejects with TimeoutError", async () => {
  const c = new Channel<number>();
  const start = performance.now();
  await assert.rejects(c.receive({ timeout: 20 }), TimeoutError);
  assert.ok(performance.now() - start < 2000);
  assert.equal(c.balance, 0);
});

Deno.test("Channel: an aborted signal rejects at once, even when a value is ready", async () => {
  const c = new Channel<number>({ capacity: 1 });
  await c.send(1);
  const reason = new Error("no");
  await assert.rejects(
    c.receive({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await assert.rejects(
    c.send(2, { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(c.size, 1);
});

Deno.test("Channel: a receiver handed a value keeps it even if killed before it runs", async () => {
  const c = new Channel<string>({ preference: 1 });
  const log: string[] = [];
  const receiver = spawn(async () => {
    log.push(`got ${await c.receive()}`);
    await sleep(60_000);
  });
  await schedule();
  await c.send("v"); // sender preferred: the receiver is only queued
  receiver.kill();
  await expectExit(receiver);
  assert.deepEqual(log, ["got v"]);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("Channel: many cancelled receives do not pile up", async () => {
  const c = new Channel<number>();
  for (let round = 0; round < 50; round++) {
    const controller = new AbortController();
    const waits = Array.from(
      { length: 100 },
      () => c.receive({ signal: controller.signal }).catch(() => "cancelled"),
    );
    assert.equal(c.balance, -100);
    controller.abort();
    assert.deepEqual(new Set(await Promise.all(waits)), new Set(["cancelled"]));
    assert.equal(c.balance, 0);
  }
  const receiver = spawn(() => c.receive());
  await c.send(9);
  assert.equal(await receiver.join(), 9);
});

Deno.test("Channel: bad options throw", () => {
  for (const capacity of [-1, NaN, 1.5, "2", null]) {
    assert.throws(
      () => new Channel({ capacity: capacity as number }),
      RangeError,
      `capacity ${String(capacity)}`,
    );
  }
  assert.throws(() => new Channel({ preference: NaN }), RangeError);
  const c = new Channel<number>();
  assert.throws(() => {
    c.preference = "x" as unknown as number;
  }, RangeError);
  assert.throws(() => c.receive({ timeout: -1 }), RangeError);
  assert.throws(() => c.send(1, { timeout: NaN }), RangeError);
  assert.equal(c.balance, 0);
});

Deno.test("receiveWithTimeout: a value in time, else the default and the channel untouched", async () => {
  const c = new Channel<string>();
  const start = performance.now();
  assert.equal(await receiveWithTimeout(c, 20, "none"), "none");
  assert.ok(performance.now() - start < 2000);
  assert.equal(c.balance, 0);
  assert.equal(pendingTimerCount(), 0);

  const sender = spawn(() => c.send("in time"));
  assert.equal(await receiveWithTimeout(c, 5000, "none"), "in time");
  await sender.join();
  assert.equal(pendingTimerCount(), 0);

  // After a timeout, a sender finds no ghost receiver: it waits for a real one.
  assert.equal(await receiveWithTimeout(c, 5, undefined), undefined);
  const late = spawn(() => c.send("late"));
  await schedule();
  assert.equal(c.balance, 1);
  assert.equal(await c.receive(), "late");
  await late.join();
});

Deno.test("receiveWithTimeout: ms <= 0 polls once, null waits forever", async () => {
  const c = new Channel<number>({ capacity: 1 });
  assert.equal(await receiveWithTimeout(c, 0, -1), -1);
  assert.equal(await receiveWithTimeout(c, -5, -1), -1);
  assert.equal(c.balance, 0);
  await c.send(4);
  assert.equal(await receiveWithTimeout(c, 0, -1), 4);
  const sender = spawn(async () => {
    await sleep(10);
    await c.send(5);
  });
  assert.equal(await receiveWithTimeout(c, null, -1), 5);
  await sender.join();
});

Deno.test("receiveWithTimeout: other errors pass through", async () => {
  const c = new Channel<number>();
  c.close("closed");
  await assert.rejects(receiveWithTimeout(c, 10, 0), ChannelClosedError);
  await assert.rejects(receiveWithTimeout(c, 0, 0), ChannelClosedError);

  // An enclosing scope's timeout is not mistaken for the receive's own.
  const open = new Channel<number>();
  await assert.rejects(
    withTimeout(5, () => receiveWithTimeout(open, 10_000, 0)),
    TimeoutError,
  );
  const error = new Error("raised");
  const raised = spawn(() => receiveWithTimeout(open, 10_000, 0));
  await schedule();
  raised.raise(error);
  await assert.rejects(raised.join(), (e) => e === error);
  assert.equal(open.balance, 0);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("receiveWithTimeout: bad input throws", async () => {
  const c = new Channel<number>();
  await assert.rejects(
    receiveWithTimeout({} as Channel<number>, 1, 0),
    TypeError,
  );
  await assert.rejects(receiveWithTimeout(c, NaN, 0), RangeError);
  await assert.rejects(
    receiveWithTimeout(c, "5" as unknown as number, 0),
    RangeError,
  );
});
