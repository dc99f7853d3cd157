import assert from "node:assert/strict";
import { pendingTimerCount } from "../../coio/_timers.ts";
import { TaskletExit, TimeoutError } from "../../coio/errors.ts";
import { moveOnAfter } from "../../coio/move_on_after.ts";
import { Queue } from "../../coio/queue.ts";
import { schedule } from "../../coio/schedule.ts";
import { spawn } from "../../coio/spawn.ts";
import type { Tasklet } from "../../coio/tasklet.ts";
import { withTimeout } from "../../coio/with_timeout.ts";

Deno.test("Queue: a new queue is empty (testEmptyQueue)", () => {
  const q = new Queue();
  assert.equal(q.length, 0);
  assert.deepEqual([...q], []);
  assert.equal(q.pendingReceiverCount, 0);
});

Deno.test("Queue: appends and pops that need no wait (testNonBlockingQueue)", async () => {
  const q = new Queue<number>([55, 66]);
  assert.equal(q.length, 2);
  q.append(77);
  assert.equal(q.length, 3);
  assert.equal(await q.pop(), 77);
  assert.equal(q.length, 2);
  assert.equal(await q.popleft(), 55);
  assert.equal(q.length, 1);
  assert.equal(await q.popleft(), 66);
  assert.equal(q.length, 0);
  q.appendleft(88);
  q.appendleft(99);
  assert.deepEqual([...q], [99, 88]);
});

/** queue_test's testBlockingQueue, with `pop` chosen by `take`. */
async function blockingQueue(
  take: (q: Queue<string | number | null>) => Promise<string | number | null>,
  lastTwo: [number, string | number | null][],
): Promise<void> {
  const events: [number, string | number | null][] = [];
  const q = new Queue<string | number | null>();
  const worker = (prefix: number) =>
    spawn(async () => {
      for (;;) {
        const item = await take(q);
        events.push([prefix, item]);
        if (!item) return;
      }
    });
  const workers = [worker(1), worker(2)];
  assert.equal(q.pendingReceiverCount, 0);
  await schedule();
  assert.equal(q.pendingReceiverCount, 2);
  assert.deepEqual(events, []);

  // An append wakes one waiter; the item stays until that waiter runs.
  q.append("foo");
  assert.deepEqual(events, []);
  assert.equal(q.length, 1);
  await schedule();
  assert.equal(q.length, 0);
  assert.deepEqual(events, [[1, "foo"]]);

  // Waiters are woken FIFO; a worker waiting again goes to the back.
  q.append("bar");
  assert.equal(q.length, 1);
  assert.deepEqual(events, [[1, "foo"]]);
  await schedule();
  assert.equal(q.length, 0);
  assert.deepEqual(events, [[1, "foo"], [2, "bar"]]);
  assert.equal(q.pendingReceiverCount, 2);

  // Each append wakes one waiter at once.
  q.append(0);
  q.append(null);
  assert.equal(q.length, 2);
  assert.equal(q.pendingReceiverCount, 0);
  await schedule();
  assert.deepEqual(events, [[1, "foo"], [2, "bar"], ...lastTwo]);
  assert.equal(q.length, 0);
  assert.equal(q.pendingReceiverCount, 0);
  for (const w of workers) await w.join();
}

Deno.test("Queue: popleft waits, FIFO among waiters (testBlockingQueue)", async () => {
  await blockingQueue((q) => q.popleft(), [[1, 0], [2, null]]);
});

Deno.test("Queue: pop waits and takes from the right (testBlockingQueueReverse)", async () => {
  await blockingQueue((q) => q.pop(), [[1, null], [2, 0]]);
});

Deno.test("Queue: a woken waiter whose item was taken first waits again", async () => {
  const q = new Queue<string>();
  const got: string[] = [];
  const waiter = spawn(async () => {
    got.push(await q.popleft());
  });
  await schedule();
  q.append("x");
  assert.equal(q.pendingReceiverCount, 0);
  // The running tasklet takes the item before the woken waiter runs.
  assert.equal(await q.popleft(), "x");
  await schedule();
  assert.deepEqual(got, []);
  assert.equal(q.pendingReceiverCount, 1);
  q.append("y");
  await waiter.join();
  assert.deepEqual(got, ["y"]);
});

Deno.test("Queue: appendleft wakes a waiter too", async () => {
  const q = new Queue<number>();
  const waiter = spawn(() => q.pop());
  await schedule();
  q.appendleft(3);
  assert.equal(await waiter.join(), 3);
});

/** Starts a tasklet blocked in `popleft` and says how to cancel it. */
const cancellations: Record<
  string,
  (q: Queue<string>) => { tasklet: Tasklet<unknown>; cancel: () => void }
> = {
  kill: (q) => {
    const tasklet = spawn(() => q.popleft());
    return { tasklet, cancel: () => tasklet.kill() };
  },
  raise: (q) => {
    const tasklet = spawn(() => q.popleft());
    return { tasklet, cancel: () => tasklet.raise(new Error("raised")) };
  },
  withTimeout: (q) => {
    const tasklet = spawn(() => withTimeout(5, () => q.popleft()));
    return { tasklet, cancel: () => {} };
  },
  moveOnAfter: (q) => {
    const tasklet = spawn(async () => {
      if (await moveOnAfter(5, () => q.popleft()) === undefined) {
        throw new Error("moved on");
      }
    });
    return { tasklet, cancel: () => {} };
  },
  signal: (q) => {
    const controller = new AbortController();
    const tasklet = spawn(() => q.popleft({ signal: controller.signal }));
    return { tasklet, cancel: () => controller.abort(new Error("aborted")) };
  },
};

for (const [kind, start] of Object.entries(cancellations)) {
  Deno.test(`Queue: cancelling a blocked popleft (${kind}) removes the waiter and loses no item`, async () => {
    const q = new Queue<string>();
    const { tasklet, cancel } = start(q);
    await schedule();
    assert.equal(q.pendingReceiverCount, 1);
    cancel();
    await assert.rejects(tasklet.join());
    assert.equal(q.pendingReceiverCount, 0);
    const next = spawn(() => q.popleft());
    await schedule();
    q.append("kept");
    assert.equal(await next.join(), "kept");
    assert.equal(q.length, 0);
    assert.equal(pendingTimerCount(), 0);
  });
}

Deno.test("Queue: a woken waiter killed before it runs still gets its item, then dies", async () => {
  const q = new Queue<string>();
  const got: string[] = [];
  const first = spawn(async () => {
    got.push(await q.popleft());
    await q.popleft();
  });
  await schedule();
  q.append("a");
  first.kill();
  // Woken already: its popleft returns "a"; it dies at its next wait.
  await assert.rejects(first.join(), TaskletExit);
  assert.deepEqual(got, ["a"]);
  assert.equal(q.length, 0);
  assert.equal(q.pendingReceiverCount, 0);
});

Deno.test("Queue: an aborted signal rejects at once; a timeout scope cancels the wait", async () => {
  const q = new Queue<number>([1]);
  const reason = new Error("stop");
  await assert.rejects(
    q.popleft({ signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await assert.rejects(
    withTimeout(5, async () => {
      await q.popleft();
      await q.popleft();
    }),
    TimeoutError,
  );
  assert.equal(q.pendingReceiverCount, 0);
});

Deno.test("Queue: many cancelled waits do not pile up", async () => {
  const q = new Queue<number>();
  for (let round = 0; round < 50; round++) {
    const controller = new AbortController();
    const waits = Array.from(
      { length: 100 },
      () => q.popleft({ signal: controller.signal }).catch(() => -1),
    );
    assert.equal(q.pendingReceiverCount, 100);
    controller.abort();
    assert.deepEqual(new Set(await Promise.all(waits)), new Set([-1]));
    assert.equal(q.pendingReceiverCount, 0);
  }
  q.append(1);
  assert.equal(await q.popleft(), 1);
});
