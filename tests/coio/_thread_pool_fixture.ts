// Functions that tests/coio/thread_pool_test.ts runs in ThreadPool workers.
import process from "node:process";
import { threadId } from "node:worker_threads";

/** Adds two numbers. */
export function add(a: number, b: number): number {
  return a + b;
}

/** Doubles `x` after a turn of the worker's event loop. */
export async function doubleLater(x: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return x * 2;
}

/** The id of the worker thread running this call. */
export function workerId(): number {
  return threadId;
}

let calls = 0;

/** Numbers the calls this worker has run: returns `[tag, n]`. */
export function record(tag: string): [string, number] {
  return [tag, ++calls];
}

/**
 * Keeps the CPU busy until `flag[0]` becomes non-zero, or gives up after
 * `limitMs` so that a broken test cannot spin forever.
 */
export function spinUntilSet(flag: SharedArrayBuffer, limitMs: number): string {
  const cell = new Int32Array(flag);
  const end = Date.now() + limitMs;
  let spins = 0;
  while (Atomics.load(cell, 0) === 0) {
    if (++spins % 1024 === 0 && Date.now() > end) return "gave up";
  }
  return "released";
}

/**
 * Blocks the worker's thread in `Atomics.wait` (a blocking, synchronous
 * call) until `flag[0]` is notified, at most `limitMs`.
 */
export function blockUntilNotified(
  flag: SharedArrayBuffer,
  limitMs: number,
): string {
  const result = Atomics.wait(new Int32Array(flag), 0, 0, limitMs);
  return result === "timed-out" ? "gave up" : "released";
}

/** Blocks like `blockUntilNotified`, then records `tag`. */
export function blockThenRecord(
  flag: SharedArrayBuffer,
  tag: string,
): [string, string, number] {
  const outcome = blockUntilNotified(flag, 10_000);
  return [outcome, ...record(tag)];
}

/** Throws a `TypeError`. */
export function throwTypeError(message: string): never {
  throw new TypeError(message);
}

class ParseFailure extends Error {
  code = "E_PARSE";
  constructor(message: string) {
    super(message);
    this.name = "ParseFailure";
  }
}

/** Throws an error of a class the caller does not know. */
export async function throwCustom(message: string): Promise<never> {
  await Promise.resolve();
  throw new ParseFailure(message);
}

/** Throws something that is not an Error. */
export function throwString(): never {
  throw "a plain string";
}

/** Returns a value that cannot be cloned. */
export function returnFunction(): () => number {
  return () => 1;
}

/** Ends the worker's thread. */
export function exitWorker(code: number): never {
  process.exit(code);
}

/** Never returns; an uncaught error kills the worker first. */
export function crashLater(): Promise<never> {
  setTimeout(() => {
    throw new Error("crashed later");
  }, 0);
  return new Promise(() => {});
}

/** Not a function. */
export const answer = 42;
