/**
 * The error classes of the runtime. Every error that coio throws is one of
 * these (or a built-in `TypeError`/`RangeError` for misuse), each with a stable
 * `name` and, where it applies, a POSIX-style `code`.
 *
 * @module
 */

/**
 * Thrown by a wait that did not finish within its timeout, or by every wait
 * inside an expired {@linkcode withTimeout} scope. Its message is always
 * `"timed out"`, as Python's `socket.timeout` was.
 *
 * @example Catch a timeout
 * ```ts
 * import { sleep, TimeoutError, withTimeout } from "@syncless/syncless/coio";
 *
 * try {
 *   await withTimeout(10, () => sleep(1000));
 * } catch (error) {
 *   console.log(error instanceof TimeoutError); // true
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** Always `"ETIMEDOUT"`. */
  readonly code = "ETIMEDOUT";
  /** Creates a `TimeoutError` with the message `"timed out"`. */
  constructor(message = "timed out", options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * Thrown at once by a wait whose timeout is `0` and that cannot complete
 * without waiting (Python's `EAGAIN`).
 *
 * @example Poll a channel
 * ```ts
 * import { Channel, select, WouldBlockError } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<number>();
 * try {
 *   await select([{ receive: channel }], { timeout: 0 });
 * } catch (error) {
 *   console.log(error instanceof WouldBlockError); // true
 * }
 * ```
 */
export class WouldBlockError extends Error {
  /** Always `"EAGAIN"`. */
  readonly code = "EAGAIN";
  /** Creates a `WouldBlockError`. */
  constructor(message = "operation would block", options?: ErrorOptions) {
    super(message, options);
    this.name = "WouldBlockError";
  }
}

/**
 * Raised inside a tasklet at its current or next wait when it is killed with
 * {@linkcode Tasklet.prototype.kill}; a killed tasklet's `join()` rejects
 * with it. It is never reported as an uncaught error.
 *
 * @example Clean up when killed
 * ```ts
 * import { sleep, spawn, TaskletExit } from "@syncless/syncless/coio";
 *
 * const worker = spawn(async () => {
 *   try {
 *     await sleep(60_000);
 *   } finally {
 *     console.log("cleaning up");
 *   }
 * });
 * await sleep(1);
 * worker.kill();
 * await worker.join().catch((e) => console.log(e instanceof TaskletExit));
 * ```
 */
export class TaskletExit extends Error {
  /** Creates a `TaskletExit`. */
  constructor(message = "tasklet killed", options?: ErrorOptions) {
    super(message, options);
    this.name = "TaskletExit";
  }
}

/**
 * Thrown by {@linkcode TaskGroup.prototype.spawn} once the group's `join()`
 * has finished (or the group was disposed): a closed group takes no more
 * tasklets.
 *
 * @example
 * ```ts
 * import { TaskGroup, TaskGroupClosedError } from "@syncless/syncless/coio";
 *
 * const group = new TaskGroup();
 * await group.join();
 * try {
 *   group.spawn(() => {});
 * } catch (error) {
 *   console.log(error instanceof TaskGroupClosedError); // true
 * }
 * ```
 */
export class TaskGroupClosedError extends Error {
  /** Creates a `TaskGroupClosedError`. */
  constructor(message = "task group is closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "TaskGroupClosedError";
  }
}

/**
 * Thrown by an operation on a closed channel: a `send()` (with the unsent
 * `value`), or a `receive()` once the buffer is drained (with the close
 * `reason`).
 *
 * @example
 * ```ts
 * import { Channel, ChannelClosedError } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<string>();
 * channel.close("done");
 * try {
 *   await channel.receive();
 * } catch (error) {
 *   if (error instanceof ChannelClosedError) console.log(error.reason); // "done"
 * }
 * ```
 */
export class ChannelClosedError extends Error {
  /** The reason given to `close()`, if any. */
  readonly reason: unknown;
  /** The value a failed `send()` could not deliver. */
  readonly value: unknown;
  /** Creates a `ChannelClosedError`. */
  constructor(
    message = "channel closed",
    options: ErrorOptions & { reason?: unknown; value?: unknown } = {},
  ) {
    super(message, options);
    this.name = "ChannelClosedError";
    this.reason = options.reason;
    this.value = options.value;
  }
}

/**
 * An operating-system level I/O error with a POSIX `code` such as
 * `"ECONNREFUSED"`, `"ECONNRESET"`, `"EPIPE"` or `"EBADF"`.
 *
 * @example
 * ```ts
 * import { connect, SocketError } from "@syncless/syncless/coio";
 *
 * try {
 *   await connect({ hostname: "127.0.0.1", port: 1 });
 * } catch (error) {
 *   if (error instanceof SocketError) console.log(error.code); // "ECONNREFUSED"
 * }
 * ```
 */
export class SocketError extends Error {
  /** The POSIX error code, such as `"ECONNRESET"`. */
  readonly code: string;
  /** Creates a `SocketError` with the given POSIX code. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SocketError";
    this.code = code;
  }
}

/**
 * A name-resolution error in the shape of Python's `socket.gaierror`:
 * `code` is `"EAI_NONAME"`, `"EAI_NODATA"`, `"EAI_ADDRFAMILY"` or
 * `"EAI_AGAIN"`.
 *
 * @example
 * ```ts
 * import { GaiError, gethostbyname } from "@syncless/syncless/coio";
 *
 * try {
 *   await gethostbyname("no-such-host.invalid");
 * } catch (error) {
 *   if (error instanceof GaiError) console.log(error.code);
 * }
 * ```
 */
export class GaiError extends Error {
  /** `"EAI_NONAME"`, `"EAI_NODATA"`, `"EAI_ADDRFAMILY"` or `"EAI_AGAIN"`. */
  readonly code: string;
  /** Creates a `GaiError`. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GaiError";
    this.code = code;
  }
}

/**
 * A reverse-lookup error in the shape of Python's `socket.herror`; `code` is
 * `"HOST_NOT_FOUND"`.
 *
 * @example
 * ```ts
 * import { gethostbyaddr, HError } from "@syncless/syncless/coio";
 *
 * try {
 *   await gethostbyaddr("192.0.2.1");
 * } catch (error) {
 *   if (error instanceof HError) console.log(error.code); // "HOST_NOT_FOUND"
 * }
 * ```
 */
export class HError extends Error {
  /** Always `"HOST_NOT_FOUND"` today. */
  readonly code: string;
  /** Creates an `HError`. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HError";
    this.code = code;
  }
}

/**
 * A {@linkcode ThreadPool} call that could not run or finish: `code` is
 * `"ERR_POOL_CLOSED"` (the pool was closed before or during the call),
 * `"ERR_MODULE_NOT_FOUND"` or `"ERR_MODULE_LOAD"` (the module could not be
 * imported in the worker), `"ERR_NOT_A_FUNCTION"` (the export is missing or
 * not a function) or `"ERR_WORKER_EXITED"` (the worker died during the call).
 * Errors thrown by the called function itself are rethrown as they were.
 *
 * @example
 * ```ts
 * import { ThreadPool, ThreadPoolError } from "@syncless/syncless/coio";
 *
 * using pool = new ThreadPool(1);
 * try {
 *   await pool.run("file:///no/such/module.ts", "main");
 * } catch (error) {
 *   if (error instanceof ThreadPoolError) console.log(error.code); // "ERR_MODULE_NOT_FOUND"
 * }
 * ```
 */
export class ThreadPoolError extends Error {
  /** What went wrong, such as `"ERR_POOL_CLOSED"`. */
  readonly code: string;
  /** Creates a `ThreadPoolError`. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ThreadPoolError";
    this.code = code;
  }
}

/**
 * Thrown by a synchronous `Deno.*Sync` call made inside a tasklet while
 * {@linkcode forbidSync} is on in `"throw"` mode: such a call blocks every
 * tasklet until it returns. `call` names it, `tasklet` names the caller.
 *
 * @example
 * ```ts
 * import { BlockingCallError, spawn } from "@syncless/syncless";
 * import { allowSync, forbidSync } from "@syncless/syncless/patch";
 *
 * forbidSync({ mode: "throw" });
 * try {
 *   await spawn(() => Deno.readTextFileSync("deno.json")).join();
 * } catch (error) {
 *   if (error instanceof BlockingCallError) console.log(error.call); // "Deno.readTextFileSync"
 * } finally {
 *   allowSync();
 * }
 * ```
 */
export class BlockingCallError extends Error {
  /** The forbidden call, such as `"Deno.readFileSync"`. */
  readonly call: string;
  /** The name of the tasklet that made it. */
  readonly tasklet: string;
  /** Creates a `BlockingCallError`. */
  constructor(call: string, tasklet: string, options?: ErrorOptions) {
    super(
      `${call}() blocks every tasklet; tasklet "${tasklet}" should use the async version`,
      options,
    );
    this.name = "BlockingCallError";
    this.call = call;
    this.tasklet = tasklet;
  }
}
