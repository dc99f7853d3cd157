import { Deque } from "./_deque.ts";
import { SelectEntry } from "./_select_entry.ts";
import { checkTimeout, suspend, type Waiter } from "./_waiter.ts";
import type { WaitOptions } from "./wait_for.ts";
import { ChannelClosedError } from "./errors.ts";

/** Options for the {@linkcode Channel} constructor. */
export interface ChannelOptions {
  /**
   * How many values the channel buffers before `send()` waits. `0` makes a
   * rendezvous channel: `send()` resolves only once a receiver has taken the
   * value. `Infinity` never makes `send()` wait.
   *
   * @default {0}
   */
  capacity?: number;
  /**
   * Who runs first when a send meets a waiting receiver or a receive meets a
   * waiting sender (Stackless's `channel.preference`). Below 0 the receiver
   * is preferred: it runs at once and the sender continues after it, from
   * the back of the run queue. 0 or more prefers the sender: it continues
   * and the receiver is queued. Writable later as `channel.preference`.
   *
   * @default {-1}
   */
  preference?: number;
}

/** What {@linkcode Channel.prototype.tryReceive} found. */
export type TryReceiveResult<T> =
  | { state: "ok"; value: T }
  | { state: "empty" }
  | { state: "closed" };

/** A value that makes the receiving end throw `error` (Stackless's bomb). */
class Bomb {
  constructor(readonly error: unknown) {}
}

/** A waiting receive or send: a plain wait, or one case of a select. */
type Entry = Waiter<unknown> | SelectEntry;

function isLive(entry: Entry): boolean {
  return !(entry instanceof SelectEntry ? entry.waiter : entry).settled;
}

function countLive(entries: Deque<Entry>): number {
  let count = 0;
  for (const entry of entries) if (isLive(entry)) count++;
  return count;
}

// Hands `value` to the receiving `entry`, already out of its queue: with `now`
// its tasklet runs next, otherwise it continues from the back of the run queue.
function deliver(entry: Entry, value: unknown, now: boolean): void {
  let waiter: Waiter<unknown>;
  let result: unknown = value;
  if (entry instanceof SelectEntry) {
    waiter = entry.waiter as Waiter<unknown>;
    if (!(value instanceof Bomb)) result = { index: entry.index, value };
  } else {
    waiter = entry;
  }
  if (result instanceof Bomb) {
    if (now) waiter.fail(result.error);
    else waiter.failLater(result.error);
  } else if (now) {
    waiter.resume(result);
  } else {
    waiter.resumeLater(result);
  }
}

// Completes the sending `entry` (out of its queue) whose value was taken.
function release(entry: Entry, now: boolean): void {
  let waiter: Waiter<unknown>;
  let result: unknown = undefined;
  if (entry instanceof SelectEntry) {
    waiter = entry.waiter as Waiter<unknown>;
    result = { index: entry.index, value: undefined };
  } else {
    waiter = entry;
  }
  if (now) waiter.resume(result);
  else waiter.resumeLater(result);
}

// Fails a waiting `entry` (out of its queue) because the channel closed.
function reject(entry: Entry, error: ChannelClosedError): void {
  const waiter = entry instanceof SelectEntry ? entry.waiter : entry;
  waiter.failLater(error);
}

function unwrap(value: unknown): unknown {
  return value instanceof Bomb ? value.error : value;
}

function checkOptions(options: WaitOptions | undefined): unknown {
  if (options === undefined) return undefined;
  checkTimeout(options.timeout);
  const signal = options.signal;
  if (signal !== undefined && signal.aborted) return signal;
  return undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY: TryReceiveResult<never> = Object.freeze({ state: "empty" });
const CLOSED: TryReceiveResult<never> = Object.freeze({ state: "closed" });

// Context for the park callbacks, set right before the `suspend()` call that
// runs them synchronously (saves a closure per operation).
let parkChannel: Channel<unknown>;
let parkValue: unknown;

/**
 * A channel between tasklets, as in Stackless and Go: `send()` waits until a
 * receiver takes the value (or, with a `capacity`, until there is room in the
 * buffer) and `receive()` waits for a value. Waiting senders and receivers
 * are served first come, first served. Every wait can be cancelled by
 * killing or raising into the tasklet, by a timeout scope, by `{ signal }`
 * or by `{ timeout }`; a cancelled wait leaves the channel as if it had never
 * been made.
 *
 * After {@linkcode Channel.prototype.close}, buffered values can still be
 * received; then `receive()` rejects with `ChannelClosedError` (its `reason`
 * is the close reason), `send()` rejects with `ChannelClosedError` (its
 * `value` is the unsent value), and so do the waits in progress.
 *
 * @example Rendezvous between two tasklets
 * ```ts
 * import { Channel, spawn } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<string>();
 * const producer = spawn(async () => {
 *   for (const word of ["hello", "world"]) await channel.send(word);
 *   channel.close();
 * });
 * for await (const word of channel) console.log(word); // "hello", "world"
 * await producer.join();
 * ```
 *
 * @example A buffered channel
 * ```ts
 * import { Channel } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<number>({ capacity: 2 });
 * await channel.send(1);
 * await channel.send(2); // neither waits: the buffer has room
 * console.log(channel.trySend(3)); // false: full
 * console.log(await channel.receive()); // 1
 * ```
 *
 * @typeParam T The type of the values sent through the channel.
 */
export class Channel<T> implements AsyncIterable<T>, Disposable {
  #capacity: number;
  #preference: number;
  // Values sent but not yet received (channels with a capacity only).
  #buffer: Deque<unknown> | undefined;
  #receivers = new Deque<Entry>();
  #senders = new Deque<Entry>();
  // Dead entries are dropped from the front lazily, and from the whole queue
  // when it grows past these marks, so that cancelled waits cannot pile up.
  #receiversCompactAt = 16;
  #sendersCompactAt = 16;
  #closed = false;
  #reason: unknown = undefined;

  /**
   * Creates a channel.
   *
   * @throws {RangeError} when `capacity` is not an integer >= 0 (or
   * `Infinity`), or `preference` is not a number.
   */
  constructor(options: ChannelOptions = {}) {
    const { capacity = 0, preference = -1 } = options;
    if (
      typeof capacity !== "number" ||
      !(Number.isInteger(capacity) || capacity === Infinity) || capacity < 0
    ) {
      throw new RangeError(
        `Channel capacity must be an integer >= 0, got ${String(capacity)}`,
      );
    }
    this.#capacity = capacity;
    this.#preference = checkPreference(preference);
    this.#buffer = capacity > 0 ? new Deque() : undefined;
  }

  /** How many values the channel buffers (0 for a rendezvous channel). */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Below 0 (the default), a receiver woken by a send runs before the sender
   * continues; 0 or more, the sender continues first (see
   * {@linkcode ChannelOptions.preference}).
   *
   * @throws {RangeError} when set to something other than a number.
   */
  get preference(): number {
    return this.#preference;
  }

  set preference(value: number) {
    this.#preference = checkPreference(value);
  }

  /**
   * Waiting senders minus waiting receivers, as in Stackless: `> 0` means
   * that many `send()` calls wait, `< 0` that many `receive()` calls.
   */
  get balance(): number {
    return countLive(this.#senders) - countLive(this.#receivers);
  }

  /** Number of buffered values waiting to be received. */
  get size(): number {
    return this.#buffer?.length ?? 0;
  }

  /** True once {@linkcode Channel.prototype.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `value`: resolves once a receiver has taken it, or once it is in
   * the buffer. With a waiting receiver and a negative `preference`, the
   * receiver runs first and the sender continues after it.
   *
   * @example
   * ```ts
   * import { Channel, spawn } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<number>();
   * const receiver = spawn(() => channel.receive());
   * await channel.send(42);
   * console.log(await receiver.join()); // 42
   * ```
   * @throws {ChannelClosedError} (rejects) when the channel is or gets
   * closed before the value was taken; its `value` is `value`.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  send(value: T, options?: WaitOptions): Promise<void> {
    return this._send(value, options);
  }

  /**
   * Sends `error` so that the receive that takes it rejects with this very
   * error object (Stackless's `send_exception`). It waits like
   * {@linkcode Channel.prototype.send}.
   *
   * @example
   * ```ts
   * import { Channel, spawn } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<number>();
   * spawn(() => channel.sendException(new RangeError("bad input")));
   * await channel.receive().catch((e) => console.log(e.message)); // "bad input"
   * ```
   */
  sendException(error: unknown, options?: WaitOptions): Promise<void> {
    return this._send(new Bomb(error), options);
  }

  /**
   * Receives the next value, waiting for one if need be. With a waiting
   * sender and a `preference` of 0 or more, the sender runs first and the
   * receiver continues after it.
   *
   * @example
   * ```ts
   * import { Channel, spawn } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<string>();
   * spawn(() => channel.send("ping"));
   * console.log(await channel.receive()); // "ping"
   * ```
   * @throws {ChannelClosedError} (rejects) when the channel is closed and
   * nothing is buffered; its `reason` is the close reason.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  receive(options?: WaitOptions): Promise<T> {
    const aborted = checkOptions(options) as AbortSignal | undefined;
    if (aborted !== undefined) return Promise.reject(aborted.reason);
    const buffer = this.#buffer;
    const sender = this.#liveSender();
    if (sender !== undefined || (buffer !== undefined && buffer.length > 0)) {
      if (sender !== undefined && this.#preference >= 0) {
        // The waiting sender runs now; this receiver continues after it.
        parkChannel = this as Channel<unknown>;
        return suspend(Channel.#takeAndYield) as Promise<T>;
      }
      const value = this.#take(false);
      if (value instanceof Bomb) return Promise.reject(value.error);
      return Promise.resolve(value as T);
    }
    if (this.#closed) return Promise.reject(this.#closedForReceive());
    parkChannel = this as Channel<unknown>;
    return suspend(Channel.#parkReceiver, options) as Promise<T>;
  }

  /**
   * Sends `value` only if that needs no wait: to a waiting receiver (which
   * then continues from the back of the run queue) or into the buffer.
   * Returns false, sending nothing, otherwise.
   *
   * @example
   * ```ts
   * import { Channel } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<number>({ capacity: 1 });
   * console.log(channel.trySend(1), channel.trySend(2)); // true false
   * ```
   * @throws {ChannelClosedError} when the channel is closed.
   */
  trySend(value: T): boolean {
    if (this.#closed) throw this.#closedForSend(value);
    if (!this._readyToSend()) return false;
    this.#put(value, false);
    return true;
  }

  /**
   * Receives a value only if that needs no wait: `{ state: "ok", value }`, or
   * `{ state: "empty" }`, or `{ state: "closed" }` once the channel is closed
   * and drained. A sender it takes the value from continues from the back of
   * the run queue.
   *
   * @example
   * ```ts
   * import { Channel } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<number>({ capacity: 1 });
   * console.log(channel.tryReceive()); // { state: "empty" }
   * channel.trySend(7);
   * console.log(channel.tryReceive()); // { state: "ok", value: 7 }
   * ```
   * @throws the error of a value sent with `sendException`.
   */
  tryReceive(): TryReceiveResult<T> {
    if (this._readyToReceive()) {
      const value = this.#take(false);
      if (value instanceof Bomb) throw value.error;
      return { state: "ok", value: value as T };
    }
    return this.#closed ? CLOSED : EMPTY;
  }

  /**
   * Closes the channel: later sends fail, buffered values can still be
   * received, and every wait in progress rejects with `ChannelClosedError`
   * (waiting senders get their unsent `value` back in it). The woken
   * tasklets continue from the back of the run queue.
   *
   * @example
   * ```ts
   * import { Channel, ChannelClosedError } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<number>({ capacity: 1 });
   * await channel.send(1);
   * channel.close("done");
   * console.log(await channel.receive()); // 1
   * await channel.receive().catch((e: ChannelClosedError) => console.log(e.reason)); // "done"
   * ```
   * @throws {ChannelClosedError} when the channel is already closed.
   */
  close(reason?: unknown): void {
    if (this.#closed) {
      throw new ChannelClosedError("channel already closed", {
        reason: this.#reason,
      });
    }
    this.#closed = true;
    this.#reason = reason;
    for (let e = this.#receivers.shift(); e !== undefined;) {
      if (isLive(e)) reject(e, this.#closedForReceive());
      e = this.#receivers.shift();
    }
    for (let e = this.#senders.shift(); e !== undefined;) {
      if (isLive(e)) reject(e, this.#closedForSend(e.value));
      e = this.#senders.shift();
    }
  }

  /** Closes the channel unless it is already closed. */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /**
   * Receives values until the channel is closed and drained.
   *
   * @example
   * ```ts
   * import { Channel } from "@syncless/syncless/coio";
   *
   * const channel = new Channel<number>({ capacity: 3 });
   * for (const n of [1, 2, 3]) await channel.send(n);
   * channel.close();
   * for await (const n of channel) console.log(n); // 1, 2, 3
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let value: T;
      try {
        value = await this.receive();
      } catch (error) {
        if (this.#closed && error instanceof ChannelClosedError) return;
        throw error;
      }
      yield value;
    }
  }

  /** @internal A `receive()` would complete without waiting (or fail: closed). */
  _readyToReceive(): boolean {
    return (this.#buffer !== undefined && this.#buffer.length > 0) ||
      this.#liveSender() !== undefined;
  }

  /** @internal A `send()` would complete without waiting. */
  _readyToSend(): boolean {
    return this.#liveReceiver() !== undefined ||
      (this.#buffer !== undefined && this.#buffer.length < this.#capacity);
  }

  /** @internal `send()`, for any value (a `sendException` bomb included). */
  _send(value: unknown, options?: WaitOptions): Promise<void> {
    const aborted = checkOptions(options) as AbortSignal | undefined;
    if (aborted !== undefined) return Promise.reject(aborted.reason);
    if (this.#closed) return Promise.reject(this.#closedForSend(value));
    const receiver = this.#liveReceiver();
    if (receiver !== undefined) {
      if (this.#preference < 0) {
        // The waiting receiver runs now; this sender continues after it.
        parkChannel = this as Channel<unknown>;
        parkValue = value;
        return suspend(Channel.#putAndYield);
      }
      this.#receivers.shift();
      deliver(receiver, value, false);
      return RESOLVED;
    }
    const buffer = this.#buffer;
    if (buffer !== undefined && buffer.length < this.#capacity) {
      buffer.push(value);
      return RESOLVED;
    }
    parkChannel = this as Channel<unknown>;
    parkValue = value;
    return suspend(Channel.#parkSender, options);
  }

  /** @internal Registers a select's case; a closed channel fails it at once. */
  _register(entry: SelectEntry, sending: boolean): void {
    if (this.#closed) {
      reject(
        entry,
        sending ? this.#closedForSend(entry.value) : this.#closedForReceive(),
      );
    } else if (sending) {
      this.#addSender(entry);
    } else {
      this.#addReceiver(entry);
    }
  }

  /** @internal Error of a receive on this closed, drained channel. */
  _closedForReceive(): ChannelClosedError {
    return this.#closedForReceive();
  }

  // Takes the next value, which must be there (buffered or from a live
  // sender), and refills the buffer from a waiting sender.
  #take(wakeNow: boolean): unknown {
    const buffer = this.#buffer;
    if (buffer !== undefined && buffer.length > 0) {
      const value = buffer.shift();
      const sender = this.#liveSender();
      if (sender !== undefined) {
        this.#senders.shift();
        buffer.push(sender.value);
        release(sender, wakeNow);
      }
      return value;
    }
    const sender = this.#senders.shift()!;
    const value = sender.value; // before release() reuses the waiter's slot
    release(sender, wakeNow);
    return value;
  }

  // Puts `value` where it can go without waiting: to a live receiver, or
  // into the buffer.
  #put(value: unknown, wakeNow: boolean): void {
    const receiver = this.#liveReceiver();
    if (receiver !== undefined) {
      this.#receivers.shift();
      deliver(receiver, value, wakeNow);
    } else {
      this.#buffer!.push(value);
    }
  }

  #liveReceiver(): Entry | undefined {
    const queue = this.#receivers;
    for (let e = queue.peek(); e !== undefined; e = queue.peek()) {
      if (isLive(e)) return e;
      queue.shift();
    }
    return undefined;
  }

  #liveSender(): Entry | undefined {
    const queue = this.#senders;
    for (let e = queue.peek(); e !== undefined; e = queue.peek()) {
      if (isLive(e)) return e;
      queue.shift();
    }
    return undefined;
  }

  #addReceiver(entry: Entry): void {
    const queue = this.#receivers;
    queue.push(entry);
    if (queue.length >= this.#receiversCompactAt) {
      queue.filter(isLive);
      this.#receiversCompactAt = Math.max(16, 2 * queue.length);
    }
  }

  #addSender(entry: Entry): void {
    const queue = this.#senders;
    queue.push(entry);
    if (queue.length >= this.#sendersCompactAt) {
      queue.filter(isLive);
      this.#sendersCompactAt = Math.max(16, 2 * queue.length);
    }
  }

  #closedForReceive(): ChannelClosedError {
    return new ChannelClosedError("receive from a closed channel", {
      reason: this.#reason,
    });
  }

  #closedForSend(value: unknown): ChannelClosedError {
    return new ChannelClosedError("send on a closed channel", {
      reason: this.#reason,
      value: unwrap(value),
    });
  }

  static #parkReceiver(waiter: Waiter<unknown>): void {
    parkChannel.#addReceiver(waiter);
  }

  static #parkSender(waiter: Waiter<void>): void {
    waiter.value = parkValue;
    parkChannel.#addSender(waiter as Waiter<unknown>);
  }

  // The hand-offs that let the woken side run first: done only once the
  // wait is sure to park (no pending kill or raise), so nothing is lost.
  static #putAndYield(waiter: Waiter<void>): void {
    parkChannel.#put(parkValue, true);
    waiter.resumeLater(undefined);
  }

  static #takeAndYield(waiter: Waiter<unknown>): void {
    const value = parkChannel.#take(true);
    if (value instanceof Bomb) waiter.failLater(value.error);
    else waiter.resumeLater(value);
  }
}

function checkPreference(preference: unknown): number {
  if (typeof preference !== "number" || Number.isNaN(preference)) {
    throw new RangeError(
      `Channel preference must be a number, got ${String(preference)}`,
    );
  }
  return preference;
}
