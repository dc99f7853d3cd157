import assert from "node:assert/strict";
import {
  LimitReader,
  NbFile,
  schedule,
  SocketError,
  spawn,
  TimeoutError,
  WouldBlockError,
} from "../../coio/mod.ts";
import {
  bytes,
  latin1,
  latin1Bytes,
  type Loopback,
  pipeLoopback,
  text,
  VARIANTS,
} from "./_io_fixtures.ts";

/** Runs `body` on a fresh loopback of each kind and always cleans up. */
function nbfileTest(
  name: string,
  body: (lb: Loopback, kind: string) => Promise<void>,
): void {
  for (const [kind, make] of VARIANTS) {
    Deno.test(`NbFile (${kind}): ${name}`, async () => {
      const lb = await make();
      try {
        await body(lb, kind);
      } finally {
        await lb.close();
      }
    });
  }
}

/** Lets other tasklets run until `done()` holds (bounded, never sleeps). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await schedule();
  assert.ok(done(), `gave up waiting until ${what}`);
}

// ------------------------------------------------------------ nbfile_test

nbfileTest("readline with a limit (testReadLine)", async ({ file }) => {
  assert.equal(text(await file.readline(0)), "");
  await file.write("foobarbaz");
  assert.equal(text(await file.readline(0)), "");
  assert.equal(text(await file.readline(2)), "fo");
  assert.equal(text(await file.readline(3)), "oba");
  await file.write("X\n\nYZ\n");
  assert.equal(text(await file.readline(1)), "r");
  assert.equal(text(await file.readline()), "bazX\n");
  assert.equal(text(await file.readline()), "\n");
  assert.equal(text(await file.readline()), "YZ\n");
  await file.write("\nABC");
  assert.equal(text(await file.readline(1)), "\n");
  assert.equal(text(await file.readline(3)), "ABC");
});

nbfileTest(
  "readline blocks only when the line is not buffered (testReadLineWait)",
  async ({ file }, kind) => {
    // [expected, written by a new tasklet, limit, must wait for the writer]
    const steps: [string, string, number, boolean][] = [
      ["foo", "foo\nbar\nbaz\n", 3, true],
      ["\n", "", -1, false],
      ["bar\n", "", -1, false],
      ["baz\n", "", -1, false],
      ["", "", 0, false],
      ["", "foo", 0, false],
    ];
    for (const [expected, written, limit, waits] of steps) {
      const log: number[] = [];
      const writer = spawn(async () => {
        log.push(10);
        if (written) await file.write(written);
        log.push(20);
      });
      assert.equal(text(await file.readline(limit)), expected);
      if (!waits) assert.deepEqual(log, [], `step ${expected}`);
      else if (kind === "socket") assert.deepEqual(log, [10, 20]);
      // A pipe write runs on a thread: the read may complete before the
      // writer hears that its write did.
      else assert.equal(log[0], 10);
      await writer.join();
      assert.deepEqual(log, [10, 20]);
    }
    // The "foo" written during the last step is in the kernel, not in the
    // buffer: Deno needs a read op (an event-loop turn) to get it.
    assert.equal(text(await file.readline(3)), "foo");
    assert.equal(file.readBufferLength, 0);
  },
);

nbfileTest("a 999,999-byte line (testReadLineLongLine)", async ({ file }) => {
  const line = "ABCDEFGHI".repeat(111111);
  const writer = spawn(() => file.write(line));
  assert.equal(text(await file.readline(999999)), line);
  await writer.join();
  const writer2 = spawn(() => file.write("\n"));
  assert.equal(text(await file.readline()), "\n");
  await writer2.join();
  const writer3 = spawn(() => file.write(line + "\nfoo"));
  assert.equal(text(await file.readline()), line + "\n");
  assert.equal(text(await file.readline(3)), "foo");
  await writer3.join();
});

nbfileTest("readlineStripend of a 999,999-byte CRLF line", async ({ file }) => {
  const line = "ABCDEFGHI".repeat(111111);
  const writer = spawn(() => file.write(line + "\r\nnext\r\n"));
  assert.equal(text(await file.readlineStripend()), line);
  assert.equal(text(await file.readlineStripend()), "next");
  await writer.join();
});

nbfileTest(
  "two readers are served in order (testTwoReaders)",
  async (lb, kind) => {
    const { file } = lb;
    const results: string[] = [];
    const readers = [0, 1].map(() =>
      spawn(async () => {
        results.push(text(await file.read(1))!);
      })
    );
    await schedule();
    await schedule();
    assert.deepEqual(results, []);
    await file.write("ab");
    await file.flush();
    // A socket write completes at once and wakes no reader by itself; a pipe
    // write runs on a thread, and the reads may complete in the same turn.
    if (kind === "socket") assert.deepEqual(results, []);
    await until(() => results.length === 2, "both reads returned");
    assert.deepEqual(results, ["a", "b"]);
    for (const reader of readers) await reader.join();
    assert.ok(readers.every((r) => !r.alive));
  },
);

nbfileTest("the read buffer API (testBuffer)", async ({ file }) => {
  file.unread("barb");
  assert.equal(file.readBufferLength, 4);
  file.unread("FOO");
  assert.equal(file.readBufferLength, 7);
  file.unreadAppend("az");
  assert.equal(file.readBufferLength, 9);
  assert.equal(file.getString(), "FOObarbaz");
  const copy = file.getString();
  const view = file.getReadBuffer();
  view.set(bytes("BAR"), 3);
  assert.equal(file.getString(), "FOOBARbaz");
  assert.equal(copy, "FOObarbaz");
  file.getReadBuffer(3, -3).set(bytes("BAR"));
  assert.equal(file.getString(), "FOOBARbaz");

  const slices: [number[], string][] = [
    [[1], "OOBARbaz"],
    [[10], ""],
    [[9], ""],
    [[-2], "az"],
    [[-9], "FOOBARbaz"],
    [[-10], "FOOBARbaz"],
    [[0, -9], ""],
    [[0, -10], ""],
    [[5, -4], ""],
    [[5, -3], "R"],
    [[-4, 6], "R"],
  ];
  for (const [args, expected] of slices) {
    assert.equal(file.getString(...args), expected, `getString(${args})`);
    assert.equal(
      text(file.getReadBuffer(...args)),
      expected,
      `getReadBuffer(${args})`,
    );
  }

  const finds: [string, number[], number][] = [
    ["ax", [], -1],
    ["ax", [10], -1],
    ["ax", [10, 20], -1],
    ["AR", [], 4],
    ["O", [], 1],
    ["O", [1], 1],
    ["O", [2], 2],
    ["O", [3], -1],
    ["AR", [10], -1],
  ];
  for (const [sub, args, expected] of finds) {
    assert.equal(file.find(sub, ...args), expected, `find(${sub}, ${args})`);
    assert.equal(file.find(bytes(sub), ...args), expected);
  }
  const rfinds: [string, number[], number][] = [
    ["AR", [], 4],
    ["AR", [3], 4],
    ["AR", [4], 4],
    ["AR", [5], -1],
    ["AR", [4, 6], 4],
    ["AR", [4, 5], -1],
    ["AR", [4, -3], 4],
    ["AR", [-5, -3], 4],
    ["AR", [-6], 4],
    ["AR", [-5], 4],
    ["AR", [-4], -1],
    ["O", [], 2],
    ["O", [1], 2],
    ["O", [2], 2],
    ["O", [3], -1],
    ["O", [0, 3], 2],
    ["O", [0, 2], 1],
    ["O", [-8, -7], 1],
    ["O", [-8, -6], 2],
  ];
  for (const [sub, args, expected] of rfinds) {
    assert.equal(file.rfind(sub, ...args), expected, `rfind(${sub}, ${args})`);
  }
  assert.equal(text(await file.read(9)), "FOOBARbaz");
});

nbfileTest("read() to EOF (testLongReadAll)", async (lb) => {
  const data = "FooBarBaz".repeat(22222);
  const writer = spawn(async () => {
    await lb.file.write(data);
    lb.closeWriter();
  });
  const all = await lb.file.read();
  assert.equal(all.length, 199998);
  assert.equal(text(all), data);
  await writer.join();
});

nbfileTest("readUpto and readMore (testReadMoreAndReadUpto)", async (lb) => {
  const { file } = lb;
  await file.write("foobar");
  assert.equal(await file.readUpto(2), 6);
  assert.equal(await file.readUpto(-1), 6);
  assert.equal(file.getString(), "foobar");
  await file.write("baz");
  assert.equal(await file.readUpto(5), 6);
  assert.equal(await file.readUpto(6), 6);
  assert.equal(await file.readUpto(7), 9);
  assert.equal(file.getString(), "foobarbaz");
  await file.write("hi");
  assert.equal(await file.readMore(-1), 0);
  assert.equal(await file.readMore(1), 2);
  assert.equal(file.getString(), "foobarbazhi");
  const writer = spawn(async () => {
    await file.write("HEL");
    await schedule();
    await file.write("LO!");
  });
  assert.equal(await file.readMore(5), 6);
  await writer.join();
  assert.equal(file.getString(), "foobarbazhiHELLO!");
  const writer2 = spawn(async () => {
    await file.write("end");
    lb.closeWriter();
  });
  assert.equal(await file.readMore(5), 3);
  await writer2.join();
  assert.equal(file.getString(), "foobarbazhiHELLO!end");
});

// --------------------------------------------- delimiters and stripping

async function withData(
  data: string,
  body: (file: NbFile) => Promise<void>,
): Promise<void> {
  for (const [, make] of VARIANTS) {
    const lb = await make();
    try {
      await lb.file.write(latin1Bytes(data));
      lb.closeWriter();
      await body(lb.file);
    } finally {
      await lb.close();
    }
  }
}

/** Every line until EOF, read with `read`, as byte strings. */
async function allLines(
  read: () => Promise<Uint8Array | null>,
  end: "" | null,
): Promise<(string | null)[]> {
  const lines: (string | null)[] = [];
  for (let i = 0; i < 100; i++) {
    const line = latin1(await read());
    if (line === end) break;
    lines.push(line);
  }
  // At EOF the end marker repeats.
  assert.equal(latin1(await read()), end);
  return lines;
}

const DELIM_CASES: [string, string, number, string[]][] = [
  ["brakadabra", "a", -1, ["bra", "ka", "da", "bra"]],
  ["abrakadabra!", "a", -1, ["a", "bra", "ka", "da", "bra", "!"]],
  ["br\xFFk\xFFd\xFFbr\xFF", "\xFF", -1, [
    "br\xFF",
    "k\xFF",
    "d\xFF",
    "br\xFF",
  ]],
  ["br\xFFk\xFFd\xFFbr\xFF", "\xFF", 3, ["br\xFF", "k\xFF", "d\xFF", "br\xFF"]],
  ["br\xFFk\xFFd\xFFbr\xFF", "\xFF", 2, [
    "br",
    "\xFF",
    "k\xFF",
    "d\xFF",
    "br",
    "\xFF",
  ]],
];

Deno.test("NbFile: readline with a delimiter (testReadlineWithDelim)", async () => {
  for (const [data, delim, limit, expected] of DELIM_CASES) {
    await withData(data, async (file) => {
      assert.deepEqual(
        await allLines(() => file.readline(limit, delim), ""),
        expected,
      );
    });
    // The delimiter may also be given as a byte value.
    await withData(data, async (file) => {
      assert.deepEqual(
        await allLines(() => file.readline(limit, delim.charCodeAt(0)), ""),
        expected,
      );
    });
  }
});

Deno.test("LimitReader: readline with a delimiter (testNblimitreaderReadlineWithDelim)", async () => {
  for (const [data, delim, limit, expected] of DELIM_CASES) {
    await withData(data, async (file) => {
      const body = new LimitReader(file, 654321);
      assert.deepEqual(
        await allLines(() => body.readline(limit, delim), ""),
        expected,
      );
    });
  }
});

const STRIPEND_DELIM_CASES: [string, string, number, string[]][] = [
  ["brakadabra", "a", -1, ["br", "k", "d", "br"]],
  ["abrakadabra!", "a", -1, ["", "br", "k", "d", "br", "!"]],
  ["br\xFFk\xFFd\xFFbr\xFF", "\xFF", -1, ["br", "k", "d", "br"]],
  ["br\xFFk\xFFd\xFFbr\xFF", "\xFF", 3, ["br", "k", "d", "br"]],
  ["br\xFFk\xFFd\xFFbr\xFF", "\xFF", 2, ["br", "", "k", "d", "br", ""]],
];

Deno.test("NbFile: readlineStripend with a delimiter (testReadlineStripendWithDelim)", async () => {
  for (const [data, delim, limit, expected] of STRIPEND_DELIM_CASES) {
    await withData(data, async (file) => {
      assert.deepEqual(
        await allLines(() => file.readlineStripend(limit, delim), null),
        expected,
      );
    });
  }
});

Deno.test("LimitReader: readlineStripend with a delimiter (testNblimitreaderReadlineStripendWithDelim)", async () => {
  for (const [data, delim, limit, expected] of STRIPEND_DELIM_CASES) {
    await withData(data, async (file) => {
      const body = new LimitReader(file, 654321);
      assert.deepEqual(
        await allLines(() => body.readlineStripend(limit, delim), null),
        expected,
      );
    });
  }
});

const STRIPEND_CASES: [string, number, string[]][] = [
  ["br\nk\r\nd\n\rbr\r\n", -1, ["br", "k", "d", "\rbr"]],
  ["\r\nbr\nk\r\nd\n\rbr\n!\r", -1, ["", "br", "k", "d", "\rbr", "!\r"]],
  ["\r\nbr\nk\r\nd\n\rbr\n!\r", 4, ["", "br", "k", "d", "\rbr", "!\r"]],
  ["\r\nbr\nk\r\nd\n\rbr\n!\r", 3, ["", "br", "k", "d", "\rbr", "", "!\r"]],
  ["\r\nbr\nk\r\nd\n\rbr\n!\r", 2, [
    "",
    "br",
    "",
    "k\r",
    "",
    "d",
    "\rb",
    "r",
    "!\r",
  ]],
  ["\r\nbr\nk\r\nd\n\rbr\n!\r", 1, [
    "\r",
    "",
    "b",
    "r",
    "",
    "k",
    "\r",
    "",
    "d",
    "",
    "\r",
    "b",
    "r",
    "",
    "!",
    "\r",
  ]],
];

Deno.test("NbFile: readlineStripend strips \\n and one \\r (testReadlineStripend)", async () => {
  for (const [data, limit, expected] of STRIPEND_CASES) {
    await withData(data, async (file) => {
      assert.deepEqual(
        await allLines(() => file.readlineStripend(limit), null),
        expected,
        `limit ${limit}`,
      );
    });
  }
});

Deno.test("LimitReader: readlineStripend (testNblimitreaderReadlineStripend)", async () => {
  for (const [data, limit, expected] of STRIPEND_CASES) {
    await withData(data, async (file) => {
      const body = new LimitReader(file, 654321);
      assert.deepEqual(
        await allLines(() => body.readlineStripend(limit), null),
        expected,
        `limit ${limit}`,
      );
    });
  }
});

nbfileTest(
  "a delimiter must be one byte (testReadlineWithBadDelimLen)",
  async ({ file }) => {
    for (const delim of ["fo", "", "\u0100", 256, -1, 1.5]) {
      await assert.rejects(file.readline(-1, delim as string), TypeError);
      await assert.rejects(
        file.readlineStripend(-1, delim as string),
        TypeError,
      );
    }
    await assert.rejects(
      new LimitReader(file, 5).readline(-1, "fo"),
      TypeError,
    );
  },
);

// ------------------------------------------------------- memory streams

/** A source whose reads wait until the test pushes bytes (or EOF, or an error). */
class ScriptedReader {
  reads = 0;
  #chunks: (Uint8Array | null | Error)[] = [];
  #pending: ((chunk: Uint8Array | null | Error) => void) | undefined;

  push(chunk: string | Uint8Array | null | Error): void {
    const item = typeof chunk === "string" ? bytes(chunk) : chunk;
    if (this.#pending) {
      const resolve = this.#pending;
      this.#pending = undefined;
      resolve(item);
    } else this.#chunks.push(item);
  }

  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const item = this.#chunks.length > 0
      ? this.#chunks.shift()!
      : await new Promise<Uint8Array | null | Error>((resolve) => {
        this.#pending = resolve;
      });
    if (item === null) return null;
    if (item instanceof Error) throw item;
    const n = Math.min(p.length, item.length);
    p.set(item.subarray(0, n));
    if (n < item.length) this.#chunks.unshift(item.subarray(n));
    return n;
  }
}

/** A sink that records each write op; with `gated`, ops wait for `release`. */
class RecordingWriter {
  writes: string[] = [];
  /** Every byte written, in order (writes may split UTF-8 sequences). */
  bytes: number[] = [];
  #gates: ((n: number) => void)[] = [];
  #views: Uint8Array[] = [];
  constructor(readonly gated = false) {}

  write(p: Uint8Array): Promise<number> {
    if (!this.gated) {
      this.writes.push(text(p)!);
      this.bytes.push(...p);
      return Promise.resolve(p.length);
    }
    this.#views.push(p);
    return new Promise((resolve) => this.#gates.push(resolve));
  }

  get pendingOps(): number {
    return this.#gates.length;
  }

  /** Completes the oldest op, having written its first `n` bytes. */
  release(n?: number): void {
    const p = this.#views.shift()!;
    const count = n ?? p.length;
    this.writes.push(text(p.subarray(0, count))!);
    this.#gates.shift()!(count);
  }
}

Deno.test("NbFile: write buffering rules (0, 1, 2, block size)", async () => {
  const sink = new RecordingWriter();
  const file = new NbFile(undefined, sink, { writeBufferLimit: 0 });
  await file.write("a");
  await file.write("");
  await file.write(bytes("b"));
  assert.deepEqual(sink.writes, ["a", "b"]);

  file.writeBufferLimit = 1;
  await file.write("no newline");
  assert.deepEqual(sink.writes, ["a", "b"]);
  await file.write(" x\ny\nrest");
  assert.deepEqual(sink.writes, ["a", "b", "no newline x\ny\n"]);
  assert.equal(file.writeBufferLength, 4);

  file.writeBufferLimit = 2;
  await file.write("more\n".repeat(10_000));
  assert.equal(sink.writes.length, 3);
  await file.flush();
  assert.equal(sink.writes.length, 4);
  assert.equal(sink.writes[3], "rest" + "more\n".repeat(10_000));
  assert.equal(file.writeBufferLength, 0);

  file.writeBufferLimit = 8;
  await file.write("abc");
  await file.write("def");
  assert.equal(sink.writes.length, 4);
  // Would overflow: fill the block to 8 bytes, write it, buffer the rest.
  await file.write("ghijk");
  assert.deepEqual(sink.writes.slice(4), ["abcdefgh"]);
  assert.equal(file.writeBufferLength, 3);
  // Would overflow again; the remainder is >= the block size: written directly.
  await file.write("0123456789abcdef");
  assert.deepEqual(sink.writes.slice(5), ["ijk01234", "56789abcdef"]);
  assert.equal(file.writeBufferLength, 0);
  await file.write("0123456789");
  assert.deepEqual(sink.writes.slice(7), ["0123456789"]);

  await file.write("kept");
  file.writeBufferLimit = 0; // setting the limit never flushes
  assert.equal(file.writeBufferLength, 4);
  file.discardWriteBuffer();
  assert.equal(file.writeBufferLength, 0);
  await file.writelines(["x\n", bytes("y\n")]);
  assert.deepEqual(sink.writes.slice(8), ["x\n", "y\n"]);
  await file.close();
  assert.equal(sink.writes.length, 10);
});

Deno.test("NbFile: close() flushes, is idempotent, and later use is EBADF", async () => {
  const reader = new ScriptedReader();
  const sink = new RecordingWriter();
  const file = new NbFile(reader, sink, { writeBufferLimit: 2 });
  await file.write("pending");
  assert.deepEqual(sink.writes, []);
  await file.close();
  await file.close();
  assert.deepEqual(sink.writes, ["pending"]);
  assert.equal(file.closed, true);
  for (
    const op of [
      () => file.read(1),
      () => file.readline(),
      () => file.readlineStripend(),
      () => file.readAtMost(1),
      () => file.write("x"),
      () => file.flush(),
    ]
  ) {
    await assert.rejects(op, (e: unknown) => {
      assert.ok(e instanceof SocketError);
      assert.equal(e.code, "EBADF");
      return true;
    });
  }
  assert.throws(() => file.unread("x"), SocketError);
});

Deno.test("NbFile: a read-only file cannot write, a write-only file cannot read", async () => {
  const readOnly = new NbFile(new ScriptedReader());
  await assert.rejects(readOnly.write("x"), SocketError);
  const writeOnly = new NbFile(undefined, new RecordingWriter());
  await assert.rejects(writeOnly.read(1), SocketError);
  await readOnly.close();
  await writeOnly.close();
});

Deno.test("NbFile: bad sizes and arguments are typed errors", async () => {
  const file = new NbFile(new ScriptedReader(), new RecordingWriter());
  await assert.rejects(file.readAtMost(-1), RangeError);
  await assert.rejects(file.read(1.5), TypeError);
  await assert.rejects(file.readline(Number.NaN), TypeError);
  await assert.rejects(file.write(42 as unknown as string), TypeError);
  assert.throws(() => file.find(3 as unknown as string), TypeError);
  assert.throws(() => file.find("\u1234"), TypeError);
  assert.throws(() => file.settimeout(-1), RangeError);
  assert.throws(() => (file.writeBufferLimit = -1), RangeError);
  assert.throws(() => new LimitReader(file, -1), RangeError);
  assert.throws(() => new NbFile({} as never), TypeError);
  assert.equal(await file.discard(-5), 0);
  assert.equal(await file.readMore(0), 0);
  await file.close();
});

Deno.test("NbFile: timeout 0 is EAGAIN, > 0 is 'timed out', and no byte is lost", async () => {
  const reader = new ScriptedReader();
  const file = new NbFile(reader, undefined, { timeout: 0 });
  await assert.rejects(file.read(1), (e: unknown) => {
    assert.ok(e instanceof WouldBlockError);
    assert.equal(e.code, "EAGAIN");
    return true;
  });
  file.settimeout(10);
  assert.equal(file.timeout, 10);
  await assert.rejects(file.readline(), (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.equal(e.message, "timed out");
    return true;
  });
  // Still one read op, left running by the first attempt.
  assert.equal(reader.reads, 1);
  reader.push("abc\n");
  file.settimeout(null);
  assert.equal(text(await file.readline()), "abc\n");
  assert.equal(reader.reads, 1);
  // Data that is ready now is returned even with timeout 0.
  file.settimeout(0);
  reader.push("ready");
  assert.equal(text(await file.readAtMost(10)), "ready");
  await file.close();
  reader.push(null);
});

Deno.test("NbFile: a killed reader leaves its bytes to the next reader", async () => {
  const reader = new ScriptedReader();
  const file = new NbFile(reader);
  const victim = spawn(() => file.read(3));
  await until(() => reader.waiting, "the read op started");
  victim.kill();
  await assert.rejects(victim.join());
  file.unread("<");
  reader.push("xyz");
  assert.equal(text(await file.read(4)), "<xyz");
  assert.equal(reader.reads, 1);
  reader.push(null);
  assert.equal((await file.read()).length, 0);
  await file.close();
});

Deno.test("NbFile: a timed-out write keeps its bytes and sends them later", async () => {
  const sink = new RecordingWriter(true);
  const file = new NbFile(undefined, sink, {
    writeBufferLimit: 0,
    timeout: 10,
  });
  await assert.rejects(file.write("hello"), TimeoutError);
  assert.equal(sink.pendingOps, 1);
  assert.equal(file.writeBufferLength, 5);
  // The op wrote 2 bytes; the other 3 stay buffered.
  sink.release(2);
  await until(() => file.writeBufferLength === 3, "the late op was counted");
  file.settimeout(null);
  const flushing = file.flush();
  await until(() => sink.pendingOps === 1, "the flush started");
  sink.release();
  await flushing;
  assert.deepEqual(sink.writes, ["he", "llo"]);
  await file.close();
});

Deno.test("NbFile: source errors become SocketError with a POSIX code", async () => {
  const reader = new ScriptedReader();
  const file = new NbFile(reader);
  reader.push(new Deno.errors.ConnectionReset("reset by peer"));
  await assert.rejects(file.read(1), (e: unknown) => {
    assert.ok(e instanceof SocketError);
    assert.equal(e.code, "ECONNRESET");
    return true;
  });
  reader.push("ok");
  assert.equal(text(await file.read(2)), "ok");
  await file.close();
});

Deno.test("NbFile: for await yields buffered lines without new reads", async () => {
  const reader = new ScriptedReader();
  const file = new NbFile(reader);
  reader.push("one\ntwo\nthree\npart");
  reader.push(null);
  const lines: string[] = [];
  for await (const line of file) lines.push(text(line)!);
  assert.deepEqual(lines, ["one\n", "two\n", "three\n", "part"]);
  assert.equal(reader.reads, 2);
  await file.close();
});

Deno.test("NbFile: waitForReadable waits for data or EOF and consumes nothing", async () => {
  const reader = new ScriptedReader();
  const file = new NbFile(reader);
  assert.equal(await file.waitForReadable(5), false);
  assert.equal(await file.waitForReadable(0), false);
  reader.push("x");
  assert.equal(await file.waitForReadable(), true);
  assert.equal(file.readBufferLength, 1);
  assert.equal(text(await file.read(1)), "x");
  reader.push(null);
  assert.equal(await file.waitForReadable(), true);
  assert.equal((await file.read()).length, 0);
  await file.close();
});

Deno.test("NbFile: close() fails a blocked reader with EBADF", async () => {
  const lb = await pipeLoopback();
  const reader = spawn(() => lb.file.read(1));
  await schedule();
  await schedule();
  lb.closeWriter();
  await lb.file.close();
  await assert.rejects(reader.join(), (e: unknown) => {
    assert.ok(e instanceof SocketError);
    assert.equal(e.code, "EBADF");
    return true;
  });
  await lb.close();
});

nbfileTest("returned lines stay intact while the file reads on", async (lb) => {
  const { file } = lb;
  const expected: string[] = [];
  for (let i = 0; i < 3000; i++) {
    expected.push(`line ${i} ${"x".repeat(i % 50)}\n`);
  }
  const writer = spawn(async () => {
    for (let i = 0; i < expected.length; i += 100) {
      await file.write(expected.slice(i, i + 100).join(""));
    }
    lb.closeWriter();
  });
  const kept: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) kept.push(await file.readline());
  file.unread("unread\n");
  kept.push(await file.readline());
  for await (const line of file) kept.push(line);
  await writer.join();
  assert.deepEqual(kept.map(text), [
    ...expected.slice(0, 1000),
    "unread\n",
    ...expected.slice(1000),
  ]);
});

Deno.test("NbFile: strings are written as UTF-8, buffered or not", async () => {
  for (const limit of [0, 1, 2, 16, 8192]) {
    const sink = new RecordingWriter();
    const file = new NbFile(undefined, sink, { writeBufferLimit: limit });
    await file.write("héllo ");
    await file.write("wörld ✓\n");
    await file.write("🦕");
    await file.flush();
    assert.equal(
      text(new Uint8Array(sink.bytes)),
      "héllo wörld ✓\n🦕",
      `limit ${limit}`,
    );
    await file.close();
  }
});
