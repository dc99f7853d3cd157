/**
 * A PostgreSQL client we did not write (`npm:pg`) made tasklet-aware with
 * `patchNodeNet()` (Syncless's demo_mysql_client, for PostgreSQL): queries in
 * several tasklets overlap, and a `withTimeout` around a slow query really
 * aborts it (its connection is destroyed, so the server stops working on it).
 *
 *     DATABASE_URL=postgres://user:password@127.0.0.1:5432/db \
 *       deno run -A examples/postgres.ts
 *
 * @module
 */
// An unmodified third-party client is the point of this example.
// deno-lint-ignore no-import-prefix
import pg from "npm:pg@8";
import {
  patchNodeNet,
  spawn,
  TimeoutError,
  withTimeout,
} from "@syncless/syncless";

const url = Deno.env.get("DATABASE_URL");
if (!url) {
  console.log("This example needs a PostgreSQL server: set DATABASE_URL, e.g.");
  console.log("  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres");
  Deno.exit(2);
}

// node:net sockets made inside a tasklet now die with its kill or timeout.
patchNodeNet();

async function connect(): Promise<InstanceType<typeof pg.Client>> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {}); // a destroyed socket is reported here too
  await withTimeout(5000, () => client.connect());
  return client;
}

// 1. A query with a deadline.
const client = await connect();
const { rows } = await withTimeout(
  1000,
  () => client.query("SELECT version()"),
);
console.log(`connected: ${rows[0].version.split(",")[0]}`);

// 2. Three tasklets, each with its own connection, sleep 0.3 s in the server
// at the same time: about 0.3 s in all, not 0.9 s.
const started = performance.now();
const sleepers = [1, 2, 3].map((n) =>
  spawn(async () => {
    const own = await connect();
    try {
      const result = await own.query("SELECT $1::int AS n, pg_sleep(0.3)", [n]);
      return result.rows[0].n;
    } finally {
      await own.end();
    }
  })
);
const done: number[] = [];
for (const sleeper of sleepers) done.push(await sleeper.join());
const took = Math.round(performance.now() - started);
console.log(`3 overlapping pg_sleep(0.3) queries [${done}] took ${took} ms`);

// 3. A query that would take 10 s, cut off after 300 ms.
const victim = await connect();
try {
  await withTimeout(300, () => victim.query("SELECT pg_sleep(10)"));
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log("pg_sleep(10) timed out after 300 ms; its connection was closed");
}
// The other connections are not affected.
const { rows: after } = await client.query("SELECT 1 + 1 AS two");
console.log(`the first connection still answers: 1 + 1 = ${after[0].two}`);
await client.end();
