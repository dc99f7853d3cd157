// Memory per idle keep-alive connection: each server (its own process)
// answers one request on each of N connections, which then stay open and
// idle; the server's resident set size (VmRSS) is read before and after.
//
//   deno run -A bench/http/memory.ts [--connections=5000] [--rounds=3]

const args = new Map<string, string>();
for (const arg of Deno.args) {
  const [key, value = "true"] = arg.replace(/^--/, "").split("=");
  args.set(key, value);
}
const count = Number(args.get("connections") ?? 5000);
const rounds = Number(args.get("rounds") ?? 3);
const here = new URL(".", import.meta.url).pathname;
const deno = Deno.execPath();

const servers = [
  { name: "syncless serve()", script: "hello_syncless.ts" },
  { name: "Deno.serve", script: "hello_deno_serve.ts" },
];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const request = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
);

/** Connects, sends one request and reads its (small) response; the connection stays open. */
async function openIdle(port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(request);
  const buffer = new Uint8Array(1024);
  let seen = "";
  while (!seen.includes("Hello, World!")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed early");
    seen += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return conn;
}

async function measure(script: string): Promise<number> {
  const port = freePort();
  const child = new Deno.Command(deno, {
    args: ["run", "-A", `${here}${script}`, `${port}`],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 400; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    // Warm up: the code paths run, then the connections close.
    for (let i = 0; i < 200; i++) (await openIdle(port)).close();
    await new Promise((r) => setTimeout(r, 1000));
    const before = rss(child.pid);
    for (let i = 0; i < count; i += 250) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(250, count - i) }, () => openIdle(port)),
      );
      conns.push(...batch);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = rss(child.pid);
    return (after - before) / count;
  } finally {
    for (const conn of conns) conn.close();
    child.kill("SIGTERM");
    await child.status;
  }
}

const results = new Map<string, number[]>();
for (let round = 1; round <= rounds; round++) {
  for (const server of servers) {
    const perConnection = await measure(server.script);
    (results.get(server.name) ?? results.set(server.name, []).get(server.name)!)
      .push(perConnection);
    console.log(
      `round ${round} ${server.name.padEnd(18)} ${
        (perConnection / 1024).toFixed(1)
      } KiB per idle connection`,
    );
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`\nmedians with ${count} idle keep-alive connections:`);
for (const [name, values] of results) {
  console.log(`| ${name} | ${(median(values) / 1024).toFixed(1)} KiB |`);
}
