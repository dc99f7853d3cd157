import { setImmediate } from "node:timers";

/** Something the run queue can resume: a parked wait or a tasklet to start. */
export interface Runnable {
  _run(): void;
}

let queue: Runnable[] = [];
let spare: Runnable[] = [];
// The round in progress: a snapshot of the queue, dispatched one at a time.
let batch: Runnable[] = [];
let batchIndex = 0;
let inRound = false;
let roundRequested = false;
// The tasklet known to be running: resumed and not yet parked or finished.
let holder: object | undefined = undefined;
let watchdogArmed = false;
let rounds = 0;
let sliceStart = performance.now();
let pendingIo = 0;

// Yield to the macrotask queue (timers, I/O completions) at least this often.
const SLICE_MS = 1;

/**
 * Appends `runnable` to the back of the run queue. Each round resumes a
 * snapshot of the queue in FIFO order, one runnable at a time: the next is
 * resumed only when the previous one's tasklet parks in a coio wait or ends,
 * so a tasklet runs until it blocks, as in Stackless. What is appended during
 * a round runs in the next one, which gives Stackless's exact round-robin.
 */
export function enqueue(runnable: Runnable): void {
  queue.push(runnable);
  if (inRound || roundRequested) return;
  // A running tasklet starts the next round when it parks.
  if (holder !== undefined) armWatchdog();
  else requestRound();
}

/** Number of runnables waiting to be resumed. */
export function runQueueLength(): number {
  return queue.length + (inRound ? batch.length - batchIndex : 0);
}

/**
 * Tells the scheduler that an I/O wait started (`+1`) or ended (`-1`). While
 * any is in flight, rounds are separated by a turn of the event loop so that
 * I/O completions are polled between rounds, as Syncless's main loop did.
 */
export function trackIo(delta: 1 | -1): void {
  pendingIo += delta;
}

/** Called when `tasklet` is resumed: it runs until it parks or ends. */
export function nowRunning(tasklet: object): void {
  holder = tasklet;
}

/**
 * Called when `tasklet` parks in a coio wait or ends: if it was the running
 * one, the next runnable of the round (or the next round) is resumed.
 */
export function nowParked(tasklet: object): void {
  if (tasklet !== holder) return;
  holder = undefined;
  if (inRound) dispatch();
  else if (queue.length > 0 && !roundRequested) startRound();
}

function requestRound(): void {
  roundRequested = true;
  if (pendingIo > 0) setImmediate(startSlice);
  else queueMicrotask(startRequestedRound);
}

function startRequestedRound(): void {
  roundRequested = false;
  if (inRound || queue.length === 0) return;
  // Something resumed meanwhile runs first; its parking starts the round.
  if (holder !== undefined) armWatchdog();
  else startRound();
}

function startSlice(): void {
  sliceStart = performance.now();
  startRequestedRound();
}

function startRound(): void {
  inRound = true;
  batch = queue;
  queue = spare;
  batchIndex = 0;
  dispatch();
}

function dispatch(): void {
  while (batchIndex < batch.length) {
    const runnable = batch[batchIndex];
    batch[batchIndex++] = undefined as unknown as Runnable;
    holder = undefined;
    // Resuming queues the tasklet's continuation as a microtask and makes it
    // the holder; the round goes on once it parks (see nowParked).
    runnable._run();
    if (holder !== undefined) {
      armWatchdog();
      return;
    }
  }
  batch.length = 0;
  spare = batch;
  inRound = false;
  if (queue.length === 0) return;
  if (
    pendingIo > 0 ||
    ((++rounds & 63) === 0 && performance.now() - sliceStart >= SLICE_MS)
  ) {
    roundRequested = true;
    setImmediate(startSlice);
  } else {
    startRound();
  }
}

// A tasklet that awaits something other than a coio wait (a plain promise, a
// foreign API) never parks: once the microtasks have drained, this macrotask
// treats it as parked so that the run queue goes on.
function armWatchdog(): void {
  if (watchdogArmed) return;
  watchdogArmed = true;
  setImmediate(onWatchdog);
}

function onWatchdog(): void {
  watchdogArmed = false;
  if (holder === undefined) return;
  holder = undefined;
  sliceStart = performance.now();
  if (inRound) dispatch();
  else if (queue.length > 0 && !roundRequested) startRound();
}
