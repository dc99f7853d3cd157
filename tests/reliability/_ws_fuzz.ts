// Runs the WebSocket frame fuzz: each generated client byte stream is fed to
// a server-side WebSocketConnection, in memory (a fake socket whose reads
// return random-sized chunks: fast, so many cases) or over a real upgraded
// connection from serve(); the messages, pongs, close frame and close code
// must be what the reference reading of RFC 6455 says.

import assert from "node:assert/strict";
import { NbFile, type NbSocket, waitFor, withTimeout } from "../../coio/mod.ts";
import {
  serve,
  upgradeWebSocket,
  WebSocketConnection,
} from "../../wsgi/mod.ts";
import type { HttpServer } from "../../wsgi/mod.ts";
import { FuzzFailure } from "./_http_check.ts";
import { ChunkedReader } from "./_nb_file_model.ts";
import { exchangeRaw, pool } from "./_net.ts";
import { Prng } from "./_prng.ts";
import {
  expectWs,
  serverFrames,
  wsCase,
  type WsExpected,
} from "./_ws_cases.ts";

/** The message size limit of the fuzz (small, so that cases cross it). */
export const WS_MAX = 1024;

/** Counters of a WebSocket fuzz run. */
export interface WsFuzzStats {
  cases: number;
  messages: number;
  closes: number;
  failures: number;
  eofs: number;
}

/** Enough of a socket for WebSocketConnection, over in-memory bytes. */
class FakeSocket {
  written: Uint8Array[] = [];
  closed = false;
  writtenAfterClose = false;
  /** The connection: reads hand out random-sized chunks, writes are kept. */
  conn: {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
  };

  constructor(data: Uint8Array, rng: Prng) {
    const reader = new ChunkedReader(data, rng, rng.pick([1, 2, 7, 64, 4096]));
    this.conn = {
      read: (p) => reader.read(p),
      write: (p) => {
        if (this.closed) this.writtenAfterClose = true;
        this.written.push(p.slice());
        return Promise.resolve(p.length);
      },
    };
  }

  /** A file with nothing buffered: no bytes were read past the handshake. */
  makefile(options: { writeBufferLimit?: number }): NbFile {
    return new NbFile(undefined, undefined, options);
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Checks what the server did against what the reference expects. */
function checkOutcome(
  expected: WsExpected,
  messages: (string | Uint8Array)[],
  closeCode: number | undefined,
  sent: Uint8Array,
  stats: WsFuzzStats,
): void {
  assert.deepEqual(messages, expected.messages, "messages delivered");
  const frames = serverFrames(sent);
  const pongs = frames.filter((f) => f.opcode === 10).map((f) => f.payload);
  assert.deepEqual(pongs, expected.pongs, "pongs");
  const closes = frames.filter((f) => f.opcode === 8);
  assert.ok(closes.length <= 1, "at most one close frame");
  if (closes.length === 1) {
    assert.equal(frames.at(-1)!.opcode, 8, "nothing after the close frame");
  }
  assert.ok(
    frames.every((f) => f.opcode === 8 || f.opcode === 10),
    "the server sent only pongs and a close",
  );
  const end = expected.end;
  stats.cases++;
  stats.messages += messages.length;
  if (end.kind === "close") {
    stats.closes++;
    assert.equal(closeCode, end.code, "close code of the client's close");
    assert.equal(closes.length, 1, "the client's close is answered");
    assert.deepEqual(closes[0].payload, end.payload, "the close is echoed");
  } else if (end.kind === "fail") {
    stats.failures++;
    assert.ok(
      end.codes.has(closeCode!),
      `close code ${closeCode} not in ${[...end.codes]}`,
    );
    assert.equal(
      closes.length,
      1,
      "a protocol error is answered with a close frame",
    );
    const payload = closes[0].payload;
    assert.ok(payload.length >= 2, "the error close frame carries a code");
    assert.equal((payload[0] << 8) | payload[1], closeCode, "close frame code");
  } else {
    stats.eofs++;
    assert.equal(closeCode, 1006, "EOF without a close frame is 1006");
    assert.equal(closes.length, 0, "no close frame after the peer's EOF");
  }
}

/** Cases `[first, first + count)` of `seed`, in memory. */
export async function runWsFuzzInMemory(
  seed: number,
  count: number,
  first = 0,
): Promise<WsFuzzStats> {
  const stats = { cases: 0, messages: 0, closes: 0, failures: 0, eofs: 0 };
  for (let i = first; i < first + count; i++) {
    const data = wsCase(seed, i, WS_MAX);
    try {
      const expected = expectWs(data, WS_MAX);
      const socket = new FakeSocket(data, new Prng(Prng.caseSeed(seed + 1, i)));
      const ws = new WebSocketConnection(
        { socket: socket as unknown as NbSocket, isServer: true },
        { maxMessageSize: WS_MAX },
      );
      const messages: (string | Uint8Array)[] = [];
      await withTimeout(10_000, async () => {
        for (let m; (m = await ws.receive()) !== null;) messages.push(m);
      });
      assert.equal(ws.closed, true, "ended");
      assert.equal(socket.closed, true, "socket closed");
      assert.equal(socket.writtenAfterClose, false, "wrote after closing");
      checkOutcome(
        expected,
        messages,
        ws.closeCode,
        concat(socket.written),
        stats,
      );
    } catch (error) {
      throw new FuzzFailure(seed, i, data, error);
    }
  }
  return stats;
}

const HANDSHAKE = new TextEncoder().encode(
  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
);

/** A server whose app records, per case (`X-Case`), what it received. */
export function wsFuzzServer(): {
  server: HttpServer;
  results: Map<
    string,
    Promise<{ messages: (string | Uint8Array)[]; code: number | undefined }>
  >;
} {
  const results = new Map<
    string,
    Promise<{ messages: (string | Uint8Array)[]; code: number | undefined }>
  >();
  const server = serve(async (environ) => {
    const ws = await upgradeWebSocket(environ, {
      maxMessageSize: WS_MAX,
      compression: false,
    });
    const messages: (string | Uint8Array)[] = [];
    const done = (async () => {
      for (let m; (m = await ws.receive()) !== null;) messages.push(m);
      return { messages, code: ws.closeCode };
    })();
    results.set(String(environ.HTTP_X_CASE), done);
    await done;
  }, { port: 0 });
  return { server, results };
}

/** Cases `[first, first + count)` of `seed` over real upgraded connections. */
export async function runWsFuzzOverSockets(
  seed: number,
  count: number,
  width = 8,
  first = 0,
): Promise<WsFuzzStats> {
  const stats = { cases: 0, messages: 0, closes: 0, failures: 0, eofs: 0 };
  const { server, results } = wsFuzzServer();
  try {
    await pool(count, width, async (k) => {
      const i = first + k;
      const data = wsCase(seed, i, WS_MAX);
      try {
        const head = new TextEncoder().encode(`X-Case: ${i}\r\n\r\n`);
        const request = concat([HANDSHAKE, head, data]);
        const result = await exchangeRaw(server.addr.port!, request, 15_000);
        assert.equal(
          result.timedOut,
          false,
          "the server neither answered nor closed",
        );
        const text = new TextDecoder("latin1").decode(result.data);
        const headEnd = text.indexOf("\r\n\r\n");
        assert.ok(text.startsWith("HTTP/1.1 101 "), "switched protocols");
        const sent = result.data.subarray(headEnd + 4);
        const outcome = await withTimeout(
          10_000,
          () => waitFor(results.get(String(i))!),
        );
        results.delete(String(i));
        checkOutcome(
          expectWs(data, WS_MAX),
          outcome.messages,
          outcome.code,
          sent,
          stats,
        );
      } catch (error) {
        throw new FuzzFailure(seed, i, data, error);
      }
    });
  } finally {
    await server.shutdown();
  }
  return stats;
}
