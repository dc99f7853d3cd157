// One of several pipelined requests of a connection that run at the same
// time (`pipelineConcurrency`): its response is written straight through
// while it is first in line, and held in memory until then, so that the
// answers still leave in request order.

import { type ResponseHost, ResponseWriter } from "./_response.ts";

const encoder = new TextEncoder();

/** A request's place in the line of concurrently served pipelined requests. */
export class PipelineSlot implements ResponseHost {
  /** The response of this request. */
  readonly writer: ResponseWriter;
  /** Settles once the app is done and the response complete (never rejects). */
  run: Promise<void> = Promise.resolve();
  /** True once `run` has settled. */
  done = false;
  #host: ResponseHost;
  #keepAlive: () => boolean;
  #held: Uint8Array[] = [];
  #current: boolean;
  #discarded = false;

  /**
   * `host` is the connection; `keepAlive` tells whether the connection may
   * stay open after this request; `current` is true for the first in line.
   */
  constructor(host: ResponseHost, keepAlive: () => boolean, current: boolean) {
    this.#host = host;
    this.#keepAlive = keepAlive;
    this.#current = current;
    this.writer = new ResponseWriter(this);
  }

  write(data: Uint8Array | string): Promise<void> | undefined {
    if (this.#discarded) return undefined;
    if (this.#current) return this.#host.write(data);
    // Held until this request is first in line; copied, as the app may reuse it.
    this.#held.push(
      typeof data === "string" ? encoder.encode(data) : data.slice(),
    );
    return undefined;
  }

  flush(): Promise<void> {
    if (this.#current && !this.#discarded) return this.#host.flush();
    return Promise.resolve();
  }

  beforeHead(): boolean {
    return this.#keepAlive();
  }

  /** Becomes first in line: what was held goes out, and later writes go straight through. */
  async promote(): Promise<void> {
    this.#current = true;
    const held = this.#held;
    this.#held = [];
    // The connection keeps the order of writes that wait, so they can overlap.
    const waits: Promise<void>[] = [];
    for (const chunk of held) {
      const wait = this.#host.write(chunk);
      if (wait !== undefined) waits.push(wait);
    }
    await Promise.all(waits);
  }

  /** Drops this response: an earlier one closed the connection. */
  discard(): void {
    this.#discarded = true;
    this.#held = [];
  }
}
