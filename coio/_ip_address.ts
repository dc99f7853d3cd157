/**
 * IP address literals: recognising them (so that they never reach the
 * network), writing them in one canonical form (so that `::1` and
 * `0:0:0:0:0:0:0:1` are the same hosts-file key) and naming their reverse
 * (PTR) zone.
 *
 * @module
 */

const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const ZONE_ID = /^[0-9A-Za-z_.\-]+$/;

/**
 * The four bytes of a dotted-decimal IPv4 literal (`1.2.3.4`), or `undefined`
 * when `text` is not one. Leading zeros are refused: inet_aton would read
 * them as octal, URL parsers as decimal, so they are ambiguous.
 */
export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!IPV4_PART.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

/** An IPv6 literal split into its eight 16-bit groups and its zone, if any. */
export interface IPv6Parts {
  groups: number[];
  zone: string | undefined;
}

/**
 * Parses an IPv6 literal in any RFC 4291 text form: full, `::`-compressed,
 * with a trailing dotted IPv4 (`::ffff:1.2.3.4`) and an optional `%zone`.
 * Returns `undefined` when `text` is not one.
 */
export function parseIPv6(text: string): IPv6Parts | undefined {
  let zone: string | undefined;
  const percent = text.indexOf("%");
  if (percent >= 0) {
    zone = text.slice(percent + 1);
    if (!ZONE_ID.test(zone)) return undefined;
    text = text.slice(0, percent);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0], halves.length === 1);
  if (head === undefined) return undefined;
  if (halves.length === 1) {
    return head.length === 8 ? { groups: head, zone } : undefined;
  }
  const tail = parseGroups(halves[1], true);
  if (tail === undefined) return undefined;
  // "::" stands for at least one zero group.
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return { groups: [...head, ...new Array(missing).fill(0), ...tail], zone };
}

// Groups of one side of "::"; only the last side may end in a dotted IPv4.
function parseGroups(text: string, last: boolean): number[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (last && i === parts.length - 1 && part.includes(".")) {
      const bytes = parseIPv4(part);
      if (bytes === undefined) return undefined;
      groups.push((bytes[0] << 8) | bytes[1], (bytes[2] << 8) | bytes[3]);
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/**
 * Writes IPv6 groups in the RFC 5952 canonical form, as Deno's resolver does:
 * lowercase, no leading zeros, the longest run of two or more zero groups
 * (the first on a tie) as `::`, and IPv4-mapped addresses as
 * `::ffff:a.b.c.d`.
 */
export function formatIPv6({ groups, zone }: IPv6Parts): string {
  const suffix = zone === undefined ? "" : `%${zone}`;
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 &&
    groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff
  ) {
    const v4 = [
      groups[6] >> 8,
      groups[6] & 255,
      groups[7] >> 8,
      groups[7] & 255,
    ];
    return `::ffff:${v4.join(".")}${suffix}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":") + suffix;
  const before = hex.slice(0, bestStart).join(":");
  const after = hex.slice(bestStart + bestLength).join(":");
  return `${before}::${after}${suffix}`;
}

/** An IP literal recognised by {@linkcode parseIPAddress}, in canonical form. */
export interface IPAddress {
  family: 4 | 6;
  address: string;
}

/**
 * Recognises an IPv4 or IPv6 literal and returns its family and canonical
 * text, or `undefined` when `text` is a host name.
 */
export function parseIPAddress(text: string): IPAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, address: v4.join(".") };
  if (!text.includes(":")) return undefined;
  const v6 = parseIPv6(text);
  if (v6 === undefined) return undefined;
  return { family: 6, address: formatIPv6(v6) };
}

/**
 * The PTR query name of an IP literal: `4.3.2.1.in-addr.arpa` for `1.2.3.4`,
 * 32 reversed nibbles under `ip6.arpa` for IPv6 (the zone is dropped).
 */
export function reverseName(ip: IPAddress): string {
  if (ip.family === 4) {
    return `${ip.address.split(".").reverse().join(".")}.in-addr.arpa`;
  }
  const { groups } = parseIPv6(ip.address)!;
  const nibbles: string[] = [];
  for (let i = 7; i >= 0; i--) {
    for (let shift = 0; shift < 16; shift += 4) {
      nibbles.push(((groups[i] >> shift) & 15).toString(16));
    }
  }
  return `${nibbles.join(".")}.ip6.arpa`;
}
