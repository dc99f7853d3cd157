import assert from "node:assert/strict";
import {
  abortOperationsOf,
  currentCancelSignal,
} from "../../coio/_cancel_signal.ts";
import { TaskletExit, TimeoutError } from "../../coio/errors.ts";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import { currentStore } from "../../coio/tasklet.ts";
import { withTimeout } from "../../coio/with_timeout.ts";

Deno.test("currentCancelSignal: none in the main tasklet outside scopes", () => {
  assert.equal(currentCancelSignal(), undefined);
});

Deno.test("currentCancelSignal: aborts with TaskletExit when the tasklet is killed", async () => {
  let signal: AbortSignal | undefined;
  const worker = spawn(async () => {
    signal = currentCancelSignal();
    assert.equal(currentCancelSignal(), signal); // one per tasklet
    await sleep(60_000);
  });
  await sleep(1);
  assert.ok(signal !== undefined && !signal.aborted);
  worker.kill();
  await assert.rejects(worker.join(), TaskletExit);
  assert.ok(signal!.aborted);
  assert.ok(signal!.reason instanceof TaskletExit);
});

Deno.test("currentCancelSignal: aborts with the scope's TimeoutError, also for inner scopes", async () => {
  let outer: AbortSignal | undefined;
  let inner: AbortSignal | undefined;
  const error = await withTimeout(30, () => {
    outer = currentCancelSignal();
    return withTimeout(60_000, () => {
      inner = currentCancelSignal();
      assert.notEqual(inner, outer);
      return sleep(60_000);
    });
  }).catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.ok(outer!.aborted && inner!.aborted);
  // The scope's own error (withTimeout throws it, or a copy caused by it).
  const own = error.cause ?? error;
  assert.ok(own instanceof TimeoutError);
  assert.equal(outer!.reason, own);
  assert.equal(inner!.reason, own);
});

Deno.test("currentCancelSignal: a scope that ends in time never aborts", async () => {
  let signal: AbortSignal | undefined;
  await withTimeout(20, async (scope) => {
    signal = currentCancelSignal();
    assert.equal(scope.signal.aborted, false);
    await sleep(1);
  });
  await sleep(40);
  assert.equal(signal!.aborted, false);
});

Deno.test("abortOperationsOf: aborts the current signal; later calls get a fresh one", async () => {
  await spawn(() => {
    const first = currentCancelSignal()!;
    abortOperationsOf(currentStore());
    assert.ok(first.aborted);
    const second = currentCancelSignal()!;
    assert.notEqual(second, first);
    assert.equal(second.aborted, false);
  }).join();
});
