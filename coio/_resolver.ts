/**
 * The process-wide resolver settings that {@linkcode configureResolver}
 * changes and every DNS lookup reads.
 *
 * @module
 */

import { HostsFileCache } from "./_hosts_file.ts";

/** The settings of the resolver, all filled in. */
export interface ResolverState {
  /** `undefined`: the system's name servers (Deno reads /etc/resolv.conf). */
  readonly nameServer:
    | { readonly ipAddr: string; readonly port: number }
    | undefined;
  readonly hostsFile: string | null;
  readonly hostsCheckInterval: number;
  readonly timeout: number;
  readonly attempts: number;
  readonly maxConcurrentQueries: number;
  /** The hosts file and its cached table. */
  readonly hosts: HostsFileCache;
  /** Changes on every reconfiguration, so queries in flight are not shared across settings. */
  readonly generation: number;
}

/** Default milliseconds per attempt, as glibc's resolver (RES_TIMEOUT). */
export const DEFAULT_TIMEOUT = 5000;
/** Default number of attempts, as glibc's resolver (RES_DFLRETRY). */
export const DEFAULT_ATTEMPTS = 2;
/** Default number of DNS queries sent at once. */
export const DEFAULT_MAX_CONCURRENT_QUERIES = 100;
/** Default hosts file. */
export const DEFAULT_HOSTS_FILE = "/etc/hosts";
/** Default milliseconds a check of the hosts file stays valid. */
export const DEFAULT_HOSTS_CHECK_INTERVAL = 1000;

let generation = 0;
let state: ResolverState | undefined;

/** Builds and installs new settings; returns the previous ones. */
export function setResolverState(
  settings: Omit<ResolverState, "hosts" | "generation">,
): ResolverState {
  const previous = resolverState();
  state = {
    ...settings,
    hosts: new HostsFileCache(settings.hostsFile, settings.hostsCheckInterval),
    generation: ++generation,
  };
  return previous;
}

/** The current settings (the defaults until configured). */
export function resolverState(): ResolverState {
  state ??= {
    nameServer: undefined,
    hostsFile: DEFAULT_HOSTS_FILE,
    hostsCheckInterval: DEFAULT_HOSTS_CHECK_INTERVAL,
    timeout: DEFAULT_TIMEOUT,
    attempts: DEFAULT_ATTEMPTS,
    maxConcurrentQueries: DEFAULT_MAX_CONCURRENT_QUERIES,
    hosts: new HostsFileCache(DEFAULT_HOSTS_FILE, DEFAULT_HOSTS_CHECK_INTERVAL),
    generation: ++generation,
  };
  return state;
}
