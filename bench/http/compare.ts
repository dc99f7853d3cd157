// HTTP load comparison with wrk (Debian package): our serve() against
// Deno.serve, node:http (on Node.js and on Deno) and a raw Deno.listen loop
// (the practical ceiling), all answering the same 13-byte "Hello, World!".
// Each server runs in its own process. All are started (and warmed up)
// first; each round then measures them one after another, keep-alive first,
// then pipelined, so that the servers compared are measured close together
// in time. Ratios are medians over rounds of ours / other in the same round.
//
//   deno run -A bench/http/compare.ts [--duration=10] [--rounds=3]
//       [--connections=64] [--threads=1] [--depth=16] [--only=a,b]
//   deno run -A bench/http/compare.ts --workers   (workers: 1 vs 2, wrk -t2)
//
// Results are printed and written to bench/http/results[_workers].json.

const args = new Map<string, string>();
for (const arg of Deno.args) {
  const [key, value = "true"] = arg.replace(/^--/, "").split("=");
  args.set(key, value);
}
const duration = Number(args.get("duration") ?? 10);
const rounds = Number(args.get("rounds") ?? 3);
const connections = Number(args.get("connections") ?? 64);
const depth = Number(args.get("depth") ?? 16);
const workersMode = args.has("workers");
const threads = Number(args.get("threads") ?? (workersMode ? 2 : 1));
const only = args.get("only")?.split(",");

const here = new URL(".", import.meta.url).pathname;
const deno = Deno.execPath();

interface Server {
  name: string;
  command: (port: number) => string[];
}

function hasCommand(name: string): boolean {
  try {
    const { code } = new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return code === 0;
  } catch {
    return false;
  }
}

const ours = (workers: number) => (port: number) => [
  deno,
  "run",
  "-A",
  `${here}hello_syncless.ts`,
  `${port}`,
  `${workers}`,
];

const allServers: Server[] = workersMode
  ? [
    { name: "serve() workers: 2", command: ours(2) },
    { name: "serve() workers: 1", command: ours(1) },
  ]
  : [
    { name: "syncless serve()", command: ours(1) },
    {
      name: "Deno.serve",
      command: (
        port,
      ) => [deno, "run", "-A", `${here}hello_deno_serve.ts`, `${port}`],
    },
    ...(hasCommand("node")
      ? [{
        name: "node:http (Node.js)",
        command: (
          port: number,
        ) => ["node", `${here}hello_node_http.mjs`, `${port}`],
      }]
      : []),
    {
      name: "node:http (Deno)",
      command: (
        port,
      ) => [deno, "run", "-A", `${here}hello_node_http.mjs`, `${port}`],
    },
    {
      name: "raw Deno.listen loop",
      command: (port) => [deno, "run", "-A", `${here}hello_raw.ts`, `${port}`],
    },
  ];
const servers = allServers.filter((s, i) =>
  i === 0 || only === undefined || only.some((o) => s.name.includes(o))
);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`server on ${port} did not start`);
}

async function wrk(
  port: number,
  seconds: number,
  pipelined: boolean,
): Promise<number> {
  const wrkArgs = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`];
  if (pipelined) wrkArgs.push("-s", `${here}pipeline.lua`);
  wrkArgs.push(`http://127.0.0.1:${port}/`);
  if (pipelined) wrkArgs.push("--", String(depth));
  const { stdout, code } = await new Deno.Command("wrk", {
    args: wrkArgs,
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) throw new Error(`wrk failed: ${text}`);
  if (/Non-2xx/.test(text)) throw new Error(`wrk saw errors: ${text}`);
  const match = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (match === null) throw new Error(`no rate in wrk output: ${text}`);
  return Number(match[1]);
}

interface Running {
  server: Server;
  port: number;
  child: Deno.ChildProcess;
}

async function start(server: Server): Promise<Running> {
  const port = freePort();
  const [cmd, ...cmdArgs] = server.command(port);
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitForPort(port);
  await wrk(port, 1, false); // warm-up (JIT)
  await wrk(port, 1, true);
  return { server, port, child };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

if (!hasCommand("wrk")) {
  console.log("SKIP: wrk is not installed (apt-get install wrk)");
  Deno.exit(0);
}

type Samples = { keepAlive: number[]; pipelined: number[] };
const samples = new Map<string, Samples>();
for (const server of servers) {
  samples.set(server.name, { keepAlive: [], pipelined: [] });
}
const load = () =>
  Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(
  `wrk -t${threads} -c${connections} -d${duration}s, pipelined depth ${depth}, ${rounds} rounds; load ${load()}`,
);
const running: Running[] = [];
try {
  for (const server of servers) running.push(await start(server));
  for (let round = 1; round <= rounds; round++) {
    // Each round starts with another server, so that none is always first.
    const order = running.map((_, i) =>
      running[(i + round - 1) % running.length]
    );
    for (const pipelined of [false, true]) {
      for (const r of order) {
        const rate = await wrk(r.port, duration, pipelined);
        const s = samples.get(r.server.name)!;
        (pipelined ? s.pipelined : s.keepAlive).push(rate);
        console.log(
          `round ${round} ${
            (pipelined ? "pipelined" : "keep-alive").padEnd(10)
          } ${r.server.name.padEnd(24)} ${rate.toFixed(0).padStart(9)} rps`,
        );
      }
    }
  }
} finally {
  for (const r of running) {
    r.child.kill("SIGTERM");
    await r.child.status;
  }
}

const ourSamples = samples.get(servers[0].name)!;
/** Median over rounds of ours / other, each pair measured in the same round. */
function ratio(other: Samples, key: keyof Samples): number {
  return median(ourSamples[key].map((v, i) => v / other[key][i]));
}
const summary: Record<string, unknown> = {};
console.log(`\nmedians; ratio = ${servers[0].name} / other; load ${load()}`);
console.log(
  "| server | keep-alive rps | pipelined rps | keep-alive ratio | pipelined ratio |",
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, s] of samples) {
  const row = {
    keepAlive: median(s.keepAlive),
    pipelined: median(s.pipelined),
    keepAliveRatio: ratio(s, "keepAlive"),
    pipelinedRatio: ratio(s, "pipelined"),
  };
  summary[name] = row;
  console.log(
    `| ${name} | ${row.keepAlive.toFixed(0)} | ${row.pipelined.toFixed(0)} | ${
      row.keepAliveRatio.toFixed(2)
    } | ${row.pipelinedRatio.toFixed(2)} |`,
  );
}
Deno.writeTextFileSync(
  `${here}results${workersMode ? "_workers" : ""}.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      command: `deno run -A bench/http/compare.ts ${Deno.args.join(" ")}`
        .trim(),
      wrk: { threads, connections, duration, depth },
      load: load(),
      samples: Object.fromEntries(samples),
      // { server: { keepAlive, pipelined } } (read by bench/_http_chart.ts).
      medians: Object.fromEntries(
        [...samples].map(([name, s]) => [name, {
          keepAlive: median(s.keepAlive),
          pipelined: median(s.pipelined),
        }]),
      ),
      summary,
    },
    null,
    2,
  ) + "\n",
);
