// Finds the user that owns the other end of a loopback TCP connection, from
// Linux's /proc/net/tcp{,6} (the original shelled out to lsof for the same).

/** The address of one end of a TCP connection. */
export interface Endpoint {
  hostname: string;
  port: number;
}

/** The 16 bytes of an IPv6 address, or the 4 of an IPv4 one; undefined if malformed. */
export function addressBytes(hostname: string): Uint8Array | undefined {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4 !== null) {
    const parts = v4.slice(1).map(Number);
    return parts.every((n) => n <= 255) ? new Uint8Array(parts) : undefined;
  }
  if (!host.includes(":")) return undefined;
  let tail: number[] = [];
  let text = host;
  const embedded = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (embedded !== null) {
    const v4bytes = addressBytes(embedded[2]);
    if (v4bytes === undefined) return undefined;
    text = embedded[1] + "0:0";
    tail = [...v4bytes];
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (s: string) => s === "" ? [] : s.split(":");
  const head = words(halves[0]);
  const rest = halves.length === 2 ? words(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...Array(missing).fill("0"), ...rest];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[\da-fA-F]{1,4}$/.test(all[i])) return undefined;
    const word = parseInt(all[i], 16);
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 255;
  }
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

/** How /proc/net/tcp{,6} writes an address and port (32-bit words in host order, x86 = little-endian). */
export function procAddress(endpoint: Endpoint): string | undefined {
  const bytes = addressBytes(endpoint.hostname);
  if (bytes === undefined) return undefined;
  let hex = "";
  for (let word = 0; word < bytes.length; word += 4) {
    for (let i = 3; i >= 0; i--) {
      hex += bytes[word + i].toString(16).padStart(2, "0");
    }
  }
  return `${hex.toUpperCase()}:${
    endpoint.port.toString(16).toUpperCase().padStart(4, "0")
  }`;
}

/**
 * The uid owning the socket whose local end is `peer` and remote end is
 * `local`, found in the text of /proc/net/tcp or /proc/net/tcp6; undefined
 * if no line matches.
 */
export function findSocketUid(
  table: string,
  peer: Endpoint,
  local: Endpoint,
): number | undefined {
  const want = [procAddress(peer), procAddress(local)];
  // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d in tcp6.
  const mapped = [peer, local].map((end) =>
    addressBytes(end.hostname)?.length === 4
      ? procAddress({ hostname: `::ffff:${end.hostname}`, port: end.port })
      : undefined
  );
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [, localField, remoteField] = fields;
    if (
      localField === want[0] && remoteField === want[1] ||
      localField === mapped[0] && remoteField === mapped[1]
    ) {
      return Number(fields[7]);
    }
  }
  return undefined;
}

/**
 * The uid of the process at the other end of a loopback connection from
 * `peer` to `local`, or undefined when it cannot be told (not Linux, or the
 * socket is gone).
 */
export async function peerUid(
  peer: Endpoint,
  local: Endpoint,
): Promise<number | undefined> {
  for (const path of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table: string;
    try {
      table = await Deno.readTextFile(path);
    } catch {
      continue;
    }
    const uid = findSocketUid(table, peer, local);
    if (uid !== undefined) return uid;
  }
  return undefined;
}
