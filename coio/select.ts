import { SelectEntry, type SelectOutcome } from "./_select_entry.ts";
import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";
import { Channel } from "./channel.ts";

/** A `select` case that receives from `receive`. */
export interface ReceiveCase<T> {
  /** The channel to receive from. */
  receive: Channel<T>;
}

/** A `select` case that sends `value` on `send`. */
export interface SendCase<T> {
  /** The channel to send on. */
  send: Channel<T>;
  /** The value to send. */
  value: T;
}

/** One case of {@linkcode select}: a receive or a send. */
export type SelectCase<T = unknown> = ReceiveCase<T> | SendCase<T>;

/** Options for {@linkcode select}. */
export interface SelectOptions {
  /** Cancels the wait; `select` then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for a case: `null`/`undefined` waits forever, `0`
   * throws `WouldBlockError` at once when no case is ready, `> 0` throws
   * `TimeoutError` after that long.
   *
   * @default {undefined}
   */
  timeout?: number | null;
  /**
   * Never wait: when no case is ready, resolve at once with `index` -1
   * (Go's `default:` case).
   *
   * @default {false}
   */
  default?: boolean;
}

/** The case {@linkcode select} chose, and what it received. */
export interface SelectResult<T = unknown> {
  /** Position of the chosen case in `cases`; -1 for the `default` outcome. */
  index: number;
  /** The value received by a receive case; `undefined` for a send case. */
  value: T | undefined;
}

const DEFAULT_RESULT: SelectResult<never> = Object.freeze({
  index: -1,
  value: undefined,
});

// Context for `park`, set right before the `suspend()` call that runs it.
let parkCases: readonly SelectCase<unknown>[];

function park(waiter: Waiter<SelectOutcome>): void {
  const cases = parkCases;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const sending = "send" in c;
    const channel = sending ? c.send : c.receive;
    channel._register(
      new SelectEntry(waiter, i, sending ? c.value : undefined),
      sending,
    );
    // A closed channel fails the select at once: register no further.
    if (waiter.settled) return;
  }
}

/**
 * Waits until one of several channel operations can complete, performs it,
 * and tells which (Go's `select`). A case is `{ receive: channel }` or
 * `{ send: channel, value }`. When several cases are ready, one is chosen at
 * random, so that none starves. Otherwise the select waits on all of them at
 * once; the first to complete wins and the others are withdrawn, so no
 * value is lost and every channel's `balance` is left as if they had never
 * been there. A case on a closed channel makes the select reject with that
 * channel's `ChannelClosedError`, as the same `receive()` or `send()` would.
 *
 * Like every coio wait it is cancelled by kill, raise, a timeout scope,
 * `signal` or `timeout`.
 *
 * @example Receive from whichever channel has a value first
 * ```ts
 * import { Channel, select, spawn } from "@syncless/syncless/coio";
 *
 * const numbers = new Channel<number>();
 * const words = new Channel<string>();
 * spawn(() => words.send("hi"));
 * const { index, value } = await select<number | string>([
 *   { receive: numbers },
 *   { receive: words },
 * ]);
 * console.log(index, value); // 1 "hi"
 * ```
 *
 * @example Poll without waiting
 * ```ts
 * import { Channel, select } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<number>();
 * const result = await select([{ receive: channel }], { default: true });
 * console.log(result.index); // -1
 * ```
 * @throws {TypeError} when `cases` is not an array of cases.
 * @throws {RangeError} when `timeout` is negative or NaN.
 * @throws {WouldBlockError} (rejects) with `timeout: 0` when no case is ready.
 * @throws {TimeoutError} (rejects) when `timeout` passes first.
 * @throws {ChannelClosedError} (rejects) when a chosen case's channel is closed.
 */
export function select<T = unknown>(
  cases: readonly SelectCase<T>[],
  options: SelectOptions = {},
): Promise<SelectResult<T>> {
  checkCases(cases);
  const { signal, timeout, default: hasDefault = false } = options;
  checkTimeout(timeout);
  if (signal !== undefined && signal.aborted) {
    return Promise.reject(signal.reason);
  }
  let ready = -1;
  let readyCount = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const channel = "send" in c ? c.send : c.receive;
    const isReady = "send" in c
      ? channel.closed || channel._readyToSend()
      : channel.closed || channel._readyToReceive();
    // Reservoir sampling: a fair random choice in one pass.
    if (isReady && Math.random() * ++readyCount < 1) ready = i;
  }
  if (ready >= 0) return run(cases, ready);
  if (hasDefault) return Promise.resolve(DEFAULT_RESULT);
  parkCases = cases as readonly SelectCase<unknown>[];
  return suspend(park, { signal, timeout }) as Promise<SelectResult<T>>;
}

function run<T>(
  cases: readonly SelectCase<T>[],
  index: number,
): Promise<SelectResult<T>> {
  const c = cases[index];
  if ("send" in c) {
    return c.send.send(c.value).then(() => ({ index, value: undefined }));
  }
  return c.receive.receive().then((value) => ({ index, value }));
}

function checkCases(cases: unknown): void {
  if (!Array.isArray(cases)) {
    throw new TypeError(
      `select() needs an array of cases, got ${describe(cases)}`,
    );
  }
  for (let i = 0; i < cases.length; i++) {
    const c: unknown = cases[i];
    if (c === null || typeof c !== "object") {
      throw new TypeError(
        `select() case ${i} must be { receive: channel } or { send: channel, value }, got ${
          describe(c)
        }`,
      );
    }
    const hasSend = "send" in c;
    const hasReceive = "receive" in c;
    if (hasSend === hasReceive) {
      throw new TypeError(
        `select() case ${i} must have exactly one of "receive" and "send"`,
      );
    }
    const channel = hasSend
      ? (c as { send: unknown }).send
      : (c as { receive: unknown }).receive;
    if (!(channel instanceof Channel)) {
      throw new TypeError(
        `select() case ${i}: "${
          hasSend ? "send" : "receive"
        }" must be a Channel, got ${describe(channel)}`,
      );
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object"
    ? (value.constructor?.name ?? "object")
    : typeof value;
}
