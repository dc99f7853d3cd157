/**
 * WebSocket echo throughput: our server (`serve` + `upgradeWebSocket`)
 * against `Deno.upgradeWebSocket` on `Deno.serve`, side by side in one run
 * (the machine is shared: only ratios measured in the same run count).
 *
 * The server runs in this process; the client runs in a separate process
 * (`--role=client`), the same for both servers: Deno's built-in `WebSocket`
 * (no compression offered, so neither server compresses). It opens
 * `--conns` connections; each sends a `--size`-byte text message, waits for
 * its echo and sends the next, for `--seconds` after a short warm-up.
 * Reports messages echoed per second (both directions count as one), and
 * the server's CPU time per message (user + system time of this process,
 * which only serves while the client runs, over every message echoed,
 * warm-up included): less sensitive to the machine's load than the rate;
 * and the same over the counted window only (the client marks its start
 * and end on stdout), which leaves start-up, warm-up and closing out.
 *
 * With `--floor`, a third server runs too: a bare echo loop on the core
 * read and write ops (handshake by hand, then one read and one write per
 * message, frames unmasked in place, no WebSocket protocol handling): the
 * least that a JavaScript server on Deno's ops can spend per message.
 *
 * Run: `deno run -A bench/websocket.ts [--reps=5] [--seconds=3] [--conns=64] [--size=64] [--floor]`
 *
 * @module
 */
import process from "node:process";
import { serve, upgradeWebSocket } from "../wsgi/mod.ts";

const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const FLOOR = args.has("floor");
const REPS = Number(args.get("reps") ?? 5);
const SECONDS = Number(args.get("seconds") ?? 3);
const CONNS = Number(args.get("conns") ?? 64);
const SIZE = Number(args.get("size") ?? 64);
const WARMUP_MS = 500;
// What the client prints when its counted window starts and ends.
const WINDOW_START = "window-start";
const WINDOW_END = "window-end";

if (args.get("role") === "client") {
  await runClient(Number(args.get("port")));
  Deno.exit(0);
}

/** Opens the connections, echoes until the deadline, prints the count. */
async function runClient(port: number): Promise<void> {
  const message = "x".repeat(SIZE);
  let counting = false;
  let count = 0;
  let total = 0;
  let stop = false;
  const sockets: WebSocket[] = [];
  await Promise.all(
    Array.from({ length: CONNS }, () =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        sockets.push(ws);
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("connect failed"));
        ws.onmessage = (event) => {
          if (event.data !== message) throw new Error("bad echo");
          total++;
          if (counting) count++;
          if (!stop) ws.send(message);
        };
      })),
  );
  for (const ws of sockets) ws.send(message);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  console.log(WINDOW_START);
  counting = true;
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  counting = false;
  console.log(WINDOW_END);
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(sockets.map((ws) =>
    new Promise((resolve) => {
      ws.onclose = resolve;
      ws.close();
    })
  ));
  console.log(JSON.stringify({ rate: count / elapsed, total }));
}

type Server = { port: number; stop(): Promise<void> };

function startOurs(): Server {
  const server = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ);
    for await (const message of ws) await ws.send(message);
  }, { hostname: "127.0.0.1", port: 0 });
  return { port: server.addr.port!, stop: () => server.shutdown() };
}

function startDeno(): Server {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    },
  );
  return { port: server.addr.port, stop: () => server.shutdown() };
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const ascii = new TextEncoder();

/** The floor: one core read and one core write per message, nothing else. */
function startFloor(): Server {
  const internal = (Deno as unknown as Record<symbol, unknown>)[
    (Deno as unknown as { internal: symbol }).internal
  ] as {
    core: {
      read(rid: number, buf: Uint8Array): Promise<number>;
      write(rid: number, buf: Uint8Array): Promise<number>;
      internalRidSymbol: symbol;
    };
  };
  const core = internal.core;
  async function echo(conn: Deno.TcpConn): Promise<void> {
    conn.setNoDelay(true);
    const rid = (conn as unknown as Record<symbol, number>)[
      core.internalRidSymbol
    ];
    const buf = new Uint8Array(16384);
    let n = 0;
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const got = await conn.read(buf.subarray(n));
      if (got === null) return;
      n += got;
      head = new TextDecoder().decode(buf.subarray(0, n));
    }
    const key = /Sec-WebSocket-Key: *(.*)\r\n/i.exec(head)![1];
    const digest = await crypto.subtle.digest(
      "SHA-1",
      ascii.encode(key + GUID),
    );
    const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
    await conn.write(ascii.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
        `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    ));
    const out = new Uint8Array(16384);
    let end = 0; // bytes of an incomplete frame kept at the front of buf
    for (;;) {
      const got = await core.read(rid, end === 0 ? buf : buf.subarray(end));
      if (got === 0) return;
      end += got;
      // Whole masked frames with 7-bit lengths (what the client sends).
      let i = 0;
      let o = 0;
      while (end - i >= 6 && end - i >= 6 + (buf[i + 1] & 0x7f)) {
        const length = buf[i + 1] & 0x7f;
        if ((buf[i] & 0x0f) === 0x8) return; // close: just drop
        out[o++] = buf[i];
        out[o++] = length;
        const key = i + 2;
        for (let j = 0; j < length; j++) {
          out[o++] = buf[key + 4 + j] ^ buf[key + (j & 3)];
        }
        i = key + 4 + length;
      }
      buf.copyWithin(0, i, end);
      end -= i;
      if (o > 0) await core.write(rid, out.subarray(0, o));
    }
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      echo(conn).catch(() => {}).finally(() => {
        if (conns.delete(conn)) conn.close();
      });
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    stop: () => {
      listener.close();
      for (const conn of conns) conn.close();
      conns.clear();
      return Promise.resolve();
    },
  };
}

/**
 * Messages/s, and the server's CPU time (this process) per message in µs:
 * over the whole run (`cpu`) and over the counted window only (`steady`).
 */
async function measure(
  start: () => Server,
): Promise<{ rate: number; cpu: number; steady: number }> {
  const cpuBefore = process.cpuUsage();
  const server = start();
  try {
    const client = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--role=client",
        `--port=${server.port}`,
        `--seconds=${SECONDS}`,
        `--conns=${CONNS}`,
        `--size=${SIZE}`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // The window's CPU time is read as soon as the client's marks arrive.
    let output = "";
    let windowStart: NodeJS.CpuUsage | undefined;
    let windowUsed: NodeJS.CpuUsage | undefined;
    const lines = client.stdout.pipeThrough(new TextDecoderStream());
    for await (const chunk of lines) {
      output += chunk;
      if (windowStart === undefined && output.includes(WINDOW_START)) {
        windowStart = process.cpuUsage();
      }
      if (windowUsed === undefined && output.includes(WINDOW_END)) {
        windowUsed = process.cpuUsage(windowStart);
      }
    }
    if (!(await client.status).success || windowUsed === undefined) {
      throw new Error("client failed");
    }
    const { rate, total } = JSON.parse(output.slice(output.indexOf("{")));
    await server.stop();
    const used = process.cpuUsage(cpuBefore);
    return {
      rate,
      cpu: (used.user + used.system) / total,
      steady: (windowUsed.user + windowUsed.system) / (rate * SECONDS),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

const engines: Record<string, () => Server> = {
  "syncless serve + upgradeWebSocket": startOurs,
  "Deno.serve + Deno.upgradeWebSocket": startDeno,
};
if (FLOOR) engines["floor: core read/write echo loop"] = startFloor;
const results: Record<string, number[]> = {};
const cpus: Record<string, number[]> = {};
const steadies: Record<string, number[]> = {};
for (let rep = 0; rep < REPS; rep++) {
  // Rotate the order so no engine always runs first.
  const names = Object.keys(engines);
  for (let i = 0; i < rep % names.length; i++) names.push(names.shift()!);
  for (const name of names) {
    const { rate, cpu, steady } = await measure(engines[name]);
    (results[name] ??= []).push(rate);
    (cpus[name] ??= []).push(cpu);
    (steadies[name] ??= []).push(steady);
    console.log(
      `rep ${rep + 1} ${name}: ${Math.round(rate)} msg/s, ${
        cpu.toFixed(1)
      } µs server CPU/msg (${steady.toFixed(1)} in the window)`,
    );
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const [ours, deno] = Object.keys(engines).map((name) => median(results[name]));
console.log(
  `\n${CONNS} connections, ${SIZE}-byte text, ${SECONDS} s x ${REPS} reps (medians)`,
);
console.log(
  "| server | messages/s | server CPU µs/message | in the window |\n" +
    "| --- | ---: | ---: | ---: |",
);
for (const name of Object.keys(engines)) {
  console.log(
    `| ${name} | ${Math.round(median(results[name]))} | ${
      median(cpus[name]).toFixed(1)
    } | ${median(steadies[name]).toFixed(1)} |`,
  );
}
const [oursCpu, denoCpu] = Object.keys(engines).map((n) => median(cpus[n]));
console.log(
  `ratio ours / Deno.serve, messages/s: ${(ours / deno).toFixed(2)}x`,
);
console.log(
  `ratio ours / Deno.serve, CPU per message: ${
    (oursCpu / denoCpu).toFixed(2)
  }x`,
);
const [oursSteady, denoSteady] = Object.keys(engines).map((n) =>
  median(steadies[n])
);
console.log(
  `ratio ours / Deno.serve, CPU per message in the window: ${
    (oursSteady / denoSteady).toFixed(2)
  }x`,
);
