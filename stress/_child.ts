// Starts stress/_server.ts in a child process and reads its figures from /proc.

/** A server child process. */
export interface ServerChild {
  pid: number;
  port: number;
  /** Resident set size, KiB. */
  rss(): number;
  /** Open file descriptors. */
  fds(): number;
  /** The server's `Deno.memoryUsage()`, in bytes (asked over HTTP). */
  memory(): Promise<Deno.MemoryUsage>;
  /** Closes its stdin (graceful shutdown) and resolves to its stderr output. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Spawns the server; resolves once it listens. */
export async function startServerChild(): Promise<ServerChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-net",
      new URL("./_server.ts", import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server child ended: ${await stderr}`);
    line += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const pid = child.pid;
  return {
    pid,
    port: Number(line.trim()),
    rss: () =>
      Number(
        /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))
          ?.[1],
      ),
    fds: () => {
      let n = 0;
      for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
      return n;
    },
    memory: async () => {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(line.trim()),
      });
      try {
        await conn.write(new TextEncoder().encode(
          "GET /mem HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ));
        const text = await new Response(conn.readable).text();
        return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
      } catch (error) {
        conn.close();
        throw error;
      }
    },
    stop: async () => {
      await child.stdin.close();
      await child.stdout.cancel();
      const status = await child.status;
      return { code: status.code, stderr: await stderr };
    },
  };
}
