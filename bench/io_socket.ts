/**
 * NbSocket against a raw `Deno.Conn`, side by side in one run (the machine
 * is shared: only ratios measured in the same run count), against a server
 * on a worker thread:
 *
 * - `echo`: round trips of a 64-byte message (`sendall` + `recv` against
 *   `conn.write` + `conn.read`), µs per round trip;
 * - `download`: receiving a bulk stream into one 64 KiB buffer
 *   (`recvInto` against `conn.read()`), and with `recv(65536)`, which
 *   returns new memory each time, MB/s;
 * - `upload`: sending a bulk stream in 64 KiB chunks (`sendall` against a
 *   `conn.write` loop), MB/s.
 *
 * Run: `deno run -A bench/io_socket.ts [--reps=5] [--trips=20000] [--mb=256]`
 *
 * @module
 */
import { connect, type NbSocket } from "../coio/mod.ts";

const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const REPS = Number(args.get("reps") ?? 5);
const TRIPS = Number(args.get("trips") ?? 20_000);
const BYTES = Number(args.get("mb") ?? 256) * 1024 * 1024;

const worker = new Worker(new URL("./_io_source_worker.ts", import.meta.url), {
  type: "module",
});
const port: number = await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
});
const encoder = new TextEncoder();
const MESSAGE = new Uint8Array(64).fill(65);
const CHUNK = new Uint8Array(65536).fill(66);

async function raw(hello: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  await conn.write(encoder.encode(hello));
  return conn;
}

async function nb(hello: string): Promise<NbSocket> {
  const socket = await connect({ hostname: "127.0.0.1", port });
  await socket.sendall(hello);
  return socket;
}

async function rawWriteAll(conn: Deno.Conn, data: Uint8Array) {
  for (let off = 0; off < data.length;) {
    off += await conn.write(data.subarray(off));
  }
}

// The server reads its command with one read: let it arrive alone first.
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

const groups: Record<string, Record<string, () => Promise<number>>> = {
  echo: {
    async "raw Deno.Conn"() {
      const conn = await raw("echo\n");
      await settle();
      const buf = new Uint8Array(65536);
      const start = performance.now();
      for (let i = 0; i < TRIPS; i++) {
        await rawWriteAll(conn, MESSAGE);
        for (let got = 0; got < 64;) got += (await conn.read(buf))!;
      }
      const us = (performance.now() - start) * 1000 / TRIPS;
      conn.close();
      return us;
    },
    async "NbSocket"() {
      const socket = await nb("echo\n");
      await settle();
      const start = performance.now();
      for (let i = 0; i < TRIPS; i++) {
        await socket.sendall(MESSAGE);
        for (let got = 0; got < 64;) got += (await socket.recv(65536)).length;
      }
      const us = (performance.now() - start) * 1000 / TRIPS;
      socket.close();
      return us;
    },
  },
  download: {
    async "raw Deno.Conn"() {
      const conn = await raw(`bulk ${BYTES}\n`);
      const buf = new Uint8Array(65536);
      const start = performance.now();
      let total = 0;
      for (let n; (n = await conn.read(buf)) !== null;) total += n;
      const mbps = total / 1048576 / ((performance.now() - start) / 1000);
      conn.close();
      if (total !== BYTES) throw new Error(`got ${total} bytes`);
      return mbps;
    },
    async "raw, new buffer per read"() {
      const conn = await raw(`bulk ${BYTES}\n`);
      const start = performance.now();
      let total = 0;
      for (let n; (n = await conn.read(new Uint8Array(65536))) !== null;) {
        total += n;
      }
      const mbps = total / 1048576 / ((performance.now() - start) / 1000);
      conn.close();
      if (total !== BYTES) throw new Error(`got ${total} bytes`);
      return mbps;
    },
    async "NbSocket recvInto"() {
      const socket = await nb(`bulk ${BYTES}\n`);
      const buf = new Uint8Array(65536);
      const start = performance.now();
      let total = 0;
      for (let n; (n = await socket.recvInto(buf)) > 0;) total += n;
      const mbps = total / 1048576 / ((performance.now() - start) / 1000);
      socket.close();
      if (total !== BYTES) throw new Error(`got ${total} bytes`);
      return mbps;
    },
    async "NbSocket recv"() {
      const socket = await nb(`bulk ${BYTES}\n`);
      const start = performance.now();
      let total = 0;
      for (let d; (d = await socket.recv(65536)).length > 0;) total += d.length;
      const mbps = total / 1048576 / ((performance.now() - start) / 1000);
      socket.close();
      if (total !== BYTES) throw new Error(`got ${total} bytes`);
      return mbps;
    },
  },
  upload: {
    async "raw Deno.Conn"() {
      const conn = await raw("sink\n");
      await settle();
      const start = performance.now();
      for (let sent = 0; sent < BYTES; sent += CHUNK.length) {
        await rawWriteAll(conn, CHUNK);
      }
      await conn.closeWrite();
      await conn.read(new Uint8Array(16));
      const mbps = BYTES / 1048576 / ((performance.now() - start) / 1000);
      conn.close();
      return mbps;
    },
    async "NbSocket"() {
      const socket = await nb("sink\n");
      await settle();
      const start = performance.now();
      for (let sent = 0; sent < BYTES; sent += CHUNK.length) {
        await socket.sendall(CHUNK);
      }
      await socket.shutdown();
      await socket.recv(16);
      const mbps = BYTES / 1048576 / ((performance.now() - start) / 1000);
      socket.close();
      return mbps;
    },
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const only = new Set((args.get("only") ?? "echo,download,upload").split(","));
for (const [group, variants] of Object.entries(groups)) {
  if (!only.has(group)) continue;
  const results: Record<string, number[]> = {};
  for (const name in variants) results[name] = [];
  for (let r = 0; r < REPS; r++) {
    for (const name in variants) results[name].push(await variants[name]());
  }
  const unit = group === "echo" ? "µs/round trip" : "MB/s";
  const rawMedian = median(results["raw Deno.Conn"]);
  console.log(`${group} (${REPS} runs each, interleaved)`);
  for (const name in variants) {
    const m = median(results[name]);
    // Speed relative to raw: higher is better for both units.
    const ratio = group === "echo" ? rawMedian / m : m / rawMedian;
    console.log(
      `  ${name.padEnd(26)} ${m.toFixed(1).padStart(8)} ${unit}   ${
        ratio.toFixed(2)
      }x raw`,
    );
  }
}
worker.terminate();
