/**
 * Line reading over loopback TCP, 64-byte lines, side by side in one run
 * (the machine is shared: only ratios measured in the same run count):
 *
 * - `raw read+scan`: `conn.read()` into one buffer and a newline count (the
 *   ceiling: no line objects at all),
 * - `TextDecoderStream+split`: `conn.readable` through `TextDecoderStream`,
 *   split on `\n`,
 * - `node:readline`: `readline.createInterface` over a `node:net` socket,
 * - `minimal awaited readline`: a hand-written buffered reader, one `await`
 *   per line,
 * - `NbFile for await`: `for await (const line of file)`,
 * - `NbFile readline()`: an awaited `file.readline()` loop,
 * - `NbFile readlineStripend()`: the same without the newline.
 *
 * The lines come from a server on a worker thread. Prints medians in M lines/s
 * and each ratio to `node:readline`.
 *
 * Run: `deno run -A bench/io_lines.ts [--lines=1000000] [--reps=5]`
 *
 * @module
 */
import { connect as nodeConnect } from "node:net";
import { createInterface } from "node:readline";
import { connect } from "../coio/mod.ts";

const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const LINES = Number(args.get("lines") ?? 1_000_000);
const REPS = Number(args.get("reps") ?? 5);

const worker = new Worker(new URL("./_io_source_worker.ts", import.meta.url), {
  type: "module",
});
const port: number = await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
});
const request = new TextEncoder().encode(`lines ${LINES}\n`);

async function rawConn(): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  await conn.write(request);
  return conn;
}

const variants: Record<string, () => Promise<number>> = {
  async "raw read+scan"() {
    const conn = await rawConn();
    const buf = new Uint8Array(65536);
    let count = 0;
    for (let n; (n = await conn.read(buf)) !== null;) {
      for (
        let i = buf.indexOf(10);
        i >= 0 && i < n;
        i = buf.indexOf(10, i + 1)
      ) {
        count++;
      }
    }
    conn.close();
    return count;
  },

  async "TextDecoderStream+split"() {
    const conn = await rawConn();
    let count = 0;
    let rest = "";
    for await (
      const chunk of conn.readable.pipeThrough(new TextDecoderStream())
    ) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      count += parts.length;
    }
    return count;
  },

  async "node:readline"() {
    const socket = nodeConnect({ host: "127.0.0.1", port });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(request);
    let count = 0;
    for await (
      const _line of createInterface({ input: socket, crlfDelay: Infinity })
    ) {
      count++;
    }
    socket.destroy();
    return count;
  },

  async "minimal awaited readline"() {
    const conn = await rawConn();
    const reader = new MinimalReader(conn);
    let count = 0;
    while ((await reader.readline()) !== null) count++;
    conn.close();
    return count;
  },

  async "NbFile for await"() {
    const socket = await connect({ hostname: "127.0.0.1", port });
    await socket.sendall(request);
    const file = socket.makefile();
    let count = 0;
    for await (const _line of file) count++;
    socket.close();
    return count;
  },

  async "NbFile readline()"() {
    const socket = await connect({ hostname: "127.0.0.1", port });
    await socket.sendall(request);
    const file = socket.makefile();
    let count = 0;
    while ((await file.readline()).length > 0) count++;
    socket.close();
    return count;
  },

  async "NbFile readlineStripend()"() {
    const socket = await connect({ hostname: "127.0.0.1", port });
    await socket.sendall(request);
    const file = socket.makefile();
    let count = 0;
    while ((await file.readlineStripend()) !== null) count++;
    socket.close();
    return count;
  },
};

/** The simplest buffered reader one would write by hand. */
class MinimalReader {
  #buf = new Uint8Array(65536);
  #start = 0;
  #end = 0;
  constructor(private conn: Deno.Conn) {}

  async readline(): Promise<Uint8Array | null> {
    for (;;) {
      const i = this.#buf.subarray(this.#start, this.#end).indexOf(10);
      if (i >= 0) {
        const line = this.#buf.slice(this.#start, this.#start + i + 1);
        this.#start += i + 1;
        return line;
      }
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const n = await this.conn.read(this.#buf.subarray(this.#end));
      if (n === null) return null;
      this.#end += n;
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const rates: Record<string, number[]> = {};
for (const name in variants) rates[name] = [];
for (let r = 0; r < REPS; r++) {
  for (const name in variants) {
    const start = performance.now();
    const count = await variants[name]();
    const ms = performance.now() - start;
    if (count !== LINES) {
      throw new Error(`${name}: ${count} lines, expected ${LINES}`);
    }
    rates[name].push(LINES / ms / 1000);
  }
}
const base = median(rates["node:readline"]);
console.log(`${LINES} lines of 64 bytes, ${REPS} runs each, interleaved`);
for (const name in variants) {
  const m = median(rates[name]);
  console.log(
    `  ${name.padEnd(28)} ${m.toFixed(2).padStart(6)} M lines/s   ${
      (m / base).toFixed(2)
    }x node:readline`,
  );
}
worker.terminate();
