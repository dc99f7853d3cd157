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
// Set when a tasklet of this round awaited something that is not a coio
// wait: the rest of the round is then resumed without waiting for each.
let flooding = false;
// Waiting for a macrotask turn in the middle of a round.
let paused = false;
let rounds = 0;
let sliceStart = performance.now();
let pendingIo = 0;

// Yield to the macrotask queue (timers, I/O completions) about this often,
// and much more often while I/O waits are in flight, so that a busy run
// queue still sees their completions within a few rounds.
const SLICE_MS = 1;
const IO_SLICE_MS = 0.05;

/**
 * Appends `runnable` to the back of the run queue. Each round resumes a
 * snapshot of the queue in FIFO order, one runnable at a time: the next is
 * resumed only when the previous one's tasklet parks in a coio wait or ends,
 * so a tasklet runs until it blocks, as in Stackless. What is appended during
 * a round runs in the next one, which gives Stackless's exact round-robin.
 * Rounds follow each other on microtasks; about every millisecond the
 * scheduler lets the event loop turn (timers, I/O) before going on.
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
 * any is in flight, a busy run queue lets the event loop turn every 50 µs
 * instead of every millisecond, so that I/O completions come in within a few
 * rounds (Syncless polled for I/O once per round).
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
  goOn();
}

function goOn(): void {
  if (paused) return;
  if (inRound) dispatch();
  else if (queue.length > 0 && !roundRequested) startRound();
}

function requestRound(): void {
  roundRequested = true;
  queueMicrotask(startRequestedRound);
}

function startRequestedRound(): void {
  roundRequested = false;
  if (inRound || queue.length === 0) return;
  // Something resumed meanwhile runs first; its parking starts the round.
  if (holder !== undefined) armWatchdog();
  else startRound();
}

function startRound(): void {
  inRound = true;
  flooding = false;
  batch = queue;
  queue = spare;
  batchIndex = 0;
  dispatch();
}

function sliceUsedUp(): boolean {
  return performance.now() - sliceStart >=
    (pendingIo > 0 ? IO_SLICE_MS : SLICE_MS);
}

function dispatch(): void {
  while (batchIndex < batch.length) {
    // A long round (many runnables) must not starve the event loop either.
    if (batchIndex > 0 && (batchIndex & 127) === 0 && sliceUsedUp()) {
      pause();
      return;
    }
    const runnable = batch[batchIndex];
    batch[batchIndex++] = undefined as unknown as Runnable;
    holder = undefined;
    // Resuming queues the tasklet's continuation as a microtask and makes it
    // the holder; the round goes on once it parks (see nowParked).
    runnable._run();
    if (holder !== undefined && !flooding) {
      armWatchdog();
      return;
    }
  }
  if (holder !== undefined) {
    // Flooded: the round ends when its last runnable parks.
    armWatchdog();
    return;
  }
  batch.length = 0;
  spare = batch;
  inRound = false;
  if (queue.length === 0) return;
  // The clock is read only every few rounds: a round can be a single
  // hand-off of a fraction of a microsecond.
  if ((++rounds & (pendingIo > 0 ? 7 : 63)) === 0 && sliceUsedUp()) {
    roundRequested = true;
    setImmediate(startSlice);
  } else {
    startRound();
  }
}

function startSlice(): void {
  sliceStart = performance.now();
  startRequestedRound();
}

function pause(): void {
  paused = true;
  setImmediate(unpause);
}

function unpause(): void {
  paused = false;
  sliceStart = performance.now();
  // A tasklet still running (flooded, or resumed by I/O meanwhile) goes on
  // the usual way: when it parks, or when the watchdog finds it blocked.
  if (holder === undefined) goOn();
  else armWatchdog();
}

// A tasklet that awaits something other than a coio wait (a plain promise, a
// foreign API) never parks: once the microtasks have drained, this macrotask
// treats it as parked so that the run queue goes on. Such a tasklet is out of
// the scheduler's hands anyway, so the rest of its round is resumed at once
// rather than paying one macrotask per tasklet.
function armWatchdog(): void {
  if (watchdogArmed) return;
  watchdogArmed = true;
  setImmediate(onWatchdog);
}

function onWatchdog(): void {
  watchdogArmed = false;
  sliceStart = performance.now();
  if (holder === undefined) return;
  holder = undefined;
  if (inRound) flooding = true;
  goOn();
}
