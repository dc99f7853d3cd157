// Tasklet.aliveCount: spawned tasklets that have not ended, whatever their end.
import assert from "node:assert/strict";
import { Channel, spawn, TaskGroup, Tasklet } from "../../coio/mod.ts";

Deno.test("Tasklet.aliveCount counts spawned tasklets until they end, however they end", async () => {
  const base = Tasklet.aliveCount;
  const gate = new Channel<void>();
  const waiting = spawn(() => gate.receive());
  const failing = spawn({ onError: () => {} }, () => {
    throw new Error("boom");
  });
  const killedBeforeStart = spawn(() => gate.receive());
  assert.equal(Tasklet.aliveCount, base + 3);
  killedBeforeStart.kill();
  assert.equal(Tasklet.aliveCount, base + 2);
  await failing.join().catch(() => {});
  assert.equal(Tasklet.aliveCount, base + 1);
  const group = new TaskGroup();
  group.spawn(() => gate.receive());
  assert.equal(Tasklet.aliveCount, base + 2);
  group.cancel();
  await group.join();
  await gate.send();
  await waiting.join();
  assert.equal(Tasklet.aliveCount, base);
});
