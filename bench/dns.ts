/**
 * DNS lookup throughput, each case measured side by side with raw
 * `Deno.resolveDns` in the same run (the machine is shared, so only ratios
 * measured in one run mean anything). The DNS server is a real dnsmasq on a
 * loopback port, started by the test harness.
 *
 * - `hosts`: 1k tasklets looking up distinct names of a 1k-line hosts file
 *   with `gethostbyname`, against raw `Deno.resolveDns("localhost")` (which
 *   Deno answers without a query: the cheapest raw lookup there is).
 * - `same`: 1k tasklets looking up one DNS name (`gethostbyname`, concurrent
 *   identical queries are shared), against 1k async functions calling
 *   `Deno.resolveDns` for it.
 * - `distinct`: the same with 1k distinct DNS names (nothing to share).
 * - `serial`: one tasklet, one lookup after another (latency overhead).
 *
 * Failed lookups (a burst of 1k raw queries can make datagrams drop; Deno's
 * resolver then waits out its 5 s timeouts) are counted and reported.
 *
 * Run: `deno run -A bench/dns.ts [--reps=5] [--per-task=5]
 * [--only=hosts,same,distinct,serial]`
 *
 * @module
 */
import { configureResolver, gethostbyname, spawn } from "../coio/mod.ts";
import { Dnsmasq } from "../tests/_dnsmasq.ts";

const args = new Map(
  Deno.args.map((arg) => arg.replace(/^--/, "").split("=") as [string, string]),
);
const reps = Number(args.get("reps") ?? 5);
const perTask = Number(args.get("per-task") ?? 5);
const only = new Set(
  (args.get("only") ?? "hosts,same,distinct,serial").split(","),
);
const TASKS = 1000;
const SERIAL = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function ip(i: number, net: number): string {
  return `10.${net}.${i >> 8}.${i & 255}`;
}

const names = (suffix: string) =>
  Array.from({ length: TASKS }, (_, i) => `h${i}.${suffix}`);
const hostsNames = names("hosts.bench");
const dnsNames = names("dns.bench");

// Lookups that failed (timed out) in the current measurement.
let failures = 0;
function countFailure(): void {
  failures++;
}

// Lookups per second of `tasks` concurrent workers doing `count` each.
async function rate(
  tasks: number,
  count: number,
  run: () => Promise<void>,
): Promise<number> {
  const start = performance.now();
  await run();
  return (tasks * count) / ((performance.now() - start) / 1000);
}

function ours(
  tasks: number,
  count: number,
  name: (worker: number) => string,
): Promise<number> {
  return rate(tasks, count, async () => {
    const workers = Array.from(
      { length: tasks },
      (_, w) =>
        spawn(async () => {
          for (let i = 0; i < count; i++) {
            await gethostbyname(name(w)).catch(countFailure);
          }
        }),
    );
    for (const worker of workers) await worker.join();
  });
}

function raw(
  tasks: number,
  count: number,
  name: (worker: number) => string,
  nameServer: { ipAddr: string; port: number },
): Promise<number> {
  return rate(tasks, count, async () => {
    await Promise.all(
      Array.from({ length: tasks }, async (_, w) => {
        for (let i = 0; i < count; i++) {
          await Deno.resolveDns(name(w), "A", { nameServer }).catch(
            countFailure,
          );
        }
      }),
    );
  });
}

const hostsPath = await Deno.makeTempFile({ suffix: ".hosts" });
await Deno.writeTextFile(
  hostsPath,
  hostsNames.map((n, i) => `${ip(i, 1)} ${n}\n`).join(""),
);
const dns = await Dnsmasq.start({
  hostRecords: [["one.dns.bench", "10.9.9.9"]],
  addnHosts: dnsNames.map((n, i) => `${ip(i, 2)} ${n}\n`).join(""),
});
if (dns === undefined) Deno.exit(0);
const previous = configureResolver({
  nameServer: dns.nameServer,
  hostsFile: hostsPath,
  timeout: 5000,
  attempts: 2,
});

type Case = {
  label: string;
  oursLabel: string;
  rawLabel: string;
  ours: () => Promise<number>;
  raw: () => Promise<number>;
};
const cases: Record<string, Case> = {
  hosts: {
    label: `hosts-file hits, ${TASKS} tasklets`,
    oursLabel: "gethostbyname (hosts file)",
    rawLabel: 'Deno.resolveDns("localhost")',
    ours: () => ours(TASKS, perTask, (w) => hostsNames[w]),
    raw: () => raw(TASKS, perTask, () => "localhost", dns.nameServer),
  },
  same: {
    label: `DNS hits, one name, ${TASKS} tasklets`,
    oursLabel: "gethostbyname (DNS)",
    rawLabel: "Deno.resolveDns",
    ours: () => ours(TASKS, perTask, () => "one.dns.bench"),
    raw: () => raw(TASKS, perTask, () => "one.dns.bench", dns.nameServer),
  },
  distinct: {
    label: `DNS hits, ${TASKS} distinct names, ${TASKS} tasklets`,
    oursLabel: "gethostbyname (DNS)",
    rawLabel: "Deno.resolveDns",
    ours: () => ours(TASKS, perTask, (w) => dnsNames[w]),
    raw: () => raw(TASKS, perTask, (w) => dnsNames[w], dns.nameServer),
  },
  serial: {
    label: `DNS hits, 1 tasklet, ${SERIAL} one after another`,
    oursLabel: "gethostbyname (DNS)",
    rawLabel: "Deno.resolveDns",
    ours: () => ours(1, SERIAL, () => "one.dns.bench"),
    raw: () => raw(1, SERIAL, () => "one.dns.bench", dns.nameServer),
  },
};

try {
  console.log(
    `dns: ${reps} reps, ${perTask} lookups per tasklet; medians in lookups/s`,
  );
  for (const [key, c] of Object.entries(cases)) {
    if (!only.has(key)) continue;
    // Warm up both, then alternate so that drift hits both alike.
    await c.ours();
    await c.raw();
    const a: number[] = [];
    const b: number[] = [];
    let failedOurs = 0;
    let failedRaw = 0;
    for (let r = 0; r < reps; r++) {
      failures = 0;
      a.push(await c.ours());
      failedOurs += failures;
      failures = 0;
      b.push(await c.raw());
      failedRaw += failures;
    }
    const ma = median(a);
    const mb = median(b);
    console.log(`\n${c.label}`);
    const failed = (n: number) => n > 0 ? `  (${n} lookups failed)` : "";
    console.log(
      `  ${c.oursLabel.padEnd(34)} ${ma.toFixed(0).padStart(9)}${
        failed(failedOurs)
      }`,
    );
    console.log(
      `  ${c.rawLabel.padEnd(34)} ${mb.toFixed(0).padStart(9)}${
        failed(failedRaw)
      }`,
    );
    console.log(`  ratio ours/raw ${(ma / mb).toFixed(2)}`);
  }
} finally {
  configureResolver(previous);
  await dns.stop();
  await Deno.remove(hostsPath);
}
