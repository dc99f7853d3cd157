/**
 * The functions that examples/thread_pool.ts runs in worker threads. Each
 * worker imports this module, so it stays small and imports nothing.
 *
 * @module
 */

/** Blocks its thread for `ms` (like Python's `time.sleep` in the original). */
export function blockingSleep(ms: number): number {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
}

/** Busy work: the n-th Fibonacci number, the slow way. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Fails like the original's `1 / 0`. */
export function divide(a: number, b: number): number {
  if (b === 0) throw new RangeError("division by zero");
  return a / b;
}
