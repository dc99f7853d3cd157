/**
 * The coio runtime: tasklets, channels, timeouts, synchronisation, buffered
 * non-blocking I/O, DNS, signals and a thread pool, on Deno's event loop.
 *
 * ```ts
 * import { Channel, spawn } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<string>();
 * spawn(async () => await channel.send("hello"));
 * console.log(await channel.receive()); // "hello"
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export {
  setUncaughtErrorHandler,
  Tasklet,
  type UncaughtErrorHandler,
} from "./tasklet.ts";
export * from "./spawn.ts";
export * from "./current.ts";
export * from "./schedule.ts";
export * from "./sleep.ts";
export { TimeoutScope, withTimeout } from "./with_timeout.ts";
export * from "./move_on_after.ts";
export * from "./run_with_timeout.ts";
export * from "./wait_for.ts";
