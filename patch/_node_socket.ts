import process from "node:process";
import type * as NodeNet from "node:net";
import { currentCancelSignal } from "../coio/_cancel_signal.ts";

/** `dns.lookup`'s shape, as `net.Socket#connect` takes it in its options. */
// deno-lint-ignore no-explicit-any
export type LookupFunction = (...args: any[]) => void;

type Connect = NodeNet.Socket["connect"];

/** What the wrapped `net.Socket.prototype.connect` adds; both off at first. */
export const socketPatches: {
  /** Tie each socket to the cancel signal of the tasklet that connects it. */
  cancel: boolean;
  /** Resolve host names with this instead of Deno's built-in lookup. */
  lookup: LookupFunction | undefined;
} = { cancel: false, lookup: undefined };

let proto: NodeNet.Socket | undefined;
let original: Connect | undefined;
let wrapped: Connect | undefined;

/** Loads `node:net` on first use only, so importing the library stays cheap. */
export function nodeModule<T>(name: string): T {
  // deno-lint-ignore no-explicit-any
  return (process as any).getBuiltinModule(name) as T;
}

/**
 * Installs or removes the `net.Socket.prototype.connect` wrapper so that it is
 * in place exactly while one of `socketPatches` is on. Call after changing it.
 */
export function syncSocketWrapper(): void {
  const wanted = socketPatches.cancel || socketPatches.lookup !== undefined;
  if (wanted && original === undefined) {
    const net = nodeModule<typeof NodeNet>("node:net");
    proto = net.Socket.prototype;
    original = proto.connect;
    wrapped = wrapConnect(original, net);
    proto.connect = wrapped;
  } else if (!wanted && original !== undefined) {
    if (proto!.connect === wrapped) proto!.connect = original;
    proto = original = wrapped = undefined;
  }
}

function wrapConnect(connect: Connect, net: typeof NodeNet): Connect {
  return function (this: NodeNet.Socket, ...args: unknown[]) {
    const lookup = socketPatches.lookup;
    if (lookup !== undefined) args = withLookup(args, lookup, net);
    const result = (connect as (...a: unknown[]) => NodeNet.Socket).apply(
      this,
      args,
    );
    if (socketPatches.cancel) {
      const signal = currentCancelSignal();
      if (signal !== undefined) tieToSignal(this, signal);
    }
    return result;
  } as Connect;
}

/** Adds `lookup` to a TCP connect's options unless the caller gave one. */
function withLookup(
  args: unknown[],
  lookup: LookupFunction,
  net: typeof NodeNet,
): unknown[] {
  // net.connect() hands over its already normalized [options, callback].
  const normalized = Array.isArray(args[0])
    ? args[0] as unknown[]
    // deno-lint-ignore no-explicit-any
    : (net as any)._normalizeArgs(args) as unknown[];
  const options = normalized[0] as Record<string, unknown>;
  if (options.path != null || options.lookup !== undefined) return args;
  const callback = normalized[1];
  const next: unknown[] = [{ ...options, lookup }];
  if (typeof callback === "function") next.push(callback);
  return next;
}

/**
 * Destroys `socket` when `signal` aborts, with the abort reason as its error
 * if someone listens for errors (an unheard 'error' event would end the
 * process). The link goes away when the socket closes.
 */
function tieToSignal(socket: NodeNet.Socket, signal: AbortSignal): void {
  const onAbort = () => {
    if (socket.destroyed) return;
    if (socket.listenerCount("error") > 0) socket.destroy(signal.reason);
    else socket.destroy();
  };
  if (signal.aborted) {
    queueMicrotask(onAbort);
    return;
  }
  signal.addEventListener("abort", onAbort, { once: true });
  socket.once("close", () => signal.removeEventListener("abort", onAbort));
}
