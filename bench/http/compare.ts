// HTTP load comparison with wrk (Debian package): our serve() against
// Deno.serve, node:http (on Node.js and on Deno) and a raw Deno.listen loop
// (the practical ceiling), all answering the same 13-byte "Hello, World!".
// Each server runs in its own process; rounds alternate the servers so that
// the machine's noise spreads evenly, and the medians are compared.
//
//   deno run -A bench/http/compare.ts [--duration=10] [--rounds=3]
//       [--connections=64] [--threads=1] [--depth=16] [--only=a,b]
//   deno run -A bench/http/compare.ts --workers   (workers: 1 vs 2, wrk -t2)
//
// Results are printed and written to bench/http/results.json.

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

const allServers: Server[] = workersMode
  ? [
    {
      name: "serve() workers: 1",
      command: (
        port,
      ) => [deno, "run", "-A", `${here}hello_syncless.ts`, `${port}`, "1"],
    },
    {
      name: "serve() workers: 2",
      command: (
        port,
      ) => [deno, "run", "-A", `${here}hello_syncless.ts`, `${port}`, "2"],
    },
  ]
  : [
    {
      name: "syncless serve()",
      command: (
        port,
      ) => [deno, "run", "-A", `${here}hello_syncless.ts`, `${port}`],
    },
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
const servers = allServers.filter((s) =>
  only === undefined || only.some((o) => s.name.includes(o))
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

async function measure(
  server: Server,
): Promise<{ keepAlive: number; pipelined: number }> {
  const port = freePort();
  const [cmd, ...cmdArgs] = server.command(port);
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  try {
    await waitForPort(port);
    await wrk(port, 1, false); // warm-up (JIT)
    const keepAlive = await wrk(port, duration, false);
    const pipelined = await wrk(port, duration, true);
    return { keepAlive, pipelined };
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
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

const samples = new Map<string, { keepAlive: number[]; pipelined: number[] }>();
for (const server of servers) {
  samples.set(server.name, { keepAlive: [], pipelined: [] });
}
const load = () =>
  Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(
  `wrk -t${threads} -c${connections} -d${duration}s, pipelined depth ${depth}, ${rounds} rounds; load ${load()}`,
);
for (let round = 1; round <= rounds; round++) {
  for (const server of servers) {
    const result = await measure(server);
    samples.get(server.name)!.keepAlive.push(result.keepAlive);
    samples.get(server.name)!.pipelined.push(result.pipelined);
    console.log(
      `round ${round} ${server.name.padEnd(24)} keep-alive ${
        result.keepAlive.toFixed(0).padStart(9)
      } rps  pipelined ${result.pipelined.toFixed(0).padStart(9)} rps`,
    );
  }
}

const medians = new Map<string, { keepAlive: number; pipelined: number }>();
for (const [name, s] of samples) {
  medians.set(name, {
    keepAlive: median(s.keepAlive),
    pipelined: median(s.pipelined),
  });
}
const ours = medians.get(servers[0].name)!;
console.log(`\nmedians (ratio = ${servers[0].name} / other), load ${load()}`);
console.log(
  "| server | keep-alive rps | pipelined rps | keep-alive ratio | pipelined ratio |",
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, m] of medians) {
  console.log(
    `| ${name} | ${m.keepAlive.toFixed(0)} | ${m.pipelined.toFixed(0)} | ${
      (ours.keepAlive / m.keepAlive).toFixed(2)
    } | ${(ours.pipelined / m.pipelined).toFixed(2)} |`,
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
      medians: Object.fromEntries(medians),
    },
    null,
    2,
  ) + "\n",
);
