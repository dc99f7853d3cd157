// Worker of the I/O benchmarks: a TCP server on its own thread (own event
// loop), so the measured reader has the main thread to itself. Protocols:
// "lines N" → N 64-byte lines then close; "bulk N" → N bytes then close;
// "sink" → read to EOF then reply "done"; "echo" → echo until EOF.
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
(globalThis as unknown as { postMessage(message: unknown): void })
  .postMessage(listener.addr.port);

const LINE = new TextEncoder().encode("x".repeat(63) + "\n");
const BLOCK = new Uint8Array(65536);
for (let i = 0; i < BLOCK.length; i += 64) BLOCK.set(LINE, i);

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) {
    off += await conn.write(data.subarray(off));
  }
}

async function handle(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const head = new Uint8Array(64);
  const n = (await conn.read(head)) ?? 0;
  const [kind, arg] = new TextDecoder().decode(head.subarray(0, n)).trim()
    .split(" ");
  try {
    if (kind === "lines" || kind === "bulk") {
      let left = kind === "lines" ? Number(arg) * 64 : Number(arg);
      while (left > 0) {
        const chunk = Math.min(left, BLOCK.length);
        await writeAll(conn, BLOCK.subarray(0, chunk));
        left -= chunk;
      }
    } else if (kind === "sink") {
      const buf = new Uint8Array(65536);
      while (await conn.read(buf) !== null) { /* discard */ }
      await writeAll(conn, new TextEncoder().encode("done"));
    } else if (kind === "echo") {
      const buf = new Uint8Array(65536);
      for (let got; (got = await conn.read(buf)) !== null;) {
        await writeAll(conn, buf.subarray(0, got));
      }
    }
  } catch {
    // The benchmark closed early.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

for await (const conn of listener) handle(conn);
