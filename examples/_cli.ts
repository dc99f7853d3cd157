/**
 * Plumbing shared by the examples, not part of the library: which port an
 * example listens on, and when it stops (Ctrl-C, or after `LIFETIME_MS` so
 * that a test can run it briefly).
 *
 * @module
 */
import { Event, signal, sleep, spawn } from "@syncless/syncless";

/**
 * The port to listen on: the first command-line argument, else the
 * environment variable `envName`, else `fallback`. `0` picks a free port.
 *
 * @throws {RangeError} when the value is not an integer from 0 to 65535.
 */
export function portArg(fallback: number, envName = "PORT"): number {
  const text = Deno.args[0] ?? Deno.env.get(envName);
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer 0-65535, got "${text}"`);
  }
  return port;
}

/**
 * How long an example runs by itself: `LIFETIME_MS` from the environment, or
 * `fallback` (`0` = until Ctrl-C).
 *
 * @throws {RangeError} when `LIFETIME_MS` is not a number >= 0.
 */
export function lifetimeMs(fallback = 0): number {
  const text = Deno.env.get("LIFETIME_MS");
  const ms = text === undefined ? fallback : Number(text);
  if (!(ms >= 0)) {
    throw new RangeError(`LIFETIME_MS must be a number >= 0, got "${text}"`);
  }
  return ms;
}

/**
 * Waits until the example should stop: the first Ctrl-C (SIGINT), or the end
 * of its lifetime (see {@linkcode lifetimeMs}). Resolves to the reason. The
 * SIGINT handler is removed again, so a second Ctrl-C ends the process at once.
 */
export async function stopRequested(): Promise<"SIGINT" | "lifetime"> {
  const stop = new Event();
  let reason: "SIGINT" | "lifetime" = "SIGINT";
  signal("SIGINT", () => stop.set());
  const ms = lifetimeMs();
  const timer = ms > 0
    ? spawn(async () => {
      await sleep(ms);
      reason = "lifetime";
      stop.set();
    })
    : undefined;
  try {
    await stop.wait();
  } finally {
    signal("SIGINT", null);
    timer?.kill();
  }
  return reason;
}
