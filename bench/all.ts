/**
 * Runs every benchmark in bench/ one after another and collects what they
 * print into one report, then redraws the HTTP chart (docs/http_rps.svg)
 * from the HTTP comparison's figures:
 *
 * - `bench/<name>.ts` scripts (and `bench/http/*.ts`) run with `deno run -A`
 *   plus the flags their own header documents (e.g. `--v8-flags=--expose-gc`);
 * - `bench/http/*.sh` scripts run with `bash`;
 * - `bench/*_bench.ts` files run with `deno bench -A`.
 *
 * Files starting with `_` are helpers, not benchmarks. A benchmark that fails
 * is reported and the others still run. The machine is shared: ratios
 * measured within one benchmark's run are what counts, not absolute figures.
 *
 * Run: `deno task bench:all [--only=dns,http] [--out=docs/bench_output.md]
 * [--chart-from=FILE] [--list]`
 *
 * `--chart-from=FILE` only redraws the chart from saved HTTP output.
 *
 * @module
 */
import { parseHttpFigures, renderHttpRpsChart } from "./_http_chart.ts";

const ROOT = new URL("../", import.meta.url);
const args = new Map(
  Deno.args.map((a) => {
    const [key, ...value] = a.replace(/^--/, "").split("=");
    return [key, value.join("=")] as [string, string];
  }),
);
const only = args.has("only")
  ? new Set(args.get("only")!.split(","))
  : undefined;
const outPath = args.get("out") || "docs/bench_output.md";
const chartPath = "docs/http_rps.svg";

interface Bench {
  /** Short name: the file name without `.ts`/`_bench.ts` (`http/compare`). */
  name: string;
  program: string;
  args: string[];
}

/** The `deno run` flags a script's header documents for itself. */
async function documentedFlags(path: string): Promise<string[]> {
  const head = (await Deno.readTextFile(new URL(path, ROOT))).slice(0, 4000);
  const file = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`deno run (.*?)\\s*${file}`).exec(head);
  if (match === null) return ["-A"];
  const flags = match[1].split(/\s+/).filter((f) => f.startsWith("-"));
  return flags.includes("-A") ? flags : ["-A", ...flags];
}

async function findBenches(): Promise<Bench[]> {
  const benches: Bench[] = [];
  for (const dir of ["bench", "bench/http"]) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(new URL(`${dir}/`, ROOT)));
    } catch {
      continue; // bench/http may not exist
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      const prefix = dir === "bench" ? "" : "http/";
      if (
        !entry.isFile || entry.name.startsWith("_") || path === "bench/all.ts"
      ) continue;
      if (entry.name.endsWith("_bench.ts")) {
        benches.push({
          name: prefix + entry.name.slice(0, -9),
          program: Deno.execPath(),
          args: ["bench", "-A", path],
        });
      } else if (entry.name.endsWith(".ts")) {
        const flags = await documentedFlags(path);
        benches.push({
          name: prefix + entry.name.slice(0, -3),
          program: Deno.execPath(),
          args: ["run", ...flags, path],
        });
      } else if (entry.name.endsWith(".sh")) {
        benches.push({
          name: prefix + entry.name.slice(0, -3),
          program: "bash",
          args: [path],
        });
      }
    }
  }
  return benches.filter((b) =>
    only === undefined || only.has(b.name) || only.has(b.name.split("/")[0])
  );
}

async function machine(): Promise<string> {
  const read = (path: string) => Deno.readTextFile(path).catch(() => "");
  const cpu = /model name\s*:\s*(.*)/.exec(await read("/proc/cpuinfo"))?.[1] ??
    "unknown CPU";
  const load = (await read("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}, ` +
    `Deno ${Deno.version.deno}, load average before the run ${
      load || "unknown"
    }`;
}

function writeChart(httpOutput: string, subtitle: string): number {
  const figures = parseHttpFigures(httpOutput);
  Deno.writeTextFileSync(
    new URL(chartPath, ROOT),
    renderHttpRpsChart(figures, { subtitle }),
  );
  return figures.length;
}

if (args.has("chart-from")) {
  const n = writeChart(await Deno.readTextFile(args.get("chart-from")!), "");
  console.log(`${chartPath}: ${n} figures`);
  Deno.exit(n > 0 ? 0 : 1);
}

const benches = await findBenches();
if (args.has("list")) {
  for (const b of benches) {
    console.log(
      `${b.name}: ${b.program === "bash" ? "bash" : "deno"} ${
        b.args.join(" ")
      }`,
    );
  }
  Deno.exit(0);
}

const machineInfo = await machine();
const report = [
  "# Benchmark output",
  "",
  `Produced by \`deno task bench:all\` on ${new Date().toISOString()}.`,
  `Machine: ${machineInfo}.`,
  "The machine is shared: compare figures measured in the same run only.",
  "",
];
let httpOutput = "";
let failures = 0;
for (const bench of benches) {
  const command = `${bench.program === "bash" ? "bash" : "deno"} ${
    bench.args.join(" ")
  }`;
  console.log(`\n=== ${bench.name}: ${command}`);
  const started = performance.now();
  const child = new Deno.Command(bench.program, {
    args: bench.args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Show the output as it comes, and keep it for the report.
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    sink: typeof Deno.stdout,
  ) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (!status.success) failures++;
  if (bench.name.startsWith("http/")) httpOutput += output;
  report.push(
    `## ${bench.name}`,
    "",
    `Command: \`${command}\` (exit ${status.code}, ${seconds} s)`,
    "",
    "```",
    output.trimEnd(),
    "```",
    "",
  );
}

// Redraw the chart only from a run that measured HTTP, never from nothing.
const figures = parseHttpFigures(httpOutput).length > 0
  ? writeChart(
    httpOutput,
    `${
      new Date().toISOString().slice(0, 10)
    }, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}; see docs/BENCHMARKS.md`,
  )
  : 0;
report.push(
  figures > 0
    ? `Chart: [http_rps.svg](http_rps.svg) (${figures} figures from the HTTP comparison).`
    : "No HTTP figures in this run: docs/http_rps.svg was left as it was.",
  "",
);
await Deno.writeTextFile(new URL(outPath, ROOT), report.join("\n"));
console.log(
  `\n${benches.length} benchmarks, ${failures} failed; report in ${outPath}` +
    (figures > 0 ? `; ${chartPath} redrawn (${figures} figures)` : ""),
);
Deno.exit(failures === 0 ? 0 : 1);
