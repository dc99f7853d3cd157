import { parseIPAddress } from "./_ip_address.ts";
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_HOSTS_CHECK_INTERVAL,
  DEFAULT_HOSTS_FILE,
  DEFAULT_MAX_CONCURRENT_QUERIES,
  DEFAULT_TIMEOUT,
  setResolverState,
} from "./_resolver.ts";

/** A DNS server to ask, in the shape `Deno.resolveDns` takes. */
export interface NameServer {
  /** The server's IPv4 or IPv6 address (a literal, not a name). */
  ipAddr: string;
  /**
   * The server's UDP/TCP port.
   *
   * @default {53}
   */
  port?: number;
}

/** Settings for {@linkcode configureResolver}. */
export interface ResolverOptions {
  /**
   * The DNS server every lookup asks; `null` or absent: the system's servers
   * (Deno reads `/etc/resolv.conf`).
   *
   * @default {null}
   */
  nameServer?: NameServer | null;
  /**
   * The hosts file consulted before DNS; `null` for none. It is re-read when
   * its modification time, size or inode changes.
   *
   * @default {"/etc/hosts"}
   */
  hostsFile?: string | null;
  /**
   * Milliseconds a check of the hosts file stays valid: lookups within that
   * time of the last check reuse its table without a `stat`. `0` checks on
   * every lookup (concurrent lookups still share one check).
   *
   * @default {1000}
   */
  hostsCheckInterval?: number;
  /**
   * Milliseconds one attempt of a DNS query may take before it is abandoned
   * and the next attempt starts.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * How many times a query is tried before the lookup fails with `GaiError`
   * `EAI_AGAIN` (so a silent server costs `attempts * timeout` milliseconds).
   *
   * @default {2}
   */
  attempts?: number;
  /**
   * How many DNS queries may be in flight at once; more wait their turn, in
   * order. Identical queries in flight together count once (they are sent
   * once). A burst far above this makes the server or the socket buffers
   * drop datagrams, each drop costing a whole `timeout`. `Infinity`: no cap.
   *
   * @default {100}
   */
  maxConcurrentQueries?: number;
}

/**
 * Replaces the settings of the DNS resolver used by {@linkcode gethostbyname}
 * and the other lookup functions, for the whole process; options left out
 * take their defaults. Returns the previous settings, all filled in, so that
 * passing them back restores them. Lookups already in flight finish with the
 * settings they started with.
 *
 * @example Ask a local DNS server, with a private hosts file
 * ```ts
 * import { configureResolver, getaddrinfo } from "@syncless/syncless/coio";
 *
 * const previous = configureResolver({
 *   nameServer: { ipAddr: "127.0.0.1", port: 5353 },
 *   hostsFile: null,
 *   timeout: 500,
 *   attempts: 3,
 * });
 * try {
 *   console.log(await getaddrinfo("127.0.0.1", 80)); // a literal: no query
 * } finally {
 *   configureResolver(previous);
 * }
 * ```
 *
 * @param options The new settings.
 * @returns The settings that were in force before.
 * @throws {TypeError} when an option has the wrong type.
 * @throws {RangeError} when a number is out of range or `nameServer.ipAddr`
 * is not an IP address.
 */
export function configureResolver(
  options: ResolverOptions = {},
): ResolverOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError("configureResolver() options must be an object");
  }
  const {
    nameServer = null,
    hostsFile = DEFAULT_HOSTS_FILE,
    hostsCheckInterval = DEFAULT_HOSTS_CHECK_INTERVAL,
    timeout = DEFAULT_TIMEOUT,
    attempts = DEFAULT_ATTEMPTS,
    maxConcurrentQueries = DEFAULT_MAX_CONCURRENT_QUERIES,
  } = options;
  const server = checkNameServer(nameServer);
  if (
    hostsFile !== null && (typeof hostsFile !== "string" || hostsFile === "")
  ) {
    throw new TypeError("hostsFile must be a non-empty path or null");
  }
  checkNumber("hostsCheckInterval", hostsCheckInterval, 0);
  checkNumber("timeout", timeout, Number.MIN_VALUE);
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be an integer >= 1, got ${attempts}`);
  }
  if (
    maxConcurrentQueries !== Infinity &&
    (!Number.isInteger(maxConcurrentQueries) || maxConcurrentQueries < 1)
  ) {
    throw new RangeError(
      `maxConcurrentQueries must be an integer >= 1 or Infinity, got ${maxConcurrentQueries}`,
    );
  }
  const previous = setResolverState({
    nameServer: server,
    hostsFile,
    hostsCheckInterval,
    timeout,
    attempts,
    maxConcurrentQueries,
  });
  return {
    nameServer: previous.nameServer === undefined
      ? null
      : { ...previous.nameServer },
    hostsFile: previous.hostsFile,
    hostsCheckInterval: previous.hostsCheckInterval,
    timeout: previous.timeout,
    attempts: previous.attempts,
    maxConcurrentQueries: previous.maxConcurrentQueries,
  };
}

function checkNameServer(
  nameServer: NameServer | null,
): { ipAddr: string; port: number } | undefined {
  if (nameServer === null) return undefined;
  if (typeof nameServer !== "object") {
    throw new TypeError("nameServer must be { ipAddr, port? } or null");
  }
  const { ipAddr, port = 53 } = nameServer;
  if (typeof ipAddr !== "string") {
    throw new TypeError("nameServer.ipAddr must be a string");
  }
  const ip = parseIPAddress(ipAddr);
  if (ip === undefined) {
    throw new RangeError(
      `nameServer.ipAddr must be an IPv4 or IPv6 address, got "${ipAddr}"`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `nameServer.port must be an integer 1-65535, got ${port}`,
    );
  }
  return { ipAddr: ip.address, port };
}

function checkNumber(name: string, value: unknown, min: number): void {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number of milliseconds`);
  }
  if (!(value >= min) || !Number.isFinite(value)) {
    throw new RangeError(
      `${name} must be a finite number ${
        min > 0 ? "> 0" : ">= 0"
      } (milliseconds), got ${value}`,
    );
  }
}
