/**
 * One DNS query as a coio wait: `Deno.resolveDns` with the resolver's
 * per-attempt timeout and attempt count, cancelled for real (through an
 * `AbortSignal`) when every tasklet waiting for it has been cancelled.
 * Identical queries in flight at the same time are sent once and shared, and
 * at most `maxConcurrentQueries` are sent at once (the others wait their
 * turn, FIFO): a burst of a thousand makes the server or the socket buffers
 * drop datagrams, and each drop costs a whole attempt timeout.
 *
 * @module
 */

import { type ResolverState, resolverState } from "./_resolver.ts";
import { trackIo } from "./_runqueue.ts";
import { addTimer, removeTimer, type TimerEntry } from "./_timers.ts";
import { suspend, type Waiter } from "./_waiter.ts";
import { GaiError } from "./errors.ts";

/** The records of a query; empty when the name has none of that type. */
export type DnsRecords = unknown[];

// Taken at load time: patchDeno() later makes Deno.resolveDns obey the calling
// tasklet, but a shared query belongs to no single tasklet.
const denoResolveDns = Deno.resolveDns;

// Queries in flight, by settings generation, type and lower-cased name.
const inflight = new Map<string, DnsQuery>();
// Queries sent and not yet settled, and those waiting for their turn.
let running = 0;
let queued: DnsQuery[] = [];
let queuedHead = 0;

/**
 * Asks DNS for the `type` records of `name` and waits for the answer as a
 * coio wait (kill, raise, timeout scopes and `signal` cancel it). Resolves
 * with `[]` when the server says there are none (NXDOMAIN or no data).
 * Rejects with `GaiError` `EAI_AGAIN` when every attempt timed out or failed,
 * and `EAI_NONAME` when the name is not a valid DNS name.
 */
export function queryDns(
  name: string,
  type: Deno.RecordType,
  signal?: AbortSignal,
): Promise<DnsRecords> {
  const settings = resolverState();
  const key = `${settings.generation}\0${type}\0${name.toLowerCase()}`;
  return suspend<DnsRecords>((waiter) => {
    let query = inflight.get(key);
    if (query === undefined) {
      query = new DnsQuery(key, name, type, settings);
      inflight.set(key, query);
      trackIo(1);
      query.join(waiter);
      if (running < settings.maxConcurrentQueries) {
        running++;
        query.start();
      } else {
        queued.push(query);
      }
    } else {
      query.join(waiter);
    }
  }, { signal });
}

/** Number of queries in flight (for tests: none may outlive its lookups). */
export function inflightQueryCount(): number {
  return inflight.size;
}

// A slot was freed: start the queries waiting for one, oldest first.
function startQueued(): void {
  while (queuedHead < queued.length) {
    const query = queued[queuedHead];
    if (running >= query.settings.maxConcurrentQueries) return;
    queued[queuedHead++] = undefined as unknown as DnsQuery;
    if (query.done) continue; // abandoned while it waited
    running++;
    query.start();
  }
  queued = [];
  queuedHead = 0;
}

class DnsQuery implements TimerEntry {
  deadline = 0;
  heapIndex = -1;
  #waiters = new Set<Waiter<DnsRecords>>();
  #controller: AbortController | undefined = undefined;
  #attempt = 0;
  #done = false;
  #lastError: unknown = undefined;

  constructor(
    readonly key: string,
    readonly name: string,
    readonly type: Deno.RecordType,
    readonly settings: ResolverState,
  ) {}

  join(waiter: Waiter<DnsRecords>): void {
    this.#waiters.add(waiter);
    waiter.onCancel = () => {
      this.#waiters.delete(waiter);
      // The last waiter gone: nobody wants the answer, stop asking.
      if (this.#waiters.size === 0) this.#finish();
    };
  }

  /** Starts the next attempt. */
  start(): void {
    const attempt = ++this.#attempt;
    const controller = this.#controller = new AbortController();
    addTimer(this, this.settings.timeout);
    const { nameServer } = this.settings;
    const options: Deno.ResolveDnsOptions = { signal: controller.signal };
    if (nameServer !== undefined) options.nameServer = nameServer;
    let promise: Promise<DnsRecords>;
    try {
      promise = denoResolveDns(this.name, this.type as "A", options);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (records) => {
        if (this.#current(attempt)) this.#settle(records, undefined);
      },
      (error) => {
        if (this.#current(attempt)) this.#failed(error);
      },
    );
  }

  /** Timer entry point: this attempt took too long. */
  fire(): void {
    this.#controller?.abort();
    this.#retry(undefined);
  }

  /** True once settled or abandoned. */
  get done(): boolean {
    return this.#done;
  }

  #current(attempt: number): boolean {
    return !this.#done && attempt === this.#attempt;
  }

  #failed(error: unknown): void {
    removeTimer(this);
    if (error instanceof Deno.errors.NotFound) {
      this.#settle([], undefined);
    } else if (
      error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied
    ) {
      // A missing --allow-net is the program's mistake: report it as it is.
      this.#settle(undefined, error);
    } else if (isBadName(error)) {
      this.#settle(
        undefined,
        new GaiError("EAI_NONAME", "Name or service not known", {
          cause: error,
        }),
      );
    } else {
      this.#retry(error);
    }
  }

  #retry(error: unknown): void {
    if (error !== undefined) this.#lastError = error;
    if (this.#attempt < this.settings.attempts) {
      this.start();
      return;
    }
    const options = this.#lastError === undefined
      ? undefined
      : { cause: this.#lastError };
    this.#settle(
      undefined,
      new GaiError(
        "EAI_AGAIN",
        "Temporary failure in name resolution",
        options,
      ),
    );
  }

  #settle(records: DnsRecords | undefined, error: unknown): void {
    const waiters = [...this.#waiters];
    this.#finish();
    let first = true;
    for (const waiter of waiters) {
      if (records === undefined) waiter.fail(error);
      else waiter.resume(first ? records : copyRecords(records));
      first = false;
    }
  }

  // Stops the query for good: no timer, no operation, not shared any more.
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    removeTimer(this);
    this.#controller?.abort();
    this.#controller = undefined;
    if (inflight.get(this.key) === this) inflight.delete(this.key);
    this.#waiters.clear();
    trackIo(-1);
    if (this.#attempt > 0) {
      running--;
      startQueued();
    }
  }
}

// Deno's resolver refuses names it cannot encode with a plain `Error` whose
// message names the fault ("Malformed label", "unrecognized char" ...).
function isBadName(error: unknown): boolean {
  return error instanceof Error && error.constructor === Error &&
    /label|char|name/i.test(error.message);
}

// Each waiter of a shared query gets its own arrays and record objects.
function copyRecords(records: DnsRecords): DnsRecords {
  return records.map((r) =>
    Array.isArray(r)
      ? [...r]
      : r !== null && typeof r === "object"
      ? { ...r }
      : r
  );
}
