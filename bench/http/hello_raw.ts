// The practical ceiling: a raw Deno.listen loop that answers every request
// in a read with a canned response, without parsing HTTP.
// `deno run -A bench/http/hello_raw.ts PORT`.
const port = Number(Deno.args[0] ?? 8000);
const response = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!",
);
const listener = Deno.listen({ hostname: "127.0.0.1", port });
for await (const conn of listener) serveConn(conn);

async function serveConn(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      // Only the bytes just read: a search of the whole 64 KiB buffer would
      // cost more than the request itself.
      const data = buffer.subarray(0, n);
      let requests = 0;
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) {
        if (data[i + 1] === 13 && data[i + 2] === 10) requests++;
      }
      if (requests === 1) {
        await conn.write(response);
      } else if (requests > 1) {
        const out = new Uint8Array(response.length * requests);
        for (let k = 0; k < requests; k++) {
          out.set(response, k * response.length);
        }
        for (let off = 0; off < out.length;) {
          off += await conn.write(out.subarray(off));
        }
      }
    }
  } catch {
    // client gone
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
}
