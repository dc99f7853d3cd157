import { setCheckpointHook } from "../coio/_checkpoint.ts";
import type { Tasklet } from "../coio/tasklet.ts";

/** One event-loop stall found by {@linkcode detectBlocking}. */
export interface BlockReport {
  /** How long the event loop could not run anything else, in milliseconds. */
  durationMs: number;
  /** The tasklet whose code ran all that time, when it is known. */
  tasklet: Tasklet | undefined;
  /** That tasklet's name (`"main"` for top-level code), or `undefined`. */
  taskletName: string | undefined;
}

/** Options for {@linkcode detectBlocking}. */
export interface DetectBlockingOptions {
  /**
   * Stalls longer than this many milliseconds are reported.
   *
   * @default {100}
   */
  thresholdMs?: number;
  /**
   * Called once for each stall, from a timer (outside any tasklet).
   *
   * @default {a `console.warn` line naming the duration and the tasklet}
   */
  onBlock?: (report: BlockReport) => void;
}

/** Stops what started it; also usable with `using`. */
export interface StopFunction {
  /** Stops; calling it again does nothing. */
  (): void;
  /** The same as calling the function. */
  [Symbol.dispose](): void;
}

interface Detector {
  threshold: number;
  onBlock: (report: BlockReport) => void;
  slices: BlockReport[];
}

const detectors = new Set<Detector>();
let lastCheckpoint = 0;
let minThreshold = Infinity;

// Called at every yield point while some detector runs. The time since the
// previous checkpoint is charged to the tasklet that yields now: no other
// code could have run in between without passing through a checkpoint, except
// code that awaits something other than a coio wait (the gap then also covers
// that code, and the watchdog's lateness covers stalls nobody is charged for).
function onCheckpoint(tasklet: Tasklet | undefined): void {
  const now = performance.now();
  const gap = now - lastCheckpoint;
  lastCheckpoint = now;
  if (tasklet === undefined || gap <= minThreshold) return;
  for (const detector of detectors) {
    if (gap > detector.threshold) {
      detector.slices.push({
        durationMs: gap,
        tasklet,
        taskletName: tasklet.name,
      });
    }
  }
}

function defaultOnBlock({ durationMs, taskletName }: BlockReport): void {
  const who = taskletName === undefined
    ? "code that no tasklet was charged for"
    : `tasklet "${taskletName}"`;
  console.warn(
    `syncless: the event loop was blocked for ${
      Math.round(durationMs)
    } ms by ${who}`,
  );
}

/**
 * Reports every event-loop stall longer than `thresholdMs`: a synchronous
 * call (`Deno.readFileSync`, a long loop, `Atomics.wait`) freezes every
 * tasklet, and this names the tasklet that did it. A watchdog timer measures
 * how late it fires, and every coio wait and tasklet end marks a yield point,
 * so each stretch of code between two yield points is timed and charged to
 * the tasklet that ran it. `onBlock` gets one report per stall, from the
 * watchdog, after the stall is over. Off by default; while on, each yield
 * point costs one clock read. The watchdog timer does not keep the process
 * alive. Several detectors may run at once.
 *
 * @example Find the tasklet that blocks
 * ```ts
 * import { sleep, spawn } from "@syncless/syncless/coio";
 * import { detectBlocking } from "@syncless/syncless/patch";
 *
 * const stop = detectBlocking({
 *   thresholdMs: 50,
 *   onBlock: ({ durationMs, taskletName }) =>
 *     console.log(`${taskletName} blocked for ${Math.round(durationMs)} ms`),
 * });
 * await spawn({ name: "cruncher" }, () => {
 *   let spins = 0;
 *   const end = performance.now() + 100;
 *   while (performance.now() < end) spins++;
 *   return spins;
 * }).join();
 * await sleep(100); // "cruncher blocked for 100 ms"
 * stop();
 * ```
 *
 * @param options The threshold and the report callback.
 * @returns A function that stops the detector (also disposable).
 * @throws {RangeError} when `thresholdMs` is not a positive finite number.
 * @throws {TypeError} when `onBlock` is given and is not a function.
 */
export function detectBlocking(
  options: DetectBlockingOptions = {},
): StopFunction {
  const { thresholdMs = 100, onBlock = defaultOnBlock } = options;
  if (
    typeof thresholdMs !== "number" || !Number.isFinite(thresholdMs) ||
    thresholdMs <= 0
  ) {
    throw new RangeError(
      `thresholdMs must be a positive number of milliseconds, got ${
        String(thresholdMs)
      }`,
    );
  }
  if (typeof onBlock !== "function") {
    throw new TypeError(`onBlock must be a function, got ${typeof onBlock}`);
  }
  const detector: Detector = { threshold: thresholdMs, onBlock, slices: [] };
  // Ticks often enough that a stall shows up as lateness well before it
  // reaches the threshold, but never busier than every 2 ms.
  const interval = Math.min(Math.max(thresholdMs / 4, 2), 250);
  let due = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const arm = () => {
    due = performance.now() + interval;
    const id = setTimeout(tick, interval);
    Deno.unrefTimer(id);
    timer = id;
  };
  const tick = () => {
    const now = performance.now();
    const lateness = now - due;
    lastCheckpoint = now;
    const slices = detector.slices;
    detector.slices = [];
    arm();
    if (slices.length > 0) {
      for (const report of slices) deliver(detector, report);
    } else if (lateness > thresholdMs) {
      deliver(detector, {
        durationMs: lateness,
        tasklet: undefined,
        taskletName: undefined,
      });
    }
  };

  if (detectors.size === 0) {
    lastCheckpoint = performance.now();
    setCheckpointHook(onCheckpoint);
  }
  detectors.add(detector);
  minThreshold = Math.min(minThreshold, thresholdMs);
  arm();

  const stop = () => {
    if (!detectors.delete(detector)) return;
    clearTimeout(timer);
    minThreshold = Infinity;
    for (const other of detectors) {
      minThreshold = Math.min(minThreshold, other.threshold);
    }
    if (detectors.size === 0) setCheckpointHook(undefined);
  };
  return Object.assign(stop, { [Symbol.dispose]: stop });
}

function deliver(detector: Detector, report: BlockReport): void {
  try {
    detector.onBlock(report);
  } catch (error) {
    console.error("syncless: detectBlocking's onBlock threw:", error);
  }
}
