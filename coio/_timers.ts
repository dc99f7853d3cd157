import { checkpointHook } from "./_checkpoint.ts";

/** An entry of the timer heap: a deadline and what to do when it passes. */
export interface TimerEntry {
  /** `performance.now()` time at which `fire` runs. */
  deadline: number;
  /** Position in the heap, or -1 when not scheduled. */
  heapIndex: number;
  /** Called once when the deadline has passed. */
  fire(): void;
}

// One runtime timer serves every sleeping tasklet: a binary min-heap on
// deadline, with the runtime timer armed for its earliest entry.
const heap: TimerEntry[] = [];
let timerId: ReturnType<typeof setTimeout> | undefined;
let armedFor = Infinity;

/** Schedules `entry.fire()` to run after `ms` milliseconds. */
export function addTimer(entry: TimerEntry, ms: number): void {
  if (entry.heapIndex >= 0) removeTimer(entry);
  entry.deadline = performance.now() + ms;
  entry.heapIndex = heap.length;
  heap.push(entry);
  siftUp(entry.heapIndex);
  if (heap[0] === entry) arm();
}

/** Unschedules `entry`; a no-op when it is not scheduled. */
export function removeTimer(entry: TimerEntry): void {
  const index = entry.heapIndex;
  if (index < 0) return;
  entry.heapIndex = -1;
  const last = heap.pop()!;
  if (last !== entry) {
    heap[index] = last;
    last.heapIndex = index;
    siftDown(index);
    siftUp(last.heapIndex);
  }
  if (heap.length === 0) disarm();
}

/** Number of scheduled entries (for tests: no timer may outlive its wait). */
export function pendingTimerCount(): number {
  return heap.length;
}

function arm(): void {
  const deadline = heap[0].deadline;
  if (timerId !== undefined) {
    if (armedFor <= deadline) return;
    clearTimeout(timerId);
  }
  armedFor = deadline;
  timerId = setTimeout(onTimer, Math.max(0, deadline - performance.now()));
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
  while (heap.length > 0 && heap[0].deadline <= now) {
    const entry = heap[0];
    removeTimer(entry);
    entry.fire();
  }
  if (heap.length > 0) arm();
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
