/**
 * Starts a throw-away PostgreSQL server for a test: a fresh data directory in
 * a temporary folder, listening on 127.0.0.1 on a free port, with its Unix
 * socket in that folder. As root, the server runs as the `postgres` user
 * (initdb refuses root).
 */

export interface PostgresServer {
  hostname: string;
  port: number;
  user: string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

const ROOT = "/usr/lib/postgresql";

/** The newest installed server's bin folder, or undefined. */
async function findBinDir(): Promise<string | undefined> {
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir(ROOT)) {
      const version = Number(entry.name);
      if (Number.isFinite(version)) versions.push(version);
    }
  } catch {
    return undefined;
  }
  for (const version of versions.sort((a, b) => b - a)) {
    const bin = `${ROOT}/${version}/bin`;
    try {
      await Deno.stat(`${bin}/initdb`);
      await Deno.stat(`${bin}/pg_ctl`);
      return bin;
    } catch {
      // Not a complete server install.
    }
  }
  return undefined;
}

async function passwdEntry(
  name: string,
): Promise<{ uid: number; gid: number } | undefined> {
  const passwd = await Deno.readTextFile("/etc/passwd").catch(() => "");
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name) {
      return { uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  }
  return undefined;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts the server, or returns a reason to skip when PostgreSQL is not
 * installed (or, as root, when there is no `postgres` user or `runuser`).
 */
export async function startPostgres(): Promise<PostgresServer | string> {
  const bin = await findBinDir();
  if (bin === undefined) return `no PostgreSQL server under ${ROOT}`;
  const asRoot = Deno.uid() === 0;
  const owner = asRoot ? await passwdEntry("postgres") : undefined;
  if (asRoot && owner === undefined) return "no postgres user to run it as";
  const run = async (program: string, args: string[]) => {
    const command = asRoot
      ? new Deno.Command("runuser", {
        args: ["-u", "postgres", "--", `${bin}/${program}`, ...args],
      })
      : new Deno.Command(`${bin}/${program}`, { args });
    const { success, stderr } = await command.output();
    if (!success) {
      throw new Error(
        `${program} failed: ${new TextDecoder().decode(stderr).trim()}`,
      );
    }
  };

  const dir = await Deno.makeTempDir({ prefix: "syncless-pg-" });
  if (owner !== undefined) await Deno.chown(dir, owner.uid, owner.gid);
  const data = `${dir}/data`;
  const port = freePort();
  const user = "syncless";
  try {
    await run("initdb", [
      "-D",
      data,
      "-U",
      user,
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    // client_connection_check_interval lets the server notice, mid-query,
    // that a client has gone, so an aborted pg_sleep ends at once.
    const serverOptions = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=127.0.0.1",
      "-c client_connection_check_interval=100",
      "-c fsync=off",
      "-c max_connections=20",
    ].join(" ");
    await run("pg_ctl", [
      "-D",
      data,
      "-l",
      `${dir}/server.log`,
      "-w",
      "-t",
      "60",
      "-o",
      serverOptions,
      "start",
    ]);
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  return {
    hostname: "127.0.0.1",
    port,
    user,
    async stop() {
      try {
        await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}
