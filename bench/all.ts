/**
 * Runs every benchmark in bench/ one after another, collects what they print
 * into one report, and redraws the HTTP chart (docs/http_rps.svg) from the
 * HTTP comparison's medians. What runs is what each script documents:
 *
 * - every `deno run ... bench/<path>.ts [--flag] [--optional=...]` line in a
 *   script's leading comment is one run, with the `deno run` flags it names
 *   (e.g. `--v8-flags=--expose-gc`) and its leading `--flags` (e.g.
 *   `compare.ts --workers`); optional `[...]` arguments are left to their
 *   defaults, and a line that needs a value (`hello_raw.ts PORT`) is a helper,
 *   not a benchmark;
 * - a `bench/*.ts` script that documents no command runs as `deno run -A`;
 * - `bench/*_bench.ts` files run with `deno bench -A`.
 *
 * Files starting with `_` are helpers. A benchmark that fails is reported and
 * the others still run. The machine is shared: ratios measured within one
 * benchmark's run are what counts, not absolute figures.
 *
 * Run: `deno task bench:all [--only=dns,http] [--out=docs/bench_output.md]
 * [--chart-from=FILE] [--list]`
 *
 * `--chart-from=FILE` only redraws the chart, from a saved `results.json` of
 * bench/http/compare.ts or its printed output.
 *
 * @module
 */
import {
  figuresFromResults,
  type HttpFigure,
  parseHttpFigures,
  renderHttpRpsChart,
} from "./_http_chart.ts";

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
const resultsPath = "bench/http/results.json";

interface Bench {
  /** `http/compare`, `http/compare --workers`, `scheduler`... */
  name: string;
  program: string;
  args: string[];
}

/** The leading comment block of a script (its documentation). */
async function header(path: string): Promise<string[]> {
  const lines = (await Deno.readTextFile(new URL(path, ROOT))).split("\n");
  const end = lines.findIndex((l) => !/^\s*(\/\/|\/\*\*|\*|$)/.test(l));
  return lines.slice(0, end < 0 ? lines.length : end);
}

/** Argument lists of the runnable `deno run` commands a script documents. */
async function documentedRuns(path: string): Promise<string[][]> {
  const runs: string[][] = [];
  const file = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`deno run ((?:-\\S+\\s+)*)${file}(.*)$`);
  for (const line of await header(path)) {
    const match = pattern.exec(line);
    if (match === null) continue;
    const flags = match[1].trim().split(/\s+/).filter((f) => f !== "");
    const rest = match[2].split("`")[0].replace(/\[[^\]]*\]?/g, " ");
    const words = rest.trim().split(/\s+/).filter((w) => w !== "");
    if (words.some((w) => /^[A-Z][A-Z0-9_]*\b/.test(w))) continue; // PORT...
    const own: string[] = [];
    for (const word of words) {
      if (!word.startsWith("--")) break;
      own.push(word);
    }
    const run = [
      ...(flags.includes("-A") ? flags : ["-A", ...flags]),
      path,
      ...own,
    ];
    if (!runs.some((r) => r.join(" ") === run.join(" "))) runs.push(run);
  }
  return runs;
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
    const prefix = dir === "bench" ? "" : "http/";
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      if (
        !entry.isFile || entry.name.startsWith("_") || path === "bench/all.ts"
      ) {
        continue;
      }
      if (entry.name.endsWith("_bench.ts")) {
        const name = prefix + entry.name.slice(0, -"_bench.ts".length);
        benches.push({
          name,
          program: Deno.execPath(),
          args: ["bench", "-A", path],
        });
      } else if (entry.name.endsWith(".ts")) {
        let runs = await documentedRuns(path);
        if (runs.length === 0 && dir === "bench") runs = [["-A", path]];
        for (const run of runs) {
          const extra = run.slice(run.indexOf(path) + 1).join(" ");
          const name = prefix + entry.name.slice(0, -3) +
            (extra ? ` ${extra}` : "");
          benches.push({
            name,
            program: Deno.execPath(),
            args: ["run", ...run],
          });
        }
      }
    }
  }
  return benches.filter((b) => {
    const base = b.name.split(" ")[0];
    return only === undefined || only.has(base) || only.has(base.split("/")[0]);
  });
}

async function machine(): Promise<string> {
  const read = (path: string) => Deno.readTextFile(path).catch(() => "");
  const cpu = /model name\s*:\s*(.*)/.exec(await read("/proc/cpuinfo"))?.[1] ??
    "unknown CPU";
  const load = (await read("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ` +
    `${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}, ` +
    `load average before the run ${load || "unknown"}`;
}

/** Figures from a results.json text or from printed output. */
function figuresFrom(text: string): HttpFigure[] {
  try {
    return figuresFromResults(JSON.parse(text));
  } catch {
    return parseHttpFigures(text);
  }
}

function writeChart(figures: HttpFigure[]): void {
  const subtitle = `bench/http/compare.ts (wrk, medians), ` +
    `${new Date().toISOString().slice(0, 10)}, ` +
    `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
  Deno.writeTextFileSync(
    new URL(chartPath, ROOT),
    renderHttpRpsChart(figures, { subtitle }),
  );
}

if (args.has("chart-from")) {
  const figures = figuresFrom(await Deno.readTextFile(args.get("chart-from")!));
  if (figures.length > 0) writeChart(figures);
  console.log(`${chartPath}: ${figures.length} figures`);
  Deno.exit(figures.length > 0 ? 0 : 1);
}

const benches = await findBenches();
if (args.has("list")) {
  for (const b of benches) {
    console.log(`${b.name}: deno ${b.args.join(" ")}`);
  }
  Deno.exit(0);
}

const started = new Date();
const machineInfo = await machine();
const report = [
  "# Benchmark output",
  "",
  `Produced by \`deno task bench:all\` on ${started.toISOString()}.`,
  `Machine: ${machineInfo}.`,
  "The machine is shared: compare figures measured in the same run only.",
  "",
];
let httpOutput = "";
let failures = 0;
for (const bench of benches) {
  const command = `deno ${bench.args.join(" ")}`;
  console.log(`\n=== ${bench.name}: ${command}`);
  const t0 = performance.now();
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
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  if (!status.success) failures++;
  if (bench.name === "http/compare") httpOutput += output;
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

// Redraw the chart only from this run's HTTP medians, never from nothing:
// results.json if compare.ts wrote it during this run, else its table.
let figures: HttpFigure[] = [];
if (httpOutput !== "") {
  const stat = await Deno.stat(new URL(resultsPath, ROOT)).catch(() => null);
  figures = stat?.mtime !== null && stat !== null && stat.mtime >= started
    ? figuresFrom(await Deno.readTextFile(new URL(resultsPath, ROOT)))
    : parseHttpFigures(httpOutput);
}
if (figures.length > 0) writeChart(figures);
report.push(
  figures.length > 0
    ? `Chart: [http_rps.svg](http_rps.svg) (${figures.length} figures from the HTTP comparison).`
    : "No HTTP figures in this run: docs/http_rps.svg was left as it was.",
  "",
);
await Deno.writeTextFile(new URL(outPath, ROOT), report.join("\n"));
console.log(
  `\n${benches.length} benchmarks, ${failures} failed; report in ${outPath}` +
    (figures.length > 0
      ? `; ${chartPath} redrawn (${figures.length} figures)`
      : ""),
);
Deno.exit(failures === 0 ? 0 : 1);
