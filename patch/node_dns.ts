import type * as NodeDns from "node:dns";
import { type AddrInfo, getaddrinfo } from "../coio/dns.ts";
import { GaiError } from "../coio/errors.ts";
import {
  nodeModule,
  socketPatches,
  syncSocketWrapper,
} from "./_node_socket.ts";

/** One address as `node:dns` reports it. */
interface LookupAddress {
  address: string;
  family: 4 | 6;
}

interface LookupOptions {
  family?: number | "IPv4" | "IPv6";
  all?: boolean;
  order?: "ipv4first" | "ipv6first" | "verbatim";
  verbatim?: boolean;
  hints?: number;
}

type LookupCallback = (
  error: Error | null,
  address?: string | LookupAddress[] | null,
  family?: number,
) => void;

// Node's (libuv's) errno values for the codes a lookup can fail with.
const ERRNO: Record<string, number> = { ENOTFOUND: -3008, EAI_AGAIN: -3001 };

function checkFamily(family: unknown): 0 | 4 | 6 {
  if (family === undefined || family === null || family === 0) return 0;
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  throw new TypeError(
    `family must be 0, 4, 6, "IPv4" or "IPv6", got ${String(family)}`,
  );
}

/** Node's `dns.lookup` error for a failed lookup; coio errors (cancellation) pass as they are. */
function nodeError(error: unknown, hostname: string): unknown {
  if (!(error instanceof GaiError)) return error;
  const code = error.code === "EAI_AGAIN" ? "EAI_AGAIN" : "ENOTFOUND";
  return Object.assign(
    new Error(`getaddrinfo ${code} ${hostname}`, { cause: error }),
    { code, errno: ERRNO[code], syscall: "getaddrinfo", hostname },
  );
}

/** The addresses of `hostname`, of `family` (0: both), in `order`. */
async function lookupAll(
  hostname: string,
  family: 0 | 4 | 6,
  order: string,
): Promise<LookupAddress[]> {
  // Node answers an empty name with no address, without asking anyone.
  if (hostname === "") return [];
  let found: AddrInfo[];
  try {
    found = await getaddrinfo(hostname, 0, { family });
  } catch (error) {
    throw nodeError(error, hostname);
  }
  const addresses = found.map(({ address, family }) => ({ address, family }));
  if (order === "ipv4first") addresses.sort((a, b) => a.family - b.family);
  else if (order === "ipv6first") addresses.sort((a, b) => b.family - a.family);
  return addresses;
}

/** Validates `options` (synchronously, as Node does) into what lookupAll takes. */
function parseOptions(
  options: unknown,
): { family: 0 | 4 | 6; order: string; all: boolean } {
  const opts = normalizeOptions(options);
  const order = opts.order ??
    (opts.verbatim === false ? "ipv4first" : "verbatim");
  if (order !== "verbatim" && order !== "ipv4first" && order !== "ipv6first") {
    throw new TypeError(
      `order must be "verbatim", "ipv4first" or "ipv6first", got ${
        String(order)
      }`,
    );
  }
  return { family: checkFamily(opts.family), order, all: opts.all === true };
}

function normalizeOptions(options: unknown): LookupOptions {
  if (options === undefined || options === null) return {};
  if (typeof options === "number") return { family: options };
  if (typeof options !== "object") {
    throw new TypeError(
      `lookup options must be an object or a family number, got ${typeof options}`,
    );
  }
  return options as LookupOptions;
}

function checkHostname(hostname: unknown): string {
  if (typeof hostname !== "string") {
    throw new TypeError(
      `hostname must be a string, got ${
        hostname === null ? "null" : typeof hostname
      }`,
    );
  }
  return hostname;
}

/** `dns.lookup` on the coio resolver: the hosts file first, then DNS. */
function lookup(
  hostname: string,
  options: LookupOptions | number | LookupCallback,
  callback?: LookupCallback,
): void {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  if (typeof callback !== "function") {
    throw new TypeError("dns.lookup needs a callback function");
  }
  const done = callback;
  const name = checkHostname(hostname);
  const { family, order, all } = parseOptions(options);
  lookupAll(name, family, order).then(
    (addresses) => {
      if (all) done(null, addresses);
      else if (addresses.length === 0) done(null, null, family === 6 ? 6 : 4);
      else done(null, addresses[0].address, addresses[0].family);
    },
    (error) => done(error as Error),
  );
}

/** `dns.promises.lookup` on the coio resolver. */
async function lookupPromise(
  hostname: string,
  options?: LookupOptions | number,
): Promise<
  LookupAddress | LookupAddress[] | { address: null; family: 4 | 6 }
> {
  const name = checkHostname(hostname);
  const { family, order, all } = parseOptions(options);
  const addresses = await lookupAll(name, family, order);
  if (all) return addresses;
  return addresses[0] ?? { address: null, family: family === 6 ? 6 : 4 };
}

// util.promisify(dns.lookup) gives { address, family }, as in Node.
Object.defineProperty(lookup, Symbol.for("nodejs.util.promisify.custom"), {
  value: lookupPromise,
});

interface Saved {
  dns: typeof NodeDns;
  lookup: unknown;
  promisesLookup: unknown;
}

let saved: Saved | undefined;

/**
 * Makes `node:dns` resolve names with the coio resolver (the hosts file of
 * {@linkcode configureResolver}, re-read when it changes, then DNS): `lookup`
 * (callback form), `promises.lookup` and `node:dns/promises`' `lookup` are
 * replaced on the module object, and `node:net` / `node:tls` connects to a
 * host name use it too (unless the caller passes its own `lookup`). Such a
 * lookup is a coio wait: a tasklet's kill or timeout scope cancels it. Errors
 * have Node's shape (`code` `"ENOTFOUND"` or `"EAI_AGAIN"`, `syscall`,
 * `hostname`, the `GaiError` as `cause`). Named imports
 * (`import { lookup } from "node:dns"`) are bindings that cannot be
 * replaced: patch what npm packages use, the module object. Calling it again
 * does nothing; {@linkcode unpatchNodeDns} restores the originals.
 *
 * @example Resolve a name from the coio hosts file
 * ```ts
 * import dns from "node:dns";
 * import { configureResolver } from "@syncless/syncless/coio";
 * import { patchNodeDns, unpatchNodeDns } from "@syncless/syncless/patch";
 *
 * const hostsFile = await Deno.makeTempFile();
 * await Deno.writeTextFile(hostsFile, "127.0.0.1 db.internal\n");
 * const previous = configureResolver({ hostsFile });
 * patchNodeDns();
 * try {
 *   console.log(await dns.promises.lookup("db.internal")); // { address: "127.0.0.1", family: 4 }
 * } finally {
 *   unpatchNodeDns();
 *   configureResolver(previous);
 *   await Deno.remove(hostsFile);
 * }
 * ```
 */
export function patchNodeDns(): void {
  if (saved !== undefined) return;
  const dns = nodeModule<typeof NodeDns>("node:dns");
  saved = { dns, lookup: dns.lookup, promisesLookup: dns.promises.lookup };
  Object.assign(dns, { lookup });
  Object.assign(dns.promises, { lookup: lookupPromise });
  socketPatches.lookup = lookup;
  syncSocketWrapper();
}

/**
 * Restores the `node:dns` lookups that {@linkcode patchNodeDns} replaced
 * (one that other code has since replaced is left as it is), and `node:net`
 * resolves with Deno's resolver again. A no-op when not patched.
 *
 * @example
 * ```ts
 * import dns from "node:dns";
 * import { patchNodeDns, unpatchNodeDns } from "@syncless/syncless/patch";
 *
 * const before = dns.lookup;
 * patchNodeDns();
 * unpatchNodeDns();
 * console.log(dns.lookup === before); // true
 * ```
 */
export function unpatchNodeDns(): void {
  if (saved === undefined) return;
  const { dns } = saved;
  if (dns.lookup === (lookup as unknown)) {
    Object.assign(dns, { lookup: saved.lookup });
  }
  if (dns.promises.lookup === (lookupPromise as unknown)) {
    Object.assign(dns.promises, { lookup: saved.promisesLookup });
  }
  saved = undefined;
  socketPatches.lookup = undefined;
  syncSocketWrapper();
}
