import { setImmediate } from "node:timers";

/** Something the run queue can resume: a parked wait or a tasklet to start. */
export interface Runnable {
  _run(): void;
}

let queue: Runnable[] = [];
let spare: Runnable[] = [];
let scheduled = false;
let rounds = 0;
let sliceStart = performance.now();
let pendingIo = 0;

// Yield to the macrotask queue (timers, I/O completions) at least this often.
const SLICE_MS = 1;

/**
 * Appends `runnable` to the back of the run queue. Each round resumes a
 * snapshot of the queue in FIFO order; what is appended during a round runs in
 * the next one, which gives Stackless's exact round-robin.
 */
export function enqueue(runnable: Runnable): void {
  queue.push(runnable);
  if (!scheduled) {
    scheduled = true;
    if (pendingIo > 0) setImmediate(startSlice);
    else queueMicrotask(runRound);
  }
}

/** Number of runnables waiting for the next round. */
export function runQueueLength(): number {
  return queue.length;
}

/**
 * Tells the scheduler that an I/O wait started (`+1`) or ended (`-1`). While
 * any is in flight, rounds are separated by a turn of the event loop so that
 * I/O completions are polled between rounds, as Syncless's main loop did.
 */
export function trackIo(delta: 1 | -1): void {
  pendingIo += delta;
}

function startSlice(): void {
  sliceStart = performance.now();
  runRound();
}

function runRound(): void {
  const batch = queue;
  queue = spare;
  // Resuming only queues each continuation as a microtask, in batch order;
  // they run after this loop, so anything they append lands in the next round.
  for (let i = 0; i < batch.length; i++) batch[i]._run();
  batch.length = 0;
  spare = batch;
  if (queue.length === 0) {
    scheduled = false;
    return;
  }
  if (pendingIo > 0) {
    setImmediate(startSlice);
  } else if (
    (++rounds & 63) === 0 && performance.now() - sliceStart >= SLICE_MS
  ) {
    setImmediate(startSlice);
  } else {
    queueMicrotask(runRound);
  }
}
