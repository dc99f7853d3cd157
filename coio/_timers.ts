import { checkpointHook } from "./_checkpoint.ts";

/** An entry of the timer queue: a deadline and what to do when it passes. */
export interface TimerEntry {
  /** `performance.now()` time (whole ms) at or after which `fire` runs. */
  deadline: number;
  /**
   * Where the entry is queued: -1 when it is not scheduled (the initial
   * value), any other number when it is. Owned by this module.
   */
  heapIndex: number;
  /** Called once when the deadline has passed. */
  fire(): void;
}

// One runtime timer serves every timed wait. Most deadlines arrive in order
// (many waits of the same length), so they go to a FIFO lane: appending and
// taking the head cost O(1). A deadline earlier than the lane's last one goes
// to a binary min-heap instead. The runtime timer is armed for the earliest
// entry of the two. An entry's heapIndex is its heap position (>= 0), or
// -2 - its lane position, or -1 when it is not scheduled.
const heap: TimerEntry[] = [];
// The lane: entries with non-decreasing deadlines from laneHead on; removed
// entries leave holes (undefined) that the head skips.
let lane: (TimerEntry | undefined)[] = [];
let laneHead = 0;
let laneLast = -Infinity;
let laneCount = 0;

let timerId: ReturnType<typeof setTimeout> | undefined;
let armedFor = Infinity;

/** Schedules `entry.fire()` to run after `ms` milliseconds. */
export function addTimer(entry: TimerEntry, ms: number): void {
  if (entry.heapIndex !== -1) removeTimer(entry);
  // Whole milliseconds, rounded up: a small integer needs no heap box, and
  // the runtime timer has millisecond resolution anyway.
  const deadline = Math.ceil(performance.now() + ms);
  entry.deadline = deadline;
  if (deadline >= laneLast) {
    laneLast = deadline;
    entry.heapIndex = -2 - lane.length;
    lane.push(entry);
    laneCount++;
    if (laneCount === 1) arm(deadline);
  } else {
    entry.heapIndex = heap.length;
    heap.push(entry);
    siftUp(entry.heapIndex);
    if (heap[0] === entry) arm(deadline);
  }
}

/** Unschedules `entry`; a no-op when it is not scheduled. */
export function removeTimer(entry: TimerEntry): void {
  const index = entry.heapIndex;
  if (index === -1) return;
  entry.heapIndex = -1;
  if (index < -1) {
    lane[-2 - index] = undefined;
    laneCount--;
    if (laneCount === 0) resetLane();
  } else {
    const last = heap.pop()!;
    if (last !== entry) {
      heap[index] = last;
      last.heapIndex = index;
      siftDown(index);
      siftUp(last.heapIndex);
    }
  }
  if (laneCount === 0 && heap.length === 0) disarm();
}

/** Number of scheduled entries (for tests: no timer may outlive its wait). */
export function pendingTimerCount(): number {
  return heap.length + laneCount;
}

function resetLane(): void {
  lane = [];
  laneHead = 0;
  laneLast = -Infinity;
}

/** The lane's first entry (skipping holes), or undefined. */
function laneFirst(): TimerEntry | undefined {
  while (laneHead < lane.length) {
    const entry = lane[laneHead];
    if (entry !== undefined) return entry;
    laneHead++;
  }
  return undefined;
}

function takeLaneFirst(entry: TimerEntry): void {
  entry.heapIndex = -1;
  lane[laneHead++] = undefined;
  laneCount--;
  if (laneCount === 0) {
    resetLane();
  } else if (laneHead >= 1024 && laneHead * 2 >= lane.length) {
    // Drop the consumed half so a lane that never empties stays bounded.
    lane = lane.slice(laneHead);
    laneHead = 0;
    for (let i = 0; i < lane.length; i++) {
      const e = lane[i];
      if (e !== undefined) e.heapIndex = -2 - i;
    }
  }
}

function earliest(): number {
  const first = laneFirst();
  const laneDeadline = first === undefined ? Infinity : first.deadline;
  const heapDeadline = heap.length > 0 ? heap[0].deadline : Infinity;
  return laneDeadline < heapDeadline ? laneDeadline : heapDeadline;
}

function arm(deadline: number): void {
  if (timerId !== undefined) {
    if (armedFor <= deadline) return;
    clearTimeout(timerId);
  }
  armedFor = deadline;
  // Rounded up: a runtime timer that fires early would cost another turn.
  const delay = Math.ceil(deadline - performance.now());
  timerId = setTimeout(onTimer, delay > 0 ? delay : 0);
}

function disarm(): void {
  if (timerId !== undefined) clearTimeout(timerId);
  timerId = undefined;
  armedFor = Infinity;
}

function onTimer(): void {
  // A macrotask: no tasklet is running, so this is a clean time checkpoint.
  if (checkpointHook !== undefined) checkpointHook(undefined);
  timerId = undefined;
  armedFor = Infinity;
  const now = performance.now();
  for (;;) {
    const first = laneFirst();
    let entry: TimerEntry;
    if (
      first !== undefined &&
      (heap.length === 0 || first.deadline <= heap[0].deadline)
    ) {
      if (first.deadline > now) break;
      entry = first;
      takeLaneFirst(entry);
    } else if (heap.length > 0 && heap[0].deadline <= now) {
      entry = heap[0];
      removeTimer(entry);
    } else {
      break;
    }
    try {
      entry.fire();
    } catch (error) {
      // One failing entry must not strand the others: report it apart.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
  const next = earliest();
  if (next !== Infinity) arm(next);
}

function siftUp(index: number): void {
  const entry = heap[index];
  while (index > 0) {
    const parentIndex = (index - 1) >> 1;
    const parent = heap[parentIndex];
    if (parent.deadline <= entry.deadline) break;
    heap[index] = parent;
    parent.heapIndex = index;
    index = parentIndex;
  }
  heap[index] = entry;
  entry.heapIndex = index;
}

function siftDown(index: number): void {
  const entry = heap[index];
  const length = heap.length;
  for (;;) {
    let child = 2 * index + 1;
    if (child >= length) break;
    if (child + 1 < length && heap[child + 1].deadline < heap[child].deadline) {
      child++;
    }
    if (heap[child].deadline >= entry.deadline) break;
    heap[index] = heap[child];
    heap[index].heapIndex = index;
    index = child;
  }
  heap[index] = entry;
  entry.heapIndex = index;
}
