/**
 * The hosts file (`/etc/hosts` format): a parser, and a cache that re-reads
 * the file when it changes. Syncless read it once at start-up and only its
 * IPv4 lines; this one takes IPv6 lines too and notices edits.
 *
 * @module
 */

import { parseIPAddress } from "./_ip_address.ts";

/** One line of a hosts file: an address and the names given to it. */
export interface HostsEntry {
  /** The address in canonical form (`::1`, never `0:0:0:0:0:0:0:1`). */
  readonly address: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The names on the line, as written; the first is the canonical name. */
  readonly names: readonly string[];
}

/** A parsed hosts file, indexed both ways. */
export class HostsTable {
  /** Every usable line, in file order. */
  readonly entries: readonly HostsEntry[];
  #byAddress = new Map<string, HostsEntry>();
  #byName = new Map<string, HostsEntry[]>();

  constructor(entries: HostsEntry[]) {
    this.entries = entries;
    for (const entry of entries) {
      // The first line for an address wins, as in Syncless and glibc.
      if (!this.#byAddress.has(entry.address)) {
        this.#byAddress.set(entry.address, entry);
      }
      for (const name of entry.names) {
        const key = hostsKey(name);
        const list = this.#byName.get(key);
        if (list === undefined) this.#byName.set(key, [entry]);
        else if (!list.includes(entry)) list.push(entry);
      }
    }
  }

  /** The first line for `address` (canonical form), if any. */
  byAddress(address: string): HostsEntry | undefined {
    return this.#byAddress.get(address);
  }

  /**
   * The lines that name `name` (case-insensitively, a trailing dot ignored),
   * in file order; with `family` 4 or 6 only the lines of that family.
   */
  byName(name: string, family: 0 | 4 | 6 = 0): HostsEntry[] {
    const list = this.#byName.get(hostsKey(name));
    if (list === undefined) return [];
    return family === 0 ? list : list.filter((e) => e.family === family);
  }
}

// Host names compare case-insensitively; "host." is "host".
function hostsKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * Parses hosts-file text: `#` starts a comment, fields are separated by any
 * whitespace, the first field is an IPv4 or IPv6 address. Lines whose first
 * field is not an address, or that name nothing, are skipped.
 */
export function parseHosts(text: string): HostsTable {
  const entries: HostsEntry[] = [];
  for (const rawLine of text.split("\n")) {
    const hash = rawLine.indexOf("#");
    const line = hash >= 0 ? rawLine.slice(0, hash) : rawLine;
    const fields = line.split(/\s+/).filter((f) => f !== "");
    if (fields.length < 2) continue;
    const ip = parseIPAddress(fields[0]);
    if (ip === undefined) continue;
    entries.push({
      address: ip.address,
      family: ip.family,
      names: fields.slice(1),
    });
  }
  return new HostsTable(entries);
}

const EMPTY = new HostsTable([]);

/**
 * A hosts file kept up to date: its table is reused while the file's
 * modification stamp (mtime, ctime, size, inode) stays the same. The stamp is
 * checked at most once per `checkInterval` milliseconds, and concurrent
 * lookups share one check, so a burst of lookups costs one `stat`.
 */
export class HostsFileCache {
  #table: HostsTable = EMPTY;
  #stamp: string | undefined = undefined;
  #checkedAt = -Infinity;
  #refreshing: Promise<HostsTable> | undefined = undefined;

  /** `path` `null` means no hosts file: every table is empty. */
  constructor(
    readonly path: string | null,
    readonly checkInterval: number,
  ) {}

  /** The table, when it was checked recently enough to be used as it is. */
  fresh(): HostsTable | undefined {
    if (this.path === null) return EMPTY;
    if (this.#refreshing !== undefined) return undefined;
    const age = performance.now() - this.#checkedAt;
    return age < this.checkInterval ? this.#table : undefined;
  }

  /** Checks the file (sharing a check already in progress) and returns its table. */
  refresh(): Promise<HostsTable> {
    if (this.path === null) return Promise.resolve(EMPTY);
    this.#refreshing ??= this.#load(this.path).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #load(path: string): Promise<HostsTable> {
    let stamp: string;
    try {
      const info = await Deno.stat(path);
      stamp = [
        info.mtime?.getTime(),
        info.ctime?.getTime(),
        info.size,
        info.ino,
      ].join(":");
    } catch (error) {
      // A missing permission is the caller's mistake, not an empty file.
      if (error instanceof Deno.errors.NotCapable) throw error;
      this.#table = EMPTY;
      this.#stamp = undefined;
      this.#checkedAt = performance.now();
      return EMPTY;
    }
    if (stamp !== this.#stamp) {
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotCapable) throw error;
        text = "";
      }
      this.#table = parseHosts(text);
      this.#stamp = stamp;
    }
    this.#checkedAt = performance.now();
    return this.#table;
  }
}
