import { addTimer, removeTimer, type TimerEntry } from "./_timers.ts";
import { Channel } from "./channel.ts";

// Aborts the receive of one receiveWithTimeout call when its time is up.
class Expiry extends AbortController implements TimerEntry {
  deadline = 0;
  heapIndex = -1;
  // A reason nobody else can produce: tells our timeout from any other error.
  readonly reason = new Error("receiveWithTimeout expired");

  fire(): void {
    this.abort(this.reason);
  }
}

/**
 * Receives from `channel`, but gives up after `ms` milliseconds and returns
 * `defaultValue` instead (Syncless's `receive_with_timeout`). On timeout the
 * channel is left as if the receive had never been made: no value is taken
 * and its `balance` is restored. `ms <= 0` polls once without waiting;
 * `null`, `undefined` or `Infinity` waits forever. Other errors (a closed channel, a
 * kill, an enclosing timeout scope) pass through.
 *
 * @example
 * ```ts
 * import { Channel, receiveWithTimeout } from "@syncless/syncless/coio";
 *
 * const channel = new Channel<string>();
 * console.log(await receiveWithTimeout(channel, 10, "nothing")); // "nothing"
 * console.log(channel.balance); // 0
 * ```
 * @throws {TypeError} when `channel` is not a `Channel`.
 * @throws {RangeError} when `ms` is NaN or not a number.
 * @throws {ChannelClosedError} (rejects) when the channel is closed and drained.
 */
export async function receiveWithTimeout<T, D = undefined>(
  channel: Channel<T>,
  ms: number | null | undefined,
  defaultValue?: D,
): Promise<T | D> {
  if (!(channel instanceof Channel)) {
    throw new TypeError(
      `receiveWithTimeout() needs a Channel, got ${
        channel === null ? "null" : typeof channel
      }`,
    );
  }
  if (ms === null || ms === undefined) return await channel.receive();
  if (typeof ms !== "number" || Number.isNaN(ms)) {
    throw new RangeError(
      `receiveWithTimeout() needs a number of milliseconds or null, got ${
        String(ms)
      }`,
    );
  }
  if (ms <= 0 || ms === Infinity) {
    if (ms === Infinity || channel.closed || channel._readyToReceive()) {
      return await channel.receive();
    }
    return defaultValue as D;
  }
  const expiry = new Expiry();
  addTimer(expiry, ms);
  try {
    return await channel.receive({ signal: expiry.signal });
  } catch (error) {
    if (error === expiry.reason) return defaultValue as D;
    throw error;
  } finally {
    removeTimer(expiry);
  }
}
