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
export * from "./task_group.ts";
export * from "./current.ts";
export * from "./schedule.ts";
export * from "./sleep.ts";
export { type TimeoutScope, withTimeout } from "./with_timeout.ts";
export * from "./move_on_after.ts";
export * from "./run_with_timeout.ts";
export * from "./wait_for.ts";
export * from "./channel.ts";
export * from "./select.ts";
export * from "./receive_with_timeout.ts";
export * from "./queue.ts";
export * from "./lock.ts";
export * from "./semaphore.ts";
export * from "./event.ts";
export * from "./signal.ts";
export * from "./thread_pool.ts";
export {
  type ByteReader,
  type ByteWriter,
  NbFile,
  type NbFileOptions,
} from "./nb_file.ts";
export {
  type MakefileOptions,
  NbSocket,
  type StartTlsOptions,
} from "./nb_socket.ts";
export * from "./nb_listener.ts";
export * from "./connect.ts";
export * from "./socketpair.ts";
export * from "./limit_reader.ts";
export * from "./popen.ts";
export * from "./stdio.ts";
export * from "./open_file.ts";
export * from "./select_readable.ts";
export * from "./dns.ts";
export * from "./resolver_config.ts";
