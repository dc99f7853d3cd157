/**
 * Name lookups that block only the calling tasklet: the hosts file first,
 * then DNS through `Deno.resolveDns`, with the settings of
 * {@linkcode configureResolver}. The `gethostby*` functions keep the shapes of
 * Python's `socket` module, as Syncless did; `getaddrinfo` serves both IPv4
 * and IPv6.
 *
 * What changed from Syncless (its README's "Limitations"): the hosts file is
 * re-read when it changes and may hold IPv6 lines; IPv6 literals in every
 * form (`::1`, `2001:db8::1`) are recognised; `gethostbynameEx` follows the
 * real CNAME chain instead of guessing from a reverse lookup; reverse lookups
 * return every PTR record (large answers fall back to TCP).
 *
 * Deno's resolver itself answers two kinds of questions without asking the
 * server: names in the system's `/etc/hosts`, and the special-use
 * `localhost` names and `127.0.0.0/8` reverse zone of RFC 6761.
 *
 * @module
 */

import { queryDns } from "./_dns_query.ts";
import type { HostsTable } from "./_hosts_file.ts";
import { parseIPAddress, reverseName } from "./_ip_address.ts";
import { resolverState } from "./_resolver.ts";
import { GaiError, HError } from "./errors.ts";
import { waitFor } from "./wait_for.ts";

/** Options every lookup takes. */
export interface LookupOptions {
  /** Cancels the lookup; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options for {@linkcode getaddrinfo}. */
export interface GetaddrinfoOptions extends LookupOptions {
  /**
   * `4` for IPv4 addresses only, `6` for IPv6 only, `0` for both.
   *
   * @default {0}
   */
  family?: 0 | 4 | 6;
}

/** One address found by {@linkcode getaddrinfo}, ready for `connect()`. */
export interface AddrInfo {
  /** 4 or 6. */
  family: 4 | 6;
  /** The address: dotted IPv4, or canonical (RFC 5952) IPv6. */
  address: string;
  /** The port that was asked for. */
  port: number;
}

/**
 * The result of {@linkcode gethostbynameEx} and {@linkcode gethostbyaddr}, as
 * Python's `(hostname, aliaslist, ipaddrlist)`.
 */
export type HostEntry = [
  hostname: string,
  aliases: string[],
  addresses: string[],
];

/** What {@linkcode resolve} returns for each record type (as `Deno.resolveDns`). */
export interface DnsRecordMap {
  /** IPv4 addresses. */
  A: string[];
  /** IPv6 addresses. */
  AAAA: string[];
  /** Names (with a trailing dot). */
  ANAME: string[];
  /** Certification authority authorizations. */
  CAA: Deno.CaaRecord[];
  /** Names (with a trailing dot). */
  CNAME: string[];
  /** Mail exchangers. */
  MX: Deno.MxRecord[];
  /** Naming authority pointers. */
  NAPTR: Deno.NaptrRecord[];
  /** Name servers (with a trailing dot). */
  NS: string[];
  /** Names (with a trailing dot). */
  PTR: string[];
  /** Start of authority. */
  SOA: Deno.SoaRecord[];
  /** Services. */
  SRV: Deno.SrvRecord[];
  /** Texts, each a list of strings. */
  TXT: string[][];
}

/** The record types {@linkcode resolve} accepts (those of `Deno.resolveDns`). */
export type RecordType = keyof DnsRecordMap;

// How many CNAME links gethostbynameEx follows before it stops (as resolvers
// bound chains to stop loops).
const MAX_CNAME_CHAIN = 16;

const RECORD_TYPES: ReadonlySet<string> = new Set([
  "A",
  "AAAA",
  "ANAME",
  "CAA",
  "CNAME",
  "MX",
  "NAPTR",
  "NS",
  "PTR",
  "SOA",
  "SRV",
  "TXT",
]);

/**
 * Looks up the IPv4 address of `name`, as Python's `socket.gethostbyname`:
 * an IPv4 literal is returned as it is, a name in the hosts file gives the
 * address of its first IPv4 line, any other name the first A record.
 *
 * @example Resolve a name from the hosts file
 * ```ts
 * import { gethostbyname } from "@syncless/syncless/coio";
 *
 * console.log(await gethostbyname("localhost")); // "127.0.0.1"
 * console.log(await gethostbyname("10.1.2.3")); // "10.1.2.3", no lookup
 * ```
 *
 * @param name A host name or an IPv4 literal.
 * @param options `signal` cancels the lookup.
 * @returns The address, dotted.
 * @throws {GaiError} `EAI_ADDRFAMILY` for an IPv6 literal, `EAI_NODATA` when
 * the name has no IPv4 address, `EAI_NONAME` for a malformed name,
 * `EAI_AGAIN` when the DNS server did not answer.
 * @throws {TypeError} when `name` is not a string.
 */
export async function gethostbyname(
  name: string,
  options: LookupOptions = {},
): Promise<string> {
  checkString(name, "name");
  const { signal } = options;
  const ip = parseIPAddress(name);
  if (ip !== undefined) {
    if (ip.family === 6) throw addressFamilyError();
    return ip.address;
  }
  const entry = (await hostsTable(signal)).byName(name, 4)[0];
  if (entry !== undefined) return entry.address;
  checkDnsName(name);
  const addresses = await queryDns(name, "A", signal) as string[];
  if (addresses.length === 0) throw noDataError();
  return addresses[0];
}

/**
 * Looks up `name` as Python's `socket.gethostbyname_ex`: returns
 * `[canonicalName, aliases, ipv4Addresses]`. For a hosts-file name that is
 * its first IPv4 line (first name, other names, its address); for a DNS name
 * the canonical name is the end of its CNAME chain, the aliases are the
 * names along the chain (starting with `name`), and the addresses are all
 * its A records.
 *
 * @example
 * ```ts
 * import { gethostbynameEx } from "@syncless/syncless/coio";
 *
 * const [canonical, aliases, addresses] = await gethostbynameEx("127.0.0.1");
 * console.log(canonical, aliases, addresses); // "127.0.0.1" [] ["127.0.0.1"]
 * ```
 *
 * @param name A host name or an IPv4 literal.
 * @param options `signal` cancels the lookup.
 * @throws {GaiError} as {@linkcode gethostbyname}.
 * @throws {TypeError} when `name` is not a string.
 */
export async function gethostbynameEx(
  name: string,
  options: LookupOptions = {},
): Promise<HostEntry> {
  checkString(name, "name");
  const { signal } = options;
  const ip = parseIPAddress(name);
  if (ip !== undefined) {
    if (ip.family === 6) throw addressFamilyError();
    return [ip.address, [], [ip.address]];
  }
  const entry = (await hostsTable(signal)).byName(name, 4)[0];
  if (entry !== undefined) {
    return [entry.names[0], entry.names.slice(1), [entry.address]];
  }
  checkDnsName(name);
  const [addresses, [canonical, aliases]] = await both(
    queryDns(name, "A", signal) as Promise<string[]>,
    cnameChain(name, signal),
  );
  if (addresses.length === 0) throw noDataError();
  return [canonical, aliases, addresses];
}

/**
 * Finds the names of a host, as Python's `socket.gethostbyaddr`: returns
 * `[hostname, aliases, [address]]`. `address` may be an IPv4 or IPv6 literal
 * or a host name (looked up first: hosts file, then A, then AAAA). An address
 * in the hosts file gives its first line's names; otherwise every PTR record
 * is returned: the first as `hostname`, the others as `aliases`.
 *
 * @example
 * ```ts
 * import { gethostbyaddr } from "@syncless/syncless/coio";
 *
 * console.log(await gethostbyaddr("localhost")); // ["localhost", [], ["127.0.0.1"]]
 * ```
 *
 * @param address An IP literal or a host name.
 * @param options `signal` cancels the lookup.
 * @throws {HError} `HOST_NOT_FOUND` when the address has no PTR record.
 * @throws {GaiError} `EAI_NODATA` when a host name has no address,
 * `EAI_NONAME` for a malformed name, `EAI_AGAIN` when the server did not
 * answer.
 * @throws {TypeError} when `address` is not a string.
 */
export async function gethostbyaddr(
  address: string,
  options: LookupOptions = {},
): Promise<HostEntry> {
  checkString(address, "address");
  const { signal } = options;
  let ip = parseIPAddress(address);
  const table = await hostsTable(signal);
  if (ip === undefined) {
    const entry = table.byName(address)[0];
    if (entry !== undefined) {
      ip = { family: entry.family, address: entry.address };
    } else {
      checkDnsName(address);
      const { v4, v6 } = await lookupAddresses(address, 0, signal);
      if (v4.length > 0) ip = { family: 4, address: v4[0] };
      else if (v6.length > 0) ip = { family: 6, address: v6[0] };
      else throw noDataError();
    }
  }
  const entry = table.byAddress(ip.address);
  if (entry !== undefined) {
    return [entry.names[0], entry.names.slice(1), [ip.address]];
  }
  const names = await queryDns(reverseName(ip), "PTR", signal) as string[];
  if (names.length === 0) {
    throw new HError("HOST_NOT_FOUND", "Unknown host");
  }
  const [hostname, ...aliases] = names.map(stripDot);
  return [hostname, aliases, [ip.address]];
}

/**
 * Returns a fully qualified name for `name`, as Python's `socket.getfqdn`:
 * looks it up like {@linkcode gethostbyaddr} and returns the first of its
 * hostname and aliases that contains a dot (else the hostname). It never
 * throws a lookup error: when the lookup fails, `name` is returned as it is.
 * An empty `name` (or `0.0.0.0`, `::`) means this machine's host name.
 * Cancellation (kill, timeout scope, `signal`) still interrupts it.
 *
 * @example
 * ```ts
 * import { getfqdn } from "@syncless/syncless/coio";
 *
 * console.log(await getfqdn("localhost")); // "localhost"
 * ```
 *
 * @param name A host name or IP literal; this machine's name by default.
 * @param options `signal` cancels the lookup.
 * @throws {TypeError} when `name` is not a string.
 */
export async function getfqdn(
  name = "",
  options: LookupOptions = {},
): Promise<string> {
  checkString(name, "name");
  name = name.trim();
  if (name === "" || name === "0.0.0.0" || name === "::") name = hostname();
  let entry: HostEntry;
  try {
    entry = await gethostbyaddr(name, options);
  } catch (error) {
    if (error instanceof GaiError || error instanceof HError) return name;
    throw error;
  }
  const [host, aliases] = entry;
  return [host, ...aliases].find((n) => n.includes(".")) ?? host;
}

/**
 * Resolves `host` to the addresses to connect to for `port`: an IP literal
 * as it is, a hosts-file name gives the addresses of all its lines (in file
 * order), any other name its AAAA and A records, interleaved IPv6 first as
 * RFC 8305 ("Happy Eyeballs") orders them. Try them in order until one
 * connects.
 *
 * @example Addresses for a connection
 * ```ts
 * import { getaddrinfo } from "@syncless/syncless/coio";
 *
 * for (const { family, address, port } of await getaddrinfo("localhost", 80)) {
 *   console.log(family, address, port); // 4 "127.0.0.1" 80
 * }
 * console.log(await getaddrinfo("::1", 443)); // [{ family: 6, address: "::1", port: 443 }]
 * ```
 *
 * @param host A host name or an IP literal.
 * @param port A port number, 0-65535 (a string of digits is accepted).
 * @param options `family` limits the answer to IPv4 or IPv6; `signal`
 * cancels the lookup.
 * @returns At least one address.
 * @throws {GaiError} `EAI_NONAME` when the name has no address (or is
 * malformed), `EAI_ADDRFAMILY` for a literal of the other family than
 * `family`, `EAI_AGAIN` when the DNS server did not answer.
 * @throws {TypeError} when `host` is not a string or `port` not a number.
 * @throws {RangeError} when `port` or `family` is out of range.
 */
export async function getaddrinfo(
  host: string,
  port: number | string,
  options: GetaddrinfoOptions = {},
): Promise<AddrInfo[]> {
  checkString(host, "host");
  const portNumber = checkPort(port);
  const { family = 0, signal } = options;
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new RangeError(`family must be 0, 4 or 6, got ${String(family)}`);
  }
  const ip = parseIPAddress(host);
  if (ip !== undefined) {
    if (family !== 0 && family !== ip.family) throw addressFamilyError();
    return [{ family: ip.family, address: ip.address, port: portNumber }];
  }
  const entries = (await hostsTable(signal)).byName(host, family);
  if (entries.length > 0) {
    const seen = new Set<string>();
    const result: AddrInfo[] = [];
    for (const { family, address } of entries) {
      if (seen.has(address)) continue;
      seen.add(address);
      result.push({ family, address, port: portNumber });
    }
    return result;
  }
  checkDnsName(host);
  const { v4, v6 } = await lookupAddresses(host, family, signal);
  const result: AddrInfo[] = [];
  for (let i = 0; i < v4.length || i < v6.length; i++) {
    if (i < v6.length) {
      result.push({ family: 6, address: v6[i], port: portNumber });
    }
    if (i < v4.length) {
      result.push({ family: 4, address: v4[i], port: portNumber });
    }
  }
  if (result.length === 0) throw noNameError();
  return result;
}

/**
 * Asks DNS for the records of one type, like `Deno.resolveDns`, but with the
 * resolver's name server, timeout and attempts, as a cancellable coio wait.
 * The hosts file is not consulted.
 *
 * @example Mail servers of a domain
 * ```ts
 * import { GaiError, resolve } from "@syncless/syncless/coio";
 *
 * try {
 *   for (const { preference, exchange } of await resolve("example.com", "MX")) {
 *     console.log(preference, exchange);
 *   }
 * } catch (error) {
 *   if (error instanceof GaiError) console.log(error.code); // "EAI_AGAIN" when offline
 * }
 * ```
 *
 * @param name The name to ask about.
 * @param recordType One of Deno's record types (`"A"`, `"MX"`, `"TXT"` ...).
 * @param options `signal` cancels the query.
 * @returns The records, as `Deno.resolveDns` gives them.
 * @throws {GaiError} `EAI_NODATA` when there is no such record,
 * `EAI_NONAME` for a malformed name, `EAI_AGAIN` when the server did not
 * answer.
 * @throws {TypeError} when `name` is not a string or `recordType` unknown.
 */
export async function resolve<T extends RecordType>(
  name: string,
  recordType: T,
  options: LookupOptions = {},
): Promise<DnsRecordMap[T]> {
  checkString(name, "name");
  if (!RECORD_TYPES.has(recordType)) {
    throw new TypeError(`unknown DNS record type: ${String(recordType)}`);
  }
  checkDnsName(name);
  const records = await queryDns(name, recordType, options.signal);
  if (records.length === 0) {
    throw new GaiError("EAI_NODATA", `No ${recordType} records for ${name}`);
  }
  return records as DnsRecordMap[T];
}

// The current hosts table: as it is when recently checked, else after one
// (shared) check of the file, as a cancellable wait.
function hostsTable(
  signal: AbortSignal | undefined,
): HostsTable | Promise<HostsTable> {
  const cache = resolverState().hosts;
  return cache.fresh() ?? waitFor(cache.refresh(), { signal });
}

// A and/or AAAA records of `name`, both asked at once when family is 0.
async function lookupAddresses(
  name: string,
  family: 0 | 4 | 6,
  signal: AbortSignal | undefined,
): Promise<{ v4: string[]; v6: string[] }> {
  if (family === 4) {
    return { v4: await queryDns(name, "A", signal) as string[], v6: [] };
  }
  if (family === 6) {
    return { v4: [], v6: await queryDns(name, "AAAA", signal) as string[] };
  }
  const [v4, v6] = await both(
    queryDns(name, "A", signal) as Promise<string[]>,
    queryDns(name, "AAAA", signal) as Promise<string[]>,
  );
  return { v4, v6 };
}

// Follows CNAME records from `name`: [the name at the end, the names before].
async function cnameChain(
  name: string,
  signal: AbortSignal | undefined,
): Promise<[string, string[]]> {
  const aliases: string[] = [];
  const seen = new Set([stripDot(name).toLowerCase()]);
  let current = name;
  for (let i = 0; i < MAX_CNAME_CHAIN; i++) {
    const targets = await queryDns(current, "CNAME", signal) as string[];
    if (targets.length === 0) break;
    const target = stripDot(targets[0]);
    aliases.push(current);
    current = target;
    if (seen.has(target.toLowerCase())) break;
    seen.add(target.toLowerCase());
  }
  return [current, aliases];
}

// Awaits two lookups of one tasklet; both have ended (none is left in flight)
// when this settles, with the first one's error if either failed.
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === "rejected") throw ra.reason;
  if (rb.status === "rejected") throw rb.reason;
  return [ra.value, rb.value];
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    // Without --allow-sys the name is unknown; Python would not fail here.
    return "localhost";
  }
}

function stripDot(name: string): string {
  return name.endsWith(".") && name.length > 1 ? name.slice(0, -1) : name;
}

function checkString(value: unknown, what: string): void {
  if (typeof value !== "string") {
    throw new TypeError(`${what} must be a string, got ${typeOf(value)}`);
  }
}

function checkPort(port: unknown): number {
  let value = port;
  if (typeof port === "string" && /^[0-9]{1,5}$/.test(port)) {
    value = Number(port);
  }
  if (typeof value !== "number") {
    throw new TypeError(`port must be a number, got ${typeOf(port)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(
      `port must be an integer 0-65535, got ${String(port)}`,
    );
  }
  return value;
}

// Names DNS cannot carry fail at once, without a query: empty, longer than
// 253 characters, an empty or over-long label, whitespace or controls.
function checkDnsName(name: string): void {
  const bare = stripDot(name);
  if (
    bare === "" || bare === "." || bare.length > 253 ||
    // deno-lint-ignore no-control-regex
    /[\s\x00-\x1f\x7f]/.test(bare) ||
    bare.split(".").some((label) => label === "" || label.length > 63)
  ) {
    throw noNameError();
  }
}

function typeOf(value: unknown): string {
  return value === null ? "null" : typeof value;
}

function addressFamilyError(): GaiError {
  return new GaiError(
    "EAI_ADDRFAMILY",
    "Address family for hostname not supported",
  );
}

function noDataError(): GaiError {
  return new GaiError("EAI_NODATA", "No address associated with hostname");
}

function noNameError(): GaiError {
  return new GaiError("EAI_NONAME", "Name or service not known");
}
