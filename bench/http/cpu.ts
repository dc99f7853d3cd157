// CPU time per request, in process, over an in-memory connection (no
// sockets, no kernel): where the time of our engine goes, next to a raw read
// and write loop and an NbFile loop that only moves bytes. Each case runs in
// its own process; the median of the runs is printed.
//
//   deno run -A bench/http/cpu.ts [--runs=5] [--requests=400000]
//
// (Internal: the case to run is passed as `--case=NAME` to a child.)

import process from "node:process";
import { setImmediate } from "node:timers";
import { NbSocket } from "../../coio/mod.ts";
import { spawnNow } from "../../coio/tasklet.ts";
import { Connection, type ServerState } from "../../wsgi/_connection.ts";

const args = new Map<string, string>();
for (const arg of Deno.args) {
  const [key, value = "true"] = arg.replace(/^--/, "").split("=");
  args.set(key, value);
}
const requests = Number(args.get("requests") ?? 400000);

const REQUEST =
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n";
const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nServer: syncless\r\nDate: Thu, 26 Nov 2026 04:06:31 GMT\r\n" +
    "Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!",
);

/**
 * A connection whose peer sends `perRead` requests per read, `total` in all.
 * Like a real client (wrk, with or without pipelining), it sends the next
 * batch only once the server wrote since the last one, and the batch comes
 * in a later event loop turn.
 */
function fakeConn(perRead: number, total: number): Deno.Conn {
  const data = new TextEncoder().encode(REQUEST.repeat(perRead));
  let sent = 0;
  let offset = 0;
  let answered = true;
  let wakeClient: (() => void) | undefined;
  return {
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 8080 },
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 5555 },
    async read(p: Uint8Array): Promise<number | null> {
      await null;
      if (offset === 0) {
        if (sent >= total) return null;
        // The batch arrives in a later event loop turn, as from a socket.
        await new Promise<void>((wake) => {
          if (answered) setImmediate(wake);
          else wakeClient = wake;
        });
        answered = false;
        sent += perRead;
      }
      const n = Math.min(p.length, data.length - offset);
      p.set(data.subarray(offset, offset + n));
      offset = (offset + n) % data.length;
      return n;
    },
    write(p: Uint8Array): Promise<number> {
      answered = true;
      if (wakeClient !== undefined) setImmediate(wakeClient);
      wakeClient = undefined;
      return Promise.resolve(p.length);
    },
    close() {},
    closeWrite: () => Promise.resolve(),
  } as unknown as Deno.Conn;
}

function state(): ServerState {
  return {
    app: (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return "Hello, World!";
    },
    pipelineConcurrency: 1,
    heads: [],
    limits: {
      maxRequestLineSize: 8192,
      maxHeaderSize: 32768,
      maxHeaderCount: 100,
      maxBodySize: Infinity,
    },
    bodyLimits: {
      bodyTimeout: 30000,
      maxBodySize: Infinity,
      maxHeaderSize: 32768,
      maxHeaderCount: 100,
    },
    headersTimeout: 10000,
    keepAliveTimeout: 5000,
    now: Date.now(),
    tick: 1000,
    writeTimeout: 30000,
    secure: false,
    scheme: "http",
    serverName: "127.0.0.1",
    serverPort: "8080",
    multiprocess: false,
    closing: false,
    shutdownSignal: new AbortController().signal,
    accessLog: undefined,
    reportError: (error) => console.error(error),
    // As the server does: a tasklet per busy spell of the connection.
    startServing(connection) {
      const tasklet = spawnNow(undefined, () => connection.serve());
      if (tasklet.alive) connection.tasklet = tasklet;
    },
  };
}

/** Serves one fake connection as the server would, until it ends. */
function serveConnection(conn: Deno.Conn): Promise<void> {
  return new Promise((resolve) => {
    const server = state();
    server.startServing(
      new Connection(new NbSocket(conn), server, () => resolve()),
    );
  });
}

const cases: Record<string, () => Promise<void>> = {
  async "raw loop (read, write)"() {
    const conn = fakeConn(1, requests);
    const buffer = new Uint8Array(65536);
    while (await conn.read(buffer) !== null) await conn.write(RESPONSE);
  },
  async "NbFile loop (readMore, discard, write, flush)"() {
    const socket = new NbSocket(fakeConn(1, requests));
    const file = socket.makefile({ writeBufferLimit: 65536 });
    while (await file.readMore(1) > 0) {
      await file.discard(file.readBufferLength);
      await file.write(RESPONSE);
      await file.flush();
    }
  },
  async "serve() engine, keep-alive (1 request per read)"() {
    await serveConnection(fakeConn(1, requests));
  },
  async "serve() engine, pipelined (16 requests per read)"() {
    await serveConnection(fakeConn(16, requests));
  },
};

const only = args.get("case");
if (only !== undefined) {
  const start = process.cpuUsage();
  await cases[only]();
  const used = process.cpuUsage(start);
  console.log(((used.user + used.system) / requests).toFixed(3)); // µs per request
} else {
  const runs = Number(args.get("runs") ?? 5);
  console.log(
    `CPU µs per request, median of ${runs} runs of ${requests} requests`,
  );
  for (const name of Object.keys(cases)) {
    const values: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          `--case=${name}`,
          `--requests=${requests}`,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      values.push(Number(new TextDecoder().decode(stdout).trim()));
    }
    values.sort((a, b) => a - b);
    console.log(`| ${name} | ${values[values.length >> 1].toFixed(2)} |`);
  }
}
