// Prints the smuggling comparison table for docs/RELIABILITY.md: the corpus
// of tests/reliability/_smuggling.ts sent to serve(), Deno.serve, Deno's
// node:http and (when installed) Node.js, each case on its own connection.
//
//   deno run -A stress/smuggling_table.ts

import { serve } from "../wsgi/mod.ts";
import {
  type Peer,
  startDenoServe,
  startNodeHttp,
  startNodeJs,
} from "../tests/reliability/_peers.ts";
import {
  describeOutcome,
  runCase,
  SMUGGLING_CASES,
} from "../tests/reliability/_smuggling.ts";

const DEADLINE_MS = 3_000;

function startOurs(): Peer {
  const server = serve(async (environ, startResponse) => {
    await environ["wsgi.input"].read();
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return String(environ.PATH_INFO);
  }, { port: 0 });
  return {
    name: "serve() (ours)",
    port: server.addr.port!,
    close: () => server.shutdown(),
  };
}

const peers: Peer[] = [
  startOurs(),
  await startDenoServe(),
  await startNodeHttp(),
];
const node = await startNodeJs();
if (node !== undefined) peers.push(node);
else console.error("SKIP: node is not installed, no Node.js column");

const columns: string[][] = [];
for (const peer of peers) {
  const outcomes = await Promise.all(
    SMUGGLING_CASES.map((c) => runCase(peer.port, c, DEADLINE_MS)),
  );
  columns.push(outcomes.map(describeOutcome));
  await peer.close();
}

const escape = (s: string) => s.replaceAll("|", "\\|");
console.log(`| case | ${peers.map((p) => p.name).join(" | ")} |`);
console.log(`|---|${peers.map(() => "---").join("|")}|`);
let differ = 0;
SMUGGLING_CASES.forEach((c, i) => {
  const cells = columns.map((column) => column[i]);
  if (new Set(cells).size > 1) differ++;
  console.log(`| ${escape(c.name)} | ${cells.map(escape).join(" | ")} |`);
});
console.log(
  `\n${SMUGGLING_CASES.length} cases, ${differ} answered differently by at least one server; ` +
    `"left open" = no close within ${DEADLINE_MS} ms.`,
);
