/**
 * A real PostgreSQL server queried through an unmodified npm client (`pg`):
 * with patchNodeNet, a timeout scope or a kill really aborts a running query.
 */
import assert from "node:assert/strict";
// An unmodified third-party client is the point of this test.
// deno-lint-ignore no-import-prefix
import pg from "npm:pg@8";
import { TaskletExit, TimeoutError } from "../../coio/errors.ts";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import { withTimeout } from "../../coio/with_timeout.ts";
import { patchNodeNet, unpatchNodeNet } from "../../patch/node_net.ts";
import { type PostgresServer, startPostgres } from "./_postgres.ts";

type Client = InstanceType<typeof pg.Client>;

async function connect(server: PostgresServer): Promise<Client> {
  const client = new pg.Client({
    host: server.hostname,
    port: server.port,
    user: server.user,
    database: "postgres",
  });
  // pg re-emits a socket error on the client; without a listener it would
  // be an uncaught error.
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Backends (other than the asking one) running or last running `text`. */
async function backendsWith(observer: Client, text: string): Promise<number> {
  const { rows } = await observer.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity " +
      "WHERE query = $1 AND pid <> pg_backend_pid()",
    [text],
  );
  return rows[0].n;
}

/** Waits (3 s at most) until no backend runs `text`; returns the time taken. */
async function gone(observer: Client, text: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 60; i++) {
    if (await backendsWith(observer, text) === 0) {
      return performance.now() - started;
    }
    await sleep(50);
  }
  throw new Error(`"${text}" still runs on the server after 3 s`);
}

/** A tasklet that keeps querying on its own connection and reports what it got. */
function bystander(server: PostgresServer) {
  return spawn({ name: "bystander" }, async () => {
    const client = await connect(server);
    try {
      const got: number[] = [];
      for (let i = 0; i < 6; i++) {
        const { rows } = await client.query(
          "SELECT $1::int AS n, pg_sleep(0.05)",
          [i],
        );
        got.push(rows[0].n);
      }
      return got;
    } finally {
      await client.end();
    }
  });
}

Deno.test("postgres: with patchNodeNet, timeouts and kills abort running queries", async (t) => {
  const server = await startPostgres();
  if (typeof server === "string") {
    console.log(`SKIP: ${server}`);
    return;
  }
  const observer = await connect(server);
  patchNodeNet();
  try {
    await t.step(
      "pg_sleep(5) inside withTimeout(200) is aborted; others keep working",
      async () => {
        const query = "SELECT pg_sleep(5) /* timeout */";
        const others = bystander(server);
        const started = performance.now();
        const victim = spawn({ name: "victim" }, async () => {
          const client = await connect(server);
          return await withTimeout(200, () => client.query(query));
        });
        await assert.rejects(victim.join(), TimeoutError);
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 4000, `TimeoutError after ${elapsed} ms`);
        // The server noticed: the query and its connection are gone well
        // before the 5 s it would have run.
        await gone(observer, query);
        assert.ok(performance.now() - started < 4500);
        assert.deepEqual(await others.join(), [0, 1, 2, 3, 4, 5]);
      },
    );

    await t.step(
      "a timeout around a query on a connection opened earlier aborts it",
      async () => {
        // Opened in the main tasklet, outside any scope (as a pool would).
        const shared = await connect(server);
        const query = "SELECT pg_sleep(5) /* shared */";
        const started = performance.now();
        const error = await spawn(() =>
          withTimeout(200, () => shared.query(query))
        ).join().catch((e) => e);
        assert.ok(error instanceof TimeoutError, String(error));
        await gone(observer, query);
        assert.ok(performance.now() - started < 4500);
        // The observer's connection, never used inside a scope, still works.
        assert.equal((await observer.query("SELECT 7 AS n")).rows[0].n, 7);
      },
    );

    await t.step("killing a tasklet aborts its running query", async () => {
      const query = "SELECT pg_sleep(5) /* kill */";
      const victim = spawn({ name: "victim" }, async () => {
        const client = await connect(server);
        return await client.query(query);
      });
      // Kill it once the query is running on the server.
      for (
        let i = 0;
        i < 60 && await backendsWith(observer, query) === 0;
        i++
      ) {
        await sleep(50);
      }
      assert.equal(await backendsWith(observer, query), 1);
      const started = performance.now();
      victim.kill();
      await assert.rejects(victim.join(), TaskletExit);
      await gone(observer, query);
      assert.ok(performance.now() - started < 4000);
    });
  } finally {
    unpatchNodeNet();
    await observer.end();
    await server.stop();
  }
});
