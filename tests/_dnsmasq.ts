/**
 * Test fixtures for DNS: a real dnsmasq serving a test zone on a loopback
 * port, and a UDP relay that counts queries and holds them (forever, for a
 * server that never answers, or until released to an upstream server).
 *
 * @module
 */

import dgram from "node:dgram";
import type { Buffer } from "node:buffer";

/** The records a {@linkcode Dnsmasq} serves. */
export interface DnsmasqZone {
  /** `--host-record`: a name, its A/AAAA addresses, and their PTR records. */
  hostRecords?: [name: string, ...addresses: string[]][];
  /** `--address=/name/ip`: A or AAAA records without PTR records, answered in this order. */
  addresses?: [name: string, address: string][];
  /** `--cname`: alias, target. */
  cnames?: [alias: string, target: string][];
  /** `--ptr-record`: a full `in-addr.arpa` / `ip6.arpa` name, and the name it points to. */
  ptrRecords?: [arpaName: string, name: string][];
  /** Text of a hosts file given to `--addn-hosts`. */
  addnHosts?: string;
}

const SKIP_MESSAGE =
  "SKIP: dnsmasq not installed (apt-get install dnsmasq-base)";

/** The dnsmasq binary, or `undefined` when it is not installed. */
export async function findDnsmasq(): Promise<string | undefined> {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  for (const dir of [...dirs, "/usr/sbin", "/sbin"]) {
    const path = `${dir}/dnsmasq`;
    try {
      const info = await Deno.stat(path);
      if (info.isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** A dnsmasq process serving a test zone on 127.0.0.1; stop it when done. */
export class Dnsmasq implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #stderr: ReadableStreamDefaultReader<Uint8Array>;
  #log: string;
  #hostsPath: string | undefined;

  private constructor(
    readonly port: number,
    child: Deno.ChildProcess,
    stderr: ReadableStreamDefaultReader<Uint8Array>,
    log: string,
    hostsPath: string | undefined,
  ) {
    this.#child = child;
    this.#stderr = stderr;
    this.#log = log;
    this.#hostsPath = hostsPath;
  }

  /** `{ ipAddr, port }` for `configureResolver` or `Deno.resolveDns`. */
  get nameServer(): { ipAddr: string; port: number } {
    return { ipAddr: "127.0.0.1", port: this.port };
  }

  /**
   * Starts dnsmasq in the foreground (no daemon, no pid file, no system
   * files) for `zone`. Returns `undefined`, after printing a SKIP line, when
   * dnsmasq is not installed.
   */
  static async start(zone: DnsmasqZone = {}): Promise<Dnsmasq | undefined> {
    const binary = await findDnsmasq();
    if (binary === undefined) {
      console.log(SKIP_MESSAGE);
      return undefined;
    }
    let hostsPath: string | undefined;
    if (zone.addnHosts !== undefined) {
      hostsPath = await Deno.makeTempFile({ suffix: ".hosts" });
      await Deno.writeTextFile(hostsPath, zone.addnHosts);
      // dnsmasq started as root reads it as "nobody".
      await Deno.chmod(hostsPath, 0o644);
    }
    let lastLog = "";
    // A free port can be taken between our probe and dnsmasq's bind: retry.
    for (let tries = 0; tries < 5; tries++) {
      const port = freePort();
      const child = new Deno.Command(binary, {
        args: [...zoneArgs(zone, hostsPath), `--port=${port}`],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = child.stderr.getReader();
      const log = await readUntilStarted(stderr);
      if (log.includes("started, version")) {
        return new Dnsmasq(port, child, stderr, log, hostsPath);
      }
      lastLog = log;
      await child.status;
    }
    if (hostsPath !== undefined) await Deno.remove(hostsPath);
    throw new Error(`dnsmasq did not start:\n${lastLog}`);
  }

  /** What dnsmasq wrote to stderr so far. */
  get log(): string {
    return this.#log;
  }

  /** Stops dnsmasq and waits for it to exit; removes its hosts file. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await this.#stderr.read();
      if (done) break;
      this.#log += decoder.decode(value);
    }
    await this.#child.status;
    if (this.#hostsPath !== undefined) {
      await Deno.remove(this.#hostsPath);
      this.#hostsPath = undefined;
    }
  }

  /** Same as {@linkcode stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function zoneArgs(zone: DnsmasqZone, hostsPath: string | undefined): string[] {
  const args = [
    "--keep-in-foreground",
    "--conf-file=/dev/null",
    "--pid-file=",
    "--log-facility=-",
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    // Every name is ours: unknown names get NXDOMAIN, never a forward.
    "--local=/#/",
  ];
  for (const [name, ...addresses] of zone.hostRecords ?? []) {
    args.push(`--host-record=${[name, ...addresses].join(",")}`);
  }
  // dnsmasq answers --address records last option first.
  for (const [name, address] of [...(zone.addresses ?? [])].reverse()) {
    args.push(`--address=/${name}/${address}`);
  }
  for (const [alias, target] of zone.cnames ?? []) {
    args.push(`--cname=${alias},${target}`);
  }
  for (const [arpaName, name] of zone.ptrRecords ?? []) {
    args.push(`--ptr-record=${arpaName},${name}`);
  }
  if (hostsPath !== undefined) args.push(`--addn-hosts=${hostsPath}`);
  return args;
}

// Reads dnsmasq's log until it says it has started (its sockets are bound
// by then) or it exits.
async function readUntilStarted(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<string> {
  const decoder = new TextDecoder();
  let log = "";
  while (!log.includes("started, version")) {
    const { done, value } = await reader.read();
    if (done) break;
    log += decoder.decode(value, { stream: true });
  }
  return log;
}

// A port that was free on 127.0.0.1 a moment ago (TCP; dnsmasq binds UDP and
// TCP on it).
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * A UDP "DNS server" on 127.0.0.1 that counts the queries it gets and holds
 * them: never answered (a server that does not answer) unless `release()`
 * forwards them, and every later one, to a real server.
 */
export class HoldingDnsServer implements AsyncDisposable {
  /** Number of queries received. */
  received = 0;
  /** The name asked by each query received, in order. */
  readonly names: string[] = [];
  #socket: dgram.Socket;
  #held: { message: Buffer; port: number; address: string }[] = [];
  #upstream: number | undefined = undefined;
  #relays = new Set<dgram.Socket>();
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on("message", (message, remote) => {
      this.received++;
      this.names.push(questionName(message));
      const query = { message, port: remote.port, address: remote.address };
      if (this.#upstream === undefined) this.#held.push(query);
      else this.#relay(query);
      this.#waiters = this.#waiters.filter((w) => {
        if (this.received < w.count) return true;
        w.resolve();
        return false;
      });
    });
  }

  /** Starts one on a free loopback port. */
  static async start(): Promise<HoldingDnsServer> {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) =>
      socket.bind(0, "127.0.0.1", () => resolve())
    );
    return new HoldingDnsServer(socket);
  }

  /** `{ ipAddr, port }` for `configureResolver`. */
  get nameServer(): { ipAddr: string; port: number } {
    return { ipAddr: "127.0.0.1", port: this.#socket.address().port };
  }

  /** Resolves once `count` queries have been received in all. */
  waitForQueries(count: number): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Forwards the held queries, and every later one, to `upstreamPort`. */
  release(upstreamPort: number): void {
    this.#upstream = upstreamPort;
    for (const query of this.#held.splice(0)) this.#relay(query);
  }

  #relay(query: { message: Buffer; port: number; address: string }): void {
    const relay = dgram.createSocket("udp4");
    this.#relays.add(relay);
    relay.on("message", (reply) => {
      this.#socket.send(reply, query.port, query.address);
      this.#relays.delete(relay);
      relay.close();
    });
    relay.send(query.message, this.#upstream!, "127.0.0.1");
  }

  /** Closes its sockets. */
  async close(): Promise<void> {
    const sockets = [this.#socket, ...this.#relays];
    this.#relays.clear();
    await Promise.all(
      sockets.map((s) =>
        new Promise<void>((resolve) => s.close(() => resolve()))
      ),
    );
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// The QNAME of a DNS query: length-prefixed labels after the 12-byte header.
function questionName(message: Uint8Array): string {
  const labels: string[] = [];
  for (let i = 12; i < message.length && message[i] !== 0;) {
    const length = message[i];
    labels.push(
      new TextDecoder().decode(message.subarray(i + 1, i + 1 + length)),
    );
    i += 1 + length;
  }
  return labels.join(".");
}
