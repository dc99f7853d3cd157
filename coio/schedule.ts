import { enqueue } from "./_runqueue.ts";
import { suspend } from "./_waiter.ts";

/**
 * Puts the current tasklet at the back of the run queue and resolves when its
 * turn comes round again: every other runnable tasklet runs once first.
 * Killing or raising into the tasklet meanwhile rejects it.
 *
 * @example Round-robin
 * ```ts
 * import { schedule, spawn } from "@syncless/syncless/coio";
 *
 * let log = "";
 * const worker = (name: string, turns: number) => async () => {
 *   for (let i = 0; i < turns; i++) {
 *     log += name;
 *     await schedule();
 *   }
 * };
 * const tasklets = [spawn(worker("A", 2)), spawn(worker("B", 3))];
 * for (const t of tasklets) await t.join();
 * console.log(log); // "ABABB"
 * ```
 */
export function schedule(): Promise<void> {
  return suspend<void>(enqueue);
}
