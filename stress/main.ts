// `deno task stress`: the long reliability runs, one after the other, each
// bounded and stopping by itself (about 10 minutes on 2 cores in all):
//
//   fuzz       1M request heads, 1M chunk lines, 100k WebSocket streams,
//              10k NbFile scripts, 20k HTTP and 10k WebSocket cases on sockets
//   churn      100k short connections
//   soak       1M keep-alive requests + 100k WebSocket messages, RSS and fds
//   smuggling  the comparison table (serve, Deno.serve, node:http, Node.js)
//
//   deno task stress [part...]      (default: all parts)

import { churn } from "./churn.ts";
import { fuzz } from "./fuzz.ts";
import { soak } from "./soak.ts";

const parts = Deno.args.length > 0
  ? Deno.args
  : ["fuzz", "churn", "soak", "smuggling"];
const log = (line: string) => console.error(line);
let failed = false;

for (const part of parts) {
  const started = performance.now();
  console.log(`\n## ${part}\n`);
  if (part === "fuzz") {
    const results = await fuzz(7, 1, log);
    console.log("| run | cases | seconds | outcome |\n|---|---|---|---|");
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.cases} | ${r.seconds.toFixed(1)} | ${
          JSON.stringify(r.detail)
        } |`,
      );
    }
  } else if (part === "churn") {
    const r = await churn(100_000, log);
    console.log(JSON.stringify(r, null, 2));
    failed ||= r.failures.length > 0;
  } else if (part === "soak") {
    const r = await soak(1_000_000, 100_000, log);
    console.log(JSON.stringify({ ...r, samples: undefined }, null, 2));
    console.log("| requests | RSS MiB | heap MiB | fds |\n|---|---|---|---|");
    for (const s of r.samples) {
      console.log(
        `| ${s.requests} | ${(s.rssKiB / 1024).toFixed(1)} | ${
          ((s.heapKiB ?? NaN) / 1024).toFixed(1)
        } | ${s.fds} |`,
      );
    }
    failed ||= r.failures.length > 0;
  } else if (part === "smuggling") {
    const table = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./smuggling_table.ts", import.meta.url).pathname,
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    failed ||= !table.success;
  } else {
    console.error(`unknown part ${part}: fuzz, churn, soak or smuggling`);
    Deno.exit(2);
  }
  log(`${part}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
if (failed) Deno.exit(1);
