// The shared timer queue under coio's sleeps and timeouts: firing order,
// removal, the in-order lane and the heap together, and no leftovers.
import assert from "node:assert/strict";
import {
  addTimer,
  pendingTimerCount,
  removeTimer,
  type TimerEntry,
} from "../../coio/_timers.ts";

class Entry implements TimerEntry {
  deadline = 0;
  heapIndex = -1;
  constructor(readonly label: number, readonly fired: number[]) {}
  fire(): void {
    this.fired.push(this.label);
  }
}

function allFired(fired: number[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => {
      if (fired.length >= count && pendingTimerCount() === 0) resolve();
      else setTimeout(poll, 2);
    };
    poll();
  });
}

Deno.test("timers: entries fire in deadline order, in- and out-of-order adds mixed", async () => {
  const fired: number[] = [];
  const entries: Entry[] = [];
  // Deadlines 1..40 ms, added in a scrambled order (both lane and heap).
  const order = [7, 3, 30, 12, 1, 40, 22, 5, 18, 2, 35, 9, 27, 14, 4, 33];
  for (const ms of order) {
    const entry = new Entry(ms, fired);
    entries.push(entry);
    addTimer(entry, ms);
  }
  assert.equal(pendingTimerCount(), order.length);
  // The deadlines, not the durations, decide: the first add can be slow.
  await allFired(fired, order.length);
  assert.deepEqual(
    [...fired].sort((a, b) => a - b),
    [...order].sort((a, b) => a - b),
  );
  // Deadline order; entries due in the same millisecond may fire in any order.
  const deadlineOf = new Map(entries.map((e) => [e.label, e.deadline]));
  const deadlines = fired.map((label) => deadlineOf.get(label)!);
  assert.deepEqual(deadlines, [...deadlines].sort((a, b) => a - b));
  for (const e of entries) assert.equal(e.heapIndex, -1);
});

Deno.test("timers: removed entries never fire; re-adding moves an entry", async () => {
  const fired: number[] = [];
  const entries = Array.from({ length: 3000 }, (_, i) => new Entry(i, fired));
  for (const e of entries) addTimer(e, 5);
  // Holes in the lane, plus a few moved later and earlier.
  for (let i = 0; i < entries.length; i += 3) removeTimer(entries[i]);
  removeTimer(entries[0]); // twice: a no-op
  const before = entries[1].deadline;
  addTimer(entries[1], 15);
  assert.ok(entries[1].deadline > before, "moved later");
  addTimer(entries[2], 1); // moved earlier: into the heap
  const expected = entries.filter((_, i) => i % 3 !== 0).length;
  assert.equal(pendingTimerCount(), expected);
  await allFired(fired, expected);
  assert.equal(fired.length, expected);
  const kept = entries.filter((_, i) => i % 3 !== 0);
  assert.ok(!fired.some((label) => label % 3 === 0));
  assert.deepEqual(
    [...fired].sort((a, b) => a - b),
    kept.map((e) => e.label),
  );
  // Deadline order; entries due in the same millisecond may fire in any order.
  const deadlines = fired.map((label) => entries[label].deadline);
  assert.deepEqual(deadlines, [...deadlines].sort((a, b) => a - b));
});

Deno.test("timers: a lane that keeps receiving entries stays in order while it drains", async () => {
  const fired: number[] = [];
  let label = 0;
  // Several waves, each added while the previous one is firing.
  for (let wave = 0; wave < 5; wave++) {
    for (let i = 0; i < 800; i++) addTimer(new Entry(label++, fired), 3);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await allFired(fired, label);
  assert.deepEqual(fired, Array.from({ length: label }, (_, i) => i));
});

Deno.test("timers: an entry that throws does not strand the others", async () => {
  const fired: number[] = [];
  const errors: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    errors.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    const bomb = new Error("entry failed");
    const throwing: TimerEntry = {
      deadline: 0,
      heapIndex: -1,
      fire() {
        throw bomb;
      },
    };
    addTimer(new Entry(1, fired), 2);
    addTimer(throwing, 2);
    addTimer(new Entry(2, fired), 2);
    await allFired(fired, 2);
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.deepEqual(fired, [1, 2]);
    assert.deepEqual(errors, [bomb]);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("timers: nothing left after everything is removed", () => {
  const entries = Array.from({ length: 100 }, (_, i) => new Entry(i, []));
  entries.forEach((e, i) => addTimer(e, 1000 - i)); // all but one in the heap
  for (const e of entries) removeTimer(e);
  assert.equal(pendingTimerCount(), 0);
});
