// Network helpers for the reliability tests: raw exchanges with a deadline
// (a hang is reported, not waited for), open descriptor counts, bounded
// polling for a condition, a small concurrency pool.

import { latin1 } from "./_http_cases.ts";
import { type ParsedResponse, parseResponse } from "../wsgi/_helpers.ts";

/** What a raw exchange got back. */
export interface Exchange {
  /** Everything the server sent. */
  data: Uint8Array;
  /** The server reset the connection (after sending `data`). */
  reset: boolean;
  /** The deadline passed before the server closed the connection. */
  timedOut: boolean;
  /** Sending failed because the server had already closed. */
  sendFailed: boolean;
}

/**
 * Connects to `port`, sends `request` (in `pieces` writes when given),
 * half-closes and reads until the server closes, for at most `deadlineMs`.
 */
export async function exchangeRaw(
  port: number,
  request: Uint8Array,
  deadlineMs: number,
  options: { halfClose?: boolean; hostname?: string } = {},
): Promise<Exchange> {
  const { halfClose = true, hostname = "127.0.0.1" } = options;
  const conn = await Deno.connect({ hostname, port });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }, deadlineMs);
  let sendFailed = false;
  let reset = false;
  const parts: Uint8Array[] = [];
  let total = 0;
  // Read while writing: a server that answers early must not block us.
  const reading = (async () => {
    const chunk = new Uint8Array(65536);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(chunk);
      } catch (error) {
        if (!timedOut && isReset(error)) reset = true;
        return;
      }
      if (n === null) return;
      parts.push(chunk.slice(0, n));
      total += n;
    }
  })();
  try {
    let off = 0;
    while (off < request.length) off += await conn.write(request.subarray(off));
    if (halfClose) await conn.closeWrite();
  } catch (error) {
    if (!timedOut && !isReset(error)) throw error;
    sendFailed = true;
  }
  await reading;
  clearTimeout(timer);
  try {
    conn.close();
  } catch {
    // Closed by the deadline.
  }
  const data = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  return { data, reset, timedOut, sendFailed };
}

/** True for the errors a peer's reset or close shows up as. */
export function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.BadResource;
}

/** Splits a byte stream of responses; throws on anything malformed or cut. */
export function responsesOf(data: Uint8Array): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = latin1(data);
  while (rest.length > 0) {
    // A response to HEAD has no body: when reading one with a body leaves no
    // response behind it, read it as a HEAD response.
    let parsed = parseResponse(rest);
    const after = parsed === null ? "" : rest.slice(parsed.length);
    if (parsed === null || (after !== "" && !after.startsWith("HTTP/"))) {
      const asHead = parseResponse(rest, true);
      const afterHead = asHead === null ? "" : rest.slice(asHead.length);
      if (afterHead === "" || afterHead.startsWith("HTTP/")) parsed = asHead;
    }
    if (parsed === null) {
      throw new Error(
        `truncated response: ${JSON.stringify(rest.slice(0, 300))}`,
      );
    }
    out.push(parsed);
    rest = rest.slice(parsed.length);
  }
  return out;
}

/** True where /proc tells descriptor counts (Linux); tests that count skip elsewhere. */
export const HAS_PROC: boolean = (() => {
  try {
    Deno.statSync("/proc/self/fd");
    return true;
  } catch {
    return false;
  }
})();

/** Number of open file descriptors of this process. */
export function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/** Number of open file descriptors of process `pid`. */
export function openFdsOf(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** Resident set size of process `pid` (or this one), in KiB. */
export function rssKiB(pid: number | "self" = "self"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/**
 * Polls `condition` every `everyMs` until it holds (true) or `withinMs`
 * passes (false): for states that settle asynchronously, such as a server
 * closing its side of connections.
 */
export async function waitUntil(
  condition: () => boolean,
  withinMs: number,
  everyMs = 10,
): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  while (!condition()) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

/** Runs `count` jobs, at most `width` at a time; rejects with the first failure. */
export async function pool(
  count: number,
  width: number,
  job: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown = undefined;
  const lane = async () => {
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        await job(i);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
  if (failure !== undefined) throw failure;
}

/** A simple GET on a new connection: the status, or a thrown error. */
export async function getStatus(port: number, path = "/"): Promise<number> {
  const request = new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
  );
  const result = await exchangeRaw(port, request, 10_000);
  const responses = responsesOf(result.data);
  if (responses.length !== 1) {
    throw new Error(`expected one response, got ${responses.length}`);
  }
  return responses[0].status;
}
