// Timeout scopes (withTimeout, moveOnAfter), runWithTimeout and waitFor.
import assert from "node:assert/strict";
import {
  current,
  moveOnAfter,
  runWithTimeout,
  schedule,
  sleep,
  spawn,
  type Tasklet,
  TaskletExit,
  TimeoutError,
  type TimeoutScope,
  waitFor,
  withTimeout,
  WouldBlockError,
} from "../../coio/mod.ts";
import { pendingTimerCount } from "../../coio/_timers.ts";

const never = () => new Promise<never>(() => {});

Deno.test("withTimeout: returns the block's value in time and leaves no timer", async () => {
  const value = await withTimeout(1000, async () => {
    await sleep(1);
    return "in time";
  });
  assert.equal(value, "in time");
  assert.equal(pendingTimerCount(), 0);
  assert.equal(await withTimeout(1000, () => 7), 7, "a sync block too");
});

Deno.test("withTimeout: a wait nested deep inside the block throws TimeoutError, and so does withTimeout", async () => {
  let inner: unknown;
  const deep = async (depth: number): Promise<void> => {
    if (depth > 0) return await deep(depth - 1);
    try {
      await sleep(60_000);
    } catch (error) {
      inner = error;
      throw error;
    }
  };
  const start = performance.now();
  const error = await withTimeout(10, () => deep(5)).catch((e) => e);
  assert.ok(performance.now() - start < 5000);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.message, "timed out");
  assert.equal(error, inner, "the block's own TimeoutError comes out");
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("withTimeout: every later wait in an expired block throws too", async () => {
  const seen: string[] = [];
  await assert.rejects(
    withTimeout(5, async () => {
      for (let i = 0; i < 3; i++) {
        try {
          await sleep(60_000);
        } catch (error) {
          seen.push((error as Error).name);
        }
      }
      await schedule();
    }),
    TimeoutError,
  );
  assert.deepEqual(seen, ["TimeoutError", "TimeoutError", "TimeoutError"]);
});

Deno.test("withTimeout: the inner scope expires first; the outer goes on", async () => {
  let innerError: unknown;
  const result = await withTimeout(5000, async () => {
    innerError = await withTimeout(5, () => sleep(60_000)).catch((e) => e);
    await sleep(1);
    return "outer finished";
  });
  assert.equal(result, "outer finished");
  assert.ok(innerError instanceof TimeoutError);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("withTimeout: the outer scope expires inside the inner one; its error passes through unchanged", async () => {
  let seenByInnerCaller: unknown;
  let outerScope: TimeoutScope | undefined;
  const error = await withTimeout(5, async (outer) => {
    outerScope = outer;
    try {
      await withTimeout(60_000, () => sleep(60_000));
    } catch (e) {
      seenByInnerCaller = e;
      throw e;
    }
  }).catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.equal(seenByInnerCaller, error, "the inner scope did not wrap it");
  assert.equal(outerScope!.expired, true);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("withTimeout: scope.cancel() removes the deadline", async () => {
  const result = await withTimeout(5, async (scope) => {
    scope.cancel();
    await sleep(20);
    return "no deadline";
  });
  assert.equal(result, "no deadline");
});

Deno.test("withTimeout: scope.change() restarts the deadline from now", async () => {
  const result = await withTimeout(30, async (scope) => {
    for (let i = 0; i < 4; i++) {
      await sleep(15);
      scope.change(30);
    }
    return "kept alive";
  });
  assert.equal(result, "kept alive");
  await assert.rejects(
    withTimeout(60_000, async (scope) => {
      scope.change(5);
      await sleep(60_000);
    }),
    TimeoutError,
  );
  await withTimeout(1000, (scope) => {
    assert.throws(() => scope.change(-1), RangeError);
    assert.throws(() => scope.change(NaN), RangeError);
  });
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("withTimeout: scope.change() after the block ended leaves no timer", async () => {
  let kept: TimeoutScope | undefined;
  await withTimeout(1000, (scope) => {
    kept = scope;
  });
  kept!.change(50);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("withTimeout: 0 expires at once; the first wait throws", async () => {
  let ranUpToWait = false;
  await assert.rejects(
    withTimeout(0, async () => {
      ranUpToWait = true;
      await sleep(60_000);
    }),
    TimeoutError,
  );
  assert.ok(ranUpToWait);
  assert.equal(
    await withTimeout(0, () => "no wait, no timeout"),
    "no wait, no timeout",
  );
});

Deno.test("withTimeout: only the tasklet that entered it is cancelled", async () => {
  let other: Tasklet<string> | undefined;
  await assert.rejects(
    withTimeout(5, async () => {
      // Spawned inside the scope, but a tasklet of its own.
      other = spawn(async () => {
        await sleep(20);
        return "unaffected";
      });
      await sleep(60_000);
    }),
    TimeoutError,
  );
  assert.equal(await other!.join(), "unaffected");
});

Deno.test("withTimeout: kill inside a scope is TaskletExit, not a timeout", async () => {
  const t = spawn(() => withTimeout(60_000, () => sleep(60_000)));
  await schedule();
  t.kill();
  await assert.rejects(t.join(), TaskletExit);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("withTimeout: bad input is a typed error", async () => {
  await assert.rejects(withTimeout(-1, () => 1), RangeError);
  await assert.rejects(withTimeout(NaN, () => 1), RangeError);
  await assert.rejects(
    withTimeout(10, 5 as unknown as () => number),
    TypeError,
  );
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("moveOnAfter: returns undefined on its own timeout, the value in time", async () => {
  const got: number[] = [];
  const late = await moveOnAfter(10, async () => {
    for (let i = 0;; i++) {
      got.push(i);
      await sleep(3);
    }
  });
  assert.equal(late, undefined);
  assert.ok(got.length >= 1);
  assert.equal(await moveOnAfter(1000, () => "fast"), "fast");
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("moveOnAfter: an outer scope's timeout is not swallowed", async () => {
  let afterInner = false;
  await assert.rejects(
    withTimeout(5, async () => {
      await moveOnAfter(60_000, () => sleep(60_000));
      afterInner = true;
    }),
    TimeoutError,
  );
  assert.equal(afterInner, false);
});

Deno.test("moveOnAfter: a TimeoutError from something else is not swallowed", async () => {
  await assert.rejects(
    moveOnAfter(60_000, () => waitFor(never(), { timeout: 5 })),
    TimeoutError,
  );
  const foreign = new TimeoutError();
  await assert.rejects(
    moveOnAfter(60_000, () => {
      throw foreign;
    }),
    (e) => e === foreign,
  );
});

Deno.test("moveOnAfter: bad input is a RangeError", async () => {
  await assert.rejects(moveOnAfter(-5, () => 1), RangeError);
  await assert.rejects(moveOnAfter(NaN, () => 1), RangeError);
});

Deno.test("runWithTimeout: in time returns the result", async () => {
  const value = await runWithTimeout(
    async () => {
      await sleep(1);
      return "done";
    },
    1000,
    "default",
  );
  assert.equal(value, "done");
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("runWithTimeout: too late returns the default and kills the worker", async () => {
  let worker: ReturnType<typeof current> | undefined;
  let cleanedUp = false;
  const value = await runWithTimeout(
    async () => {
      worker = current();
      try {
        await sleep(60_000);
      } finally {
        cleanedUp = true;
      }
      return "late";
    },
    10,
    "default",
  );
  assert.equal(value, "default");
  assert.notEqual(worker!.id, 0, "it ran in its own tasklet");
  await assert.rejects(worker!.join(), TaskletExit);
  assert.ok(cleanedUp);
  assert.equal(pendingTimerCount(), 0);
  assert.equal(await runWithTimeout(() => sleep(60_000), 5), undefined);
});

Deno.test("runWithTimeout: the worker's error propagates", async () => {
  const bomb = new Error("worker failed");
  await assert.rejects(
    runWithTimeout(
      () => {
        throw bomb;
      },
      1000,
      "default",
    ),
    (e) => e === bomb,
  );
});

Deno.test("runWithTimeout: killing the caller kills the worker", async () => {
  let worker: ReturnType<typeof current> | undefined;
  const caller = spawn(() =>
    runWithTimeout(async () => {
      worker = current();
      await sleep(60_000);
    }, 60_000)
  );
  while (worker === undefined) await schedule();
  caller.kill();
  await assert.rejects(caller.join(), TaskletExit);
  await assert.rejects(worker.join(), TaskletExit);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("runWithTimeout: bad input is a typed error, and nothing is spawned", async () => {
  let ran = false;
  await assert.rejects(
    runWithTimeout(() => {
      ran = true;
    }, -1),
    RangeError,
  );
  await assert.rejects(runWithTimeout(() => 1, NaN), RangeError);
  await assert.rejects(
    runWithTimeout(42 as unknown as () => void, 10),
    TypeError,
  );
  await schedule();
  assert.equal(ran, false);
});

Deno.test("waitFor: the promise's value or error", async () => {
  assert.equal(await waitFor(Promise.resolve(3)), 3);
  const bomb = new Error("x");
  await assert.rejects(waitFor(Promise.reject(bomb)), (e) => e === bomb);
});

Deno.test("waitFor: timeout, timeout 0, signal, kill and scopes cancel it", async () => {
  await assert.rejects(waitFor(never(), { timeout: 5 }), TimeoutError);
  await assert.rejects(waitFor(never(), { timeout: 0 }), WouldBlockError);
  const reason = new Error("aborted");
  const controller = new AbortController();
  const p = waitFor(never(), { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(p, (e) => e === reason);
  await assert.rejects(withTimeout(5, () => waitFor(never())), TimeoutError);
  const t = spawn(() => waitFor(never()));
  await schedule();
  t.kill();
  await assert.rejects(t.join(), TaskletExit);
  assert.equal(pendingTimerCount(), 0);
});

Deno.test("waitFor: a late rejection after a timeout is dropped, not unhandled", async () => {
  let rejectLate: (e: unknown) => void = () => {};
  const late = new Promise((_, reject) => rejectLate = reject);
  await assert.rejects(waitFor(late, { timeout: 2 }), TimeoutError);
  rejectLate(new Error("too late"));
  await sleep(5);
});

Deno.test("waitFor: bad timeouts are RangeErrors", () => {
  assert.throws(() => waitFor(never(), { timeout: -1 }), RangeError);
  assert.throws(() => waitFor(never(), { timeout: NaN }), RangeError);
});
