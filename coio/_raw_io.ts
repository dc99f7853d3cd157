// Reads and writes of a Deno connection straight through Deno's core ops.
//
// `Deno.Conn.read` is an async function around the core `read` op (a
// generator, a second promise and a set entry per read, for `unref()`), and
// `write` a call around the core `write` op. On a hot path that is a large
// part of what a read costs in JavaScript, so we call the ops ourselves on
// the connection's resource id. If Deno's internals are missing or look
// different (checked once at load: both ops and the resource-id symbol must
// be there), or the connection is not one of Deno's own (no numeric
// resource id, or read/write that are not `Conn`'s: a wrapper, a subclass
// or an instance overriding them), the public methods are used instead. No
// I/O is tried at load (it would need a socket); tests/coio/raw_io_test.ts
// checks the contract on the Deno in use.
//
// What is given up: a connection read this way ignores `conn.unref()` (the
// read keeps the process alive). Nothing in this library unrefs connections.

/**
 * Reads into `buffer` (which must not be empty); resolves to the number of
 * bytes read, `0` at EOF. Rejects as `Deno.Conn.read` does.
 */
export type RawRead = (buffer: Uint8Array) => Promise<number>;

/**
 * Writes (some of) `data`; resolves to the number of bytes written, as
 * `Deno.Conn.write` does.
 */
export type RawWrite = (data: Uint8Array) => Promise<number>;

interface CoreIo {
  read(rid: number, buffer: Uint8Array): Promise<number>;
  write(rid: number, data: Uint8Array): Promise<number>;
  internalRidSymbol: symbol;
}

function findCore(): CoreIo | undefined {
  try {
    const deno = (globalThis as { Deno?: Record<PropertyKey, unknown> }).Deno;
    const internal = deno?.[deno?.internal as PropertyKey] as
      | { core?: Partial<CoreIo> }
      | undefined;
    const core = internal?.core;
    if (
      typeof core?.read === "function" &&
      typeof core.write === "function" &&
      typeof core.internalRidSymbol === "symbol"
    ) {
      return core as CoreIo;
    }
  } catch {
    // Not Deno, or a Deno without them: use the public methods.
  }
  return undefined;
}

const core = findCore();

// Per prototype: whether its read and write are Deno's own `Conn` methods.
const ownMethods = new WeakMap<object, boolean>();

/** True when `conn`'s read and write are Deno.Conn's, not overridden. */
function hasOwnMethods(conn: object): boolean {
  if (Object.hasOwn(conn, "read") || Object.hasOwn(conn, "write")) {
    return false;
  }
  const proto = Object.getPrototypeOf(conn);
  if (proto === null) return false;
  let known = ownMethods.get(proto);
  if (known === undefined) {
    known = false;
    for (let p = proto; p !== null; p = Object.getPrototypeOf(p)) {
      const hasRead = Object.hasOwn(p, "read");
      const hasWrite = Object.hasOwn(p, "write");
      if (!hasRead && !hasWrite) continue;
      // The first prototype that defines either must be Conn's, with both.
      known = hasRead && hasWrite && p.constructor?.name === "Conn";
      break;
    }
    ownMethods.set(proto, known);
  }
  return known;
}

/** The resource id to call the core ops with, or `undefined` to use the methods. */
function rawRid(conn: Deno.Conn): number | undefined {
  if (core === undefined) return undefined;
  const rid = (conn as unknown as Record<symbol, unknown>)[
    core.internalRidSymbol
  ];
  if (typeof rid !== "number" || !hasOwnMethods(conn)) return undefined;
  return rid;
}

/**
 * A read function for `conn`: the core read op on its resource when
 * possible, else `conn.read` (with EOF mapped to `0`).
 */
export function rawReader(conn: Deno.Conn): RawRead {
  const rid = rawRid(conn);
  if (rid !== undefined) {
    const c = core!;
    return (buffer) => c.read(rid, buffer);
  }
  return (buffer) => conn.read(buffer).then(eofAsZero);
}

/**
 * A write function for `conn`: the core write op on its resource when
 * possible, else `conn.write`.
 */
export function rawWriter(conn: Deno.Conn): RawWrite {
  const rid = rawRid(conn);
  if (rid !== undefined) {
    const c = core!;
    return (data) => c.write(rid, data);
  }
  return (data) => conn.write(data);
}

/** True when {@linkcode rawReader} and {@linkcode rawWriter} use the core ops for `conn`. */
export function usesCoreOps(conn: Deno.Conn): boolean {
  return rawRid(conn) !== undefined;
}

function eofAsZero(n: number | null): number {
  return n ?? 0;
}
