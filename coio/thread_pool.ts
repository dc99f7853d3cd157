import { Worker as NodeWorker } from "node:worker_threads";
import { suspend, type Waiter } from "./_waiter.ts";
import { ThreadPoolError } from "./errors.ts";

/** Options for {@linkcode ThreadPool.prototype.run}, given before the module URL. */
export interface ThreadPoolRunOptions {
  /**
   * Cancels the call when aborted: it then rejects with `signal.reason`
   * (a running call's worker is terminated, see `run`).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Milliseconds the call may take, queueing included: `null`/`undefined`
   * waits forever, `> 0` throws `TimeoutError` after that long.
   *
   * @default {undefined}
   */
  timeout?: number | null;
}

// What the pool asks a worker: call `name` exported by the module at `url`.
interface Request {
  url: string;
  name: string;
  args: unknown[];
}

// On the wire a request for the same function as the worker's previous call
// is just its arguments, which keeps the hot path's messages small.
type WireRequest = Request | unknown[];

// An error (or any thrown value) as it crosses from the worker.
type Thrown =
  | {
    isError: true;
    name: string;
    message: string;
    stack?: string;
    code?: unknown;
  }
  | { isError: false; value: unknown };

// A result travels as `[value]`; anything else is a failure.
type Failure =
  | { kind: "throw" | "import" | "clone"; error: Thrown }
  | { kind: "export"; found: string };
type Reply = [value: unknown] | Failure;

interface Port {
  on(event: "message", listener: (request: WireRequest) => void): void;
  postMessage(reply: Reply): void;
}

/**
 * The body of every worker. It is sent as the source of a `data:` URL (see
 * WORKER_URL), so it must not use anything from this module's scope.
 */
function workerMain(port: Port): void {
  const describe = (thrown: unknown): Thrown => {
    if (!(thrown instanceof Error)) return { isError: false, value: thrown };
    const code = (thrown as { code?: unknown }).code;
    return {
      isError: true,
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
      code: typeof code === "string" || typeof code === "number"
        ? code
        : undefined,
    };
  };
  const send = (reply: Reply) => {
    try {
      port.postMessage(reply);
    } catch (error) {
      port.postMessage({ kind: "clone", error: describe(error) });
    }
  };
  const settle = (value: unknown) => send([value]);
  const fail = (error: unknown) =>
    send({ kind: "throw", error: describe(error) });
  const call = (exports: Record<string, unknown>, request: Request) => {
    const fn = exports[request.name];
    if (typeof fn !== "function") {
      const found = request.name in exports ? typeof fn : "nothing";
      send({ kind: "export", found });
      return;
    }
    let value: unknown;
    try {
      value = fn(...request.args);
    } catch (error) {
      fail(error);
      return;
    }
    // Synchronous results go back at once, without a trip through a promise.
    if (typeof (value as PromiseLike<unknown> | null)?.then === "function") {
      Promise.resolve(value).then(settle, fail);
    } else {
      settle(value);
    }
  };
  // A worker runs one call at a time, so a module is never imported twice
  // at once; a failed import is retried by the next call.
  const loaded = new Map<string, Record<string, unknown>>();
  let previous: Request = { url: "", name: "", args: [] };
  port.on("message", (message) => {
    let request: Request;
    if (Array.isArray(message)) {
      request = { url: previous.url, name: previous.name, args: message };
    } else {
      request = previous = message;
    }
    const exports = loaded.get(request.url);
    if (exports !== undefined) {
      call(exports, request);
      return;
    }
    import(request.url).then((module: Record<string, unknown>) => {
      loaded.set(request.url, module);
      call(module, request);
    }, (error: unknown) => {
      send({ kind: "import", error: describe(error) });
    });
  });
}

// A data: URL works wherever this file was loaded from (file:, https:, JSR),
// and node:worker_threads accepts only data: and file: URLs.
const WORKER_URL = new URL(
  "data:text/javascript," + encodeURIComponent(
    `import { parentPort } from "node:worker_threads";\n(${workerMain})(parentPort);\n`,
  ),
);

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds, on this side, what the worker threw. */
function revive(thrown: Thrown): unknown {
  if (!thrown.isError) return thrown.value;
  const error = new (BUILTIN_ERRORS[thrown.name] ?? Error)(thrown.message);
  if (error.name !== thrown.name) error.name = thrown.name;
  if (thrown.stack !== undefined) error.stack = thrown.stack;
  if (thrown.code !== undefined) {
    (error as Error & { code?: unknown }).code = thrown.code;
  }
  return error;
}

// One call, from run() until it settles.
interface Call extends Request {
  waiter: Waiter<unknown>;
  thread: Thread | undefined;
}

// One worker and what it is doing.
interface Thread {
  worker: NodeWorker;
  call: Call | undefined;
  referenced: boolean;
  terminated: boolean;
  // The function of the last request sent in full, if it was found then.
  lastUrl: string;
  lastName: string;
  // The worker's uncaught error, reported just before it exits.
  error: unknown;
}

/**
 * A pool of Web Workers (through `node:worker_threads`) that runs functions
 * off the main thread, like Syncless's `thread_pool`: use it for CPU-bound
 * work and for blocking calls (`Deno.*Sync`, `Atomics.wait`) so that they do
 * not stall the tasklets. `run(moduleUrl, exportName, ...args)` imports the
 * module in a worker, calls the exported function with the arguments
 * (structured-cloned), and resolves with its (awaited, cloned) result.
 *
 * Workers are started lazily, up to `maxThreads`, and reused; extra calls
 * wait in FIFO order for a free worker. Idle workers do not keep the process
 * alive, so forgetting `close()` does not hang a program at its end; a
 * running call does keep it alive. `close()` (or `using`) terminates the
 * workers and rejects the calls still pending.
 *
 * @example Run a CPU-bound function while other tasklets keep running
 * ```ts ignore
 * // fib.ts: export function fib(n: number): number {
 * //   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * // }
 * import { ThreadPool } from "@syncless/syncless/coio";
 *
 * using pool = new ThreadPool(2);
 * const url = new URL("./fib.ts", import.meta.url);
 * const [a, b] = await Promise.all([pool.run(url, "fib", 30), pool.run(url, "fib", 31)]);
 * console.log(a + b); // 2178309
 * ```
 *
 * @example Errors come back to the caller
 * ```ts
 * import { ThreadPool } from "@syncless/syncless/coio";
 *
 * using pool = new ThreadPool(1);
 * const url = "data:text/javascript,export function parse(s) { return JSON.parse(s); }";
 * console.log(await pool.run(url, "parse", "[1, 2]")); // [1, 2]
 * await pool.run(url, "parse", "{").catch((error) => {
 *   console.log(error instanceof SyntaxError); // true
 * });
 * ```
 */
export class ThreadPool implements Disposable {
  /** The most workers this pool runs at once. */
  readonly maxThreads: number;
  #threads = new Set<Thread>();
  #idle: Thread[] = [];
  // Insertion-ordered: calls waiting for a worker, oldest first.
  #queue = new Set<Call>();
  #closed = false;

  /**
   * Creates a pool that starts at most `maxThreads` workers.
   *
   * @param maxThreads A positive integer; defaults to the number of CPUs.
   * @throws {RangeError} when `maxThreads` is not a positive safe integer.
   */
  constructor(maxThreads: number = navigator.hardwareConcurrency) {
    if (!Number.isSafeInteger(maxThreads) || maxThreads < 1) {
      throw new RangeError(
        `ThreadPool maxThreads must be a positive integer, got ${
          String(maxThreads)
        }`,
      );
    }
    this.maxThreads = maxThreads;
  }

  /** Number of workers started and not terminated. */
  get threadCount(): number {
    return this.#threads.size;
  }

  /** Number of calls running in a worker now. */
  get running(): number {
    return this.#threads.size - this.#idle.length;
  }

  /** Number of calls waiting for a free worker. */
  get queued(): number {
    return this.#queue.size;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Calls `exportName(...args)` from the module at `moduleUrl` in a worker
   * and resolves with its result; the calling tasklet waits while the others
   * run. An error thrown by the function is rethrown here with its name,
   * message, stack and `code` (built-in error types keep their class; other
   * thrown values come back as they are). Pass an options object first to
   * add a `signal` or a `timeout`.
   *
   * The call is cancelled like any coio wait (kill, raise, timeout scopes,
   * `signal`, `timeout`). A cancelled call that is still queued never runs;
   * one that is running has its worker terminated, since JavaScript cannot
   * interrupt a function, so that abandoned work cannot hold a worker
   * forever; the next call starts a fresh worker.
   *
   * @param moduleUrl An absolute URL (`file:`, `https:`, `data:`...), such as
   *   `new URL("./work.ts", import.meta.url)`.
   * @param exportName The name of an exported function of that module.
   * @param args Arguments, copied with the structured clone algorithm.
   * @throws {ThreadPoolError} `ERR_POOL_CLOSED` after `close()`,
   *   `ERR_MODULE_NOT_FOUND` / `ERR_MODULE_LOAD` when the module cannot be
   *   imported, `ERR_NOT_A_FUNCTION` when the export is not a function,
   *   `ERR_WORKER_EXITED` when the worker dies during the call.
   * @throws {TypeError} when `moduleUrl` is not an absolute URL, `exportName`
   *   is not a non-empty string, or the arguments or result cannot be cloned.
   */
  run<T = unknown>(
    moduleUrl: string | URL,
    exportName: string,
    ...args: unknown[]
  ): Promise<T>;
  /**
   * Like the form without options, with a `signal` or a `timeout` for the
   * call (see {@linkcode ThreadPoolRunOptions}).
   */
  run<T = unknown>(
    options: ThreadPoolRunOptions,
    moduleUrl: string | URL,
    exportName: string,
    ...args: unknown[]
  ): Promise<T>;
  run<T = unknown>(first: unknown, ...rest: unknown[]): Promise<T> {
    let options: ThreadPoolRunOptions | undefined;
    if (
      first !== null && typeof first === "object" && !(first instanceof URL)
    ) {
      options = first as ThreadPoolRunOptions;
      first = rest.shift();
    }
    const [moduleUrl, exportName, ...args] = [first, ...rest];
    let url: string;
    if (moduleUrl instanceof URL) {
      url = moduleUrl.href;
    } else if (typeof moduleUrl === "string" && URL.canParse(moduleUrl)) {
      url = moduleUrl;
    } else {
      return Promise.reject(
        new TypeError(
          `ThreadPool.run() needs an absolute module URL, such as new URL("./work.ts", import.meta.url), got ${
            typeof moduleUrl === "string"
              ? JSON.stringify(moduleUrl)
              : String(moduleUrl)
          }`,
        ),
      );
    }
    if (typeof exportName !== "string" || exportName === "") {
      return Promise.reject(
        new TypeError(
          `ThreadPool.run() needs the name of an exported function, got ${
            typeof exportName === "string" ? '""' : typeof exportName
          }`,
        ),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        new ThreadPoolError("ERR_POOL_CLOSED", "ThreadPool is closed"),
      );
    }
    return suspend<T>((waiter) => {
      const call: Call = {
        url,
        name: exportName,
        args,
        waiter: waiter as Waiter<unknown>,
        thread: undefined,
      };
      waiter.onCancel = () => this.#cancel(call);
      const thread = this.#idle.pop() ?? this.#start();
      if (thread === undefined) this.#queue.add(call);
      else this.#dispatch(thread, call);
    }, options);
  }

  /**
   * Terminates every worker and rejects every pending call, running or
   * queued, with a `ThreadPoolError` (`ERR_POOL_CLOSED`); later `run()`
   * calls reject the same way. Calling it again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = () =>
      new ThreadPoolError("ERR_POOL_CLOSED", "ThreadPool was closed");
    const queued = [...this.#queue];
    this.#queue.clear();
    for (const call of queued) call.waiter.fail(error());
    for (const thread of [...this.#threads]) {
      const call = thread.call;
      this.#discard(thread);
      if (call !== undefined) {
        call.thread = undefined;
        call.waiter.fail(error());
      }
    }
  }

  /** Same as {@linkcode ThreadPool.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Starts a worker if the pool may have another one. */
  #start(): Thread | undefined {
    if (this.#closed || this.#threads.size >= this.maxThreads) return undefined;
    const worker = new NodeWorker(WORKER_URL, { name: "syncless thread pool" });
    const thread: Thread = {
      worker,
      call: undefined,
      referenced: true,
      terminated: false,
      lastUrl: "",
      lastName: "",
      error: undefined,
    };
    worker.on("message", (reply: Reply) => this.#onReply(thread, reply));
    worker.on("error", (error: unknown) => {
      thread.error = error;
    });
    worker.on("exit", (code: number) => this.#onExit(thread, code));
    this.#threads.add(thread);
    return thread;
  }

  #dispatch(thread: Thread, call: Call): void {
    thread.call = call;
    call.thread = thread;
    setReferenced(thread, true);
    const { url, name, args } = call;
    try {
      if (url === thread.lastUrl && name === thread.lastName) {
        thread.worker.postMessage(args satisfies WireRequest);
      } else {
        thread.worker.postMessage({ url, name, args } satisfies WireRequest);
        thread.lastUrl = url;
        thread.lastName = name;
      }
    } catch (error) {
      thread.call = call.thread = undefined;
      this.#release(thread);
      call.waiter.fail(
        new TypeError(
          `Cannot send the arguments of ${name}() to a worker: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        ),
      );
    }
  }

  /** Gives a free worker the oldest queued call, or lets it idle. */
  #release(thread: Thread): void {
    for (const next of this.#queue) {
      this.#queue.delete(next);
      this.#dispatch(thread, next);
      return;
    }
    setReferenced(thread, false);
    this.#idle.push(thread);
  }

  /** Starts workers for queued calls, up to the limit. */
  #drainQueue(): void {
    for (const next of this.#queue) {
      const thread = this.#start();
      if (thread === undefined) return;
      this.#queue.delete(next);
      this.#dispatch(thread, next);
    }
  }

  #onReply(thread: Thread, reply: Reply): void {
    const call = thread.call;
    if (call === undefined || thread.terminated) return;
    thread.call = call.thread = undefined;
    if (Array.isArray(reply)) {
      this.#release(thread);
      call.waiter.resume(reply[0]);
      return;
    }
    // The function was not found: send the next request for it in full.
    if (reply.kind === "import" || reply.kind === "export") {
      thread.lastUrl = thread.lastName = "";
    }
    this.#release(thread);
    call.waiter.fail(replyError(reply, call));
  }

  #onExit(thread: Thread, code: number): void {
    if (thread.terminated) return;
    thread.terminated = true;
    this.#forget(thread);
    const call = thread.call;
    if (call !== undefined) {
      thread.call = call.thread = undefined;
      call.waiter.fail(
        new ThreadPoolError(
          "ERR_WORKER_EXITED",
          `The worker running ${call.name}() from ${call.url} exited with code ${code}${
            thread.error instanceof Error ? ` (${thread.error})` : ""
          }`,
          { cause: thread.error },
        ),
      );
    }
    this.#drainQueue();
  }

  #cancel(call: Call): void {
    const thread = call.thread;
    if (thread === undefined) {
      this.#queue.delete(call);
      return;
    }
    thread.call = call.thread = undefined;
    this.#discard(thread);
    this.#drainQueue();
  }

  #forget(thread: Thread): void {
    this.#threads.delete(thread);
    const index = this.#idle.indexOf(thread);
    if (index >= 0) this.#idle.splice(index, 1);
  }

  #discard(thread: Thread): void {
    thread.terminated = true;
    this.#forget(thread);
    thread.worker.terminate();
  }
}

// Only busy workers keep the process alive.
function setReferenced(thread: Thread, referenced: boolean): void {
  if (thread.referenced === referenced) return;
  thread.referenced = referenced;
  if (referenced) thread.worker.ref();
  else thread.worker.unref();
}

function replyError(reply: Failure, call: Call): unknown {
  const where = `${call.name}() from ${call.url}`;
  switch (reply.kind) {
    case "throw":
      return revive(reply.error);
    case "export":
      return new ThreadPoolError(
        "ERR_NOT_A_FUNCTION",
        reply.found === "nothing"
          ? `Module ${call.url} has no export named ${
            JSON.stringify(call.name)
          }`
          : `Export ${
            JSON.stringify(call.name)
          } of ${call.url} is not a function (it is ${reply.found})`,
      );
    case "import": {
      const cause = revive(reply.error);
      // Deno gives syntax errors the code ERR_MODULE_NOT_FOUND too.
      const notFound = reply.error.isError &&
        reply.error.message.startsWith("Module not found");
      return new ThreadPoolError(
        notFound ? "ERR_MODULE_NOT_FOUND" : "ERR_MODULE_LOAD",
        `Cannot import ${call.url} in a worker: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        { cause },
      );
    }
    case "clone": {
      const cause = revive(reply.error);
      return new TypeError(
        `What ${where} returned or threw could not be sent back from the worker: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        { cause },
      );
    }
  }
}
