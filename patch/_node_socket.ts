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

interface Installed {
  proto: NodeNet.Socket;
  connect: Connect;
  wrappedConnect: Connect;
  // The prototype's own `write`, if it had one (else it was inherited).
  ownWrite: PropertyDescriptor | undefined;
  wrappedWrite: Write;
}

type Write = NodeNet.Socket["write"];

let installed: Installed | undefined;

/** Loads a built-in module on first use only, so importing the library stays cheap. */
export function nodeModule<T>(name: string): T {
  // deno-lint-ignore no-explicit-any
  return (process as any).getBuiltinModule(name) as T;
}

/**
 * Installs or removes the `net.Socket.prototype` wrappers so that they are in
 * place exactly while one of `socketPatches` is on. Call after changing it.
 */
export function syncSocketWrapper(): void {
  const wanted = socketPatches.cancel || socketPatches.lookup !== undefined;
  if (wanted && installed === undefined) {
    const net = nodeModule<typeof NodeNet>("node:net");
    const proto = net.Socket.prototype;
    const connect = proto.connect;
    const ownWrite = Object.getOwnPropertyDescriptor(proto, "write");
    installed = {
      proto,
      connect,
      wrappedConnect: wrapConnect(connect, net),
      ownWrite,
      wrappedWrite: wrapWrite(proto.write),
    };
    proto.connect = installed.wrappedConnect;
    proto.write = installed.wrappedWrite;
  } else if (!wanted && installed !== undefined) {
    const { proto, connect, wrappedConnect, ownWrite, wrappedWrite } =
      installed;
    if (proto.connect === wrappedConnect) proto.connect = connect;
    if (proto.write === wrappedWrite) {
      if (ownWrite !== undefined) {
        Object.defineProperty(proto, "write", ownWrite);
      } else delete (proto as { write?: Write }).write;
    }
    installed = undefined;
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
    if (socketPatches.cancel) tieToCurrent(this);
    return result;
  } as Connect;
}

function wrapWrite(write: Write): Write {
  return function (this: NodeNet.Socket, ...args: unknown[]) {
    if (socketPatches.cancel) tieToCurrent(this);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Write;
}

/** Adds `lookup` to a TCP connect's options unless the caller gave one. */
function withLookup(
  args: unknown[],
  lookup: LookupFunction,
  net: typeof NodeNet,
): unknown[] {
  // net.connect() hands over its already normalized [options, callback].
  // deno-lint-ignore no-explicit-any
  const normalize = (net as any)._normalizeArgs;
  let normalized: unknown[];
  if (Array.isArray(args[0])) normalized = args[0];
  else if (typeof normalize === "function") normalized = normalize(args);
  else if (typeof args[0] === "object" && args[0] !== null) {
    normalized = [args[0], args[1]];
  } else return args; // (port, host) without a normalizer: leave it to Deno
  if (typeof normalized[0] !== "object" || normalized[0] === null) return args;
  const options = normalized[0] as Record<string, unknown>;
  if (options.path != null || options.lookup !== undefined) return args;
  const callback = normalized[1];
  const next: unknown[] = [{ ...options, lookup }];
  if (typeof callback === "function") next.push(callback);
  return next;
}

interface Tie {
  signal: AbortSignal;
  onAbort: () => void;
}

const ties = new WeakMap<NodeNet.Socket, Tie>();
const watched = new WeakSet<NodeNet.Socket>();

/**
 * Ties `socket` to the cancel signal of the code running now (the tasklet and
 * timeout scopes that connect it or write to it), replacing its previous tie:
 * when that signal aborts, the socket is destroyed, with the abort reason as
 * its error if someone listens for errors (an unheard 'error' event would end
 * the process). Code outside any tasklet and scope unties it.
 */
function tieToCurrent(socket: NodeNet.Socket): void {
  const signal = currentCancelSignal();
  const tie = ties.get(socket);
  if (tie?.signal === signal) return;
  if (tie !== undefined) {
    tie.signal.removeEventListener("abort", tie.onAbort);
    ties.delete(socket);
  }
  if (signal === undefined) return;
  const onAbort = () => {
    ties.delete(socket);
    if (socket.destroyed) return;
    if (socket.listenerCount("error") > 0) socket.destroy(signal.reason);
    else socket.destroy();
  };
  if (signal.aborted) {
    queueMicrotask(onAbort);
    return;
  }
  signal.addEventListener("abort", onAbort, { once: true });
  ties.set(socket, { signal, onAbort });
  if (!watched.has(socket)) {
    watched.add(socket);
    socket.once("close", () => {
      watched.delete(socket);
      const last = ties.get(socket);
      if (last === undefined) return;
      last.signal.removeEventListener("abort", last.onAbort);
      ties.delete(socket);
    });
  }
}
