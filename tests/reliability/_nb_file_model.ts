// Property test of NbFile's read side: random operations on a file over a
// reader that hands out random-sized chunks, each compared with a plain
// reference model (the unread bytes as one array). Shared by the fast test
// and `deno task stress`.

import assert from "node:assert/strict";
import { NbFile } from "../../coio/mod.ts";
import { Prng } from "./_prng.ts";
import { latin1 } from "./_http_cases.ts";

/** A reader over `data` that returns 1..`maxChunk` bytes per read, then EOF. */
export class ChunkedReader {
  #pos = 0;
  reads = 0;

  constructor(
    readonly data: Uint8Array,
    readonly rng: Prng,
    readonly maxChunk: number,
  ) {}

  async read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    // Sometimes answer on a later turn, as a socket would.
    if (this.rng.chance(0.3)) await new Promise<void>((r) => queueMicrotask(r));
    if (this.#pos >= this.data.length) return null;
    const n = Math.min(
      p.length,
      this.data.length - this.#pos,
      this.rng.range(1, this.maxChunk),
    );
    p.set(this.data.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return n;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Python-style slice index, clamped (what the design specifies). */
function sliceIndex(
  i: number | undefined,
  length: number,
  fallback: number,
): number {
  if (i === undefined) return fallback;
  if (i < 0) return Math.max(0, i + length);
  return Math.min(i, length);
}

function indexIn(
  hay: Uint8Array,
  needle: Uint8Array,
  from: number,
  to: number,
  last: boolean,
): number {
  if (from > to) return -1;
  let found = -1;
  for (let i = from; i + needle.length <= to; i++) {
    let j = 0;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) {
      found = i;
      if (!last) return i;
    }
  }
  return found;
}

/** Counters of a property run. */
export interface ModelStats {
  trials: number;
  operations: number;
  bytes: number;
}

/** Runs `trials` random scripts of operations; throws with the seed and trial on a mismatch. */
export async function runNbFileModel(
  seed: number,
  trials: number,
): Promise<ModelStats> {
  const stats = { trials: 0, operations: 0, bytes: 0 };
  for (let t = 0; t < trials; t++) {
    try {
      const [operations, bytes] = await oneTrial(
        new Prng(Prng.caseSeed(seed, t)),
      );
      stats.operations += operations;
      stats.bytes += bytes;
    } catch (error) {
      throw new Error(
        `trial ${t} of seed ${seed} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    stats.trials++;
  }
  return stats;
}

async function oneTrial(rng: Prng): Promise<[number, number]> {
  // A small alphabet makes delimiters and patterns frequent.
  const alphabet = [10, 13, 0x61, 0x62, 0x3a, 0, 0xff, rng.next() & 0xff];
  const data = new Uint8Array(rng.range(0, 3000));
  for (let i = 0; i < data.length; i++) data[i] = rng.pick(alphabet);
  const reader = new ChunkedReader(data, rng, rng.pick([1, 3, 17, 300, 5000]));
  const file = new NbFile(reader, undefined, {
    readBufferSize: rng.pick([16, 64, 1024, 16384]),
  });
  // The model: every byte not consumed yet, in order.
  let rest: Uint8Array = data;
  // Results handed out: they must never change afterwards.
  const handed: [Uint8Array, Uint8Array][] = [];
  const keep = (view: Uint8Array) => handed.push([view, view.slice()]);
  const ops = rng.range(5, 80);
  for (let k = 0; k < ops; k++) {
    const op = rng.int(13);
    const where = `op ${k} (${op})`;
    switch (op) {
      case 0: { // readline
        const limit = rng.chance(0.5) ? -1 : rng.range(0, 40);
        const delim = rng.chance(0.5) ? undefined : rng.pick(alphabet);
        const d = delim ?? 10;
        const line = await file.readline(limit, delim);
        const window = limit < 0 ? rest : rest.subarray(0, limit);
        const i = window.indexOf(d);
        const n = limit === 0
          ? 0
          : i >= 0
          ? i + 1
          : limit >= 0
          ? Math.min(limit, rest.length)
          : rest.length;
        assert.deepEqual(
          line,
          rest.slice(0, n),
          `${where} readline(${limit}, ${delim})`,
        );
        keep(line);
        rest = rest.subarray(n);
        break;
      }
      case 1: { // readlineStripend
        const limit = rng.chance(0.5) ? -1 : rng.range(0, 40);
        const delim = rng.chance(0.6) ? undefined : rng.pick(alphabet);
        const d = delim ?? 10;
        const line = await file.readlineStripend(limit, delim);
        const window = limit < 0 ? rest : rest.subarray(0, limit);
        const i = window.indexOf(d);
        let expected: Uint8Array | null;
        let n: number;
        if (limit === 0) {
          expected = null;
          n = 0;
        } else if (i >= 0) {
          const end = delim === undefined && i > 0 && rest[i - 1] === 13
            ? i - 1
            : i;
          expected = rest.slice(0, end);
          n = i + 1;
        } else if (limit >= 0 && rest.length >= limit) {
          expected = rest.slice(0, limit);
          n = limit;
        } else {
          expected = rest.length === 0 ? null : rest.slice();
          n = rest.length;
        }
        assert.deepEqual(
          line,
          expected,
          `${where} readlineStripend(${limit}, ${delim})`,
        );
        if (line !== null) keep(line);
        rest = rest.subarray(n);
        break;
      }
      case 2: { // read
        const n = rng.chance(0.1) ? -1 : rng.range(0, 120);
        const got = await file.read(n);
        const m = n < 0 ? rest.length : Math.min(n, rest.length);
        assert.deepEqual(got, rest.slice(0, m), `${where} read(${n})`);
        keep(got);
        rest = rest.subarray(m);
        break;
      }
      case 3: { // readAtMost
        const n = rng.range(1, 100);
        const got = await file.readAtMost(n);
        if (rest.length === 0) {
          assert.equal(got.length, 0, `${where} readAtMost at EOF`);
        } else {assert.ok(
            got.length >= 1 && got.length <= n,
            `${where} readAtMost(${n}) gave ${got.length}`,
          );}
        assert.deepEqual(
          got,
          rest.slice(0, got.length),
          `${where} readAtMost bytes`,
        );
        keep(got);
        rest = rest.subarray(got.length);
        break;
      }
      case 4: { // readUpto
        const n = rng.range(0, 200);
        const got = await file.readUpto(n);
        assert.equal(got, file.readBufferLength, `${where} readUpto result`);
        assert.ok(
          got >= Math.min(n, rest.length),
          `${where} readUpto(${n}) gave ${got}`,
        );
        break;
      }
      case 5: { // readMore
        const before = file.readBufferLength;
        const n = rng.range(0, 100);
        const added = await file.readMore(n);
        assert.equal(
          file.readBufferLength,
          before + added,
          `${where} readMore count`,
        );
        assert.ok(
          added >= Math.min(n, rest.length - before),
          `${where} readMore(${n}) added ${added}`,
        );
        break;
      }
      case 6: { // discard
        const n = rng.range(0, 150);
        const left = await file.discard(n);
        assert.equal(
          left,
          Math.max(0, n - rest.length),
          `${where} discard(${n})`,
        );
        rest = rest.subarray(Math.min(n, rest.length));
        break;
      }
      case 7:
      case 8: { // find / rfind over what is buffered
        const buffered = rest.subarray(0, file.readBufferLength);
        let needle: Uint8Array;
        if (buffered.length > 0 && rng.chance(0.7)) {
          const at = rng.int(buffered.length);
          needle = buffered.slice(at, at + rng.range(0, 4));
        } else {
          needle = Uint8Array.from(
            { length: rng.range(0, 3) },
            () => rng.pick(alphabet),
          );
        }
        const len = buffered.length;
        const start = rng.chance(0.5)
          ? undefined
          : rng.range(-len - 3, len + 3);
        const end = rng.chance(0.5) ? undefined : rng.range(-len - 3, len + 3);
        const from = sliceIndex(start, len, 0);
        const to = sliceIndex(end, len, len);
        const last = op === 8;
        const got = last
          ? file.rfind(needle, start, end)
          : file.find(needle, start, end);
        let expected = indexIn(buffered, needle, from, to, last);
        if (needle.length === 0) {
          expected = from <= to ? (last ? to : from) : -1;
        }
        assert.equal(
          got,
          expected,
          `${where} ${
            last ? "rfind" : "find"
          }(${needle}, ${start}, ${end}) in ${len}`,
        );
        break;
      }
      case 9: { // getString / getReadBuffer
        const len = file.readBufferLength;
        assert.ok(len <= rest.length, `${where} buffered beyond the data`);
        const start = rng.chance(0.3)
          ? undefined
          : rng.range(-len - 2, len + 2);
        const end = rng.chance(0.3) ? undefined : rng.range(-len - 2, len + 2);
        const from = sliceIndex(start, len, 0);
        const to = sliceIndex(end, len, len);
        const expected = from < to
          ? rest.subarray(from, to)
          : new Uint8Array(0);
        assert.equal(
          file.getString(start, end),
          latin1(expected),
          `${where} getString`,
        );
        break;
      }
      case 10: { // unread
        const bytes = Uint8Array.from(
          { length: rng.range(0, 12) },
          () => rng.pick(alphabet),
        );
        file.unread(bytes);
        rest = concat(bytes, rest);
        break;
      }
      case 11: { // unreadAppend: as if read right after what is buffered
        const bytes = Uint8Array.from(
          { length: rng.range(0, 12) },
          () => rng.pick(alphabet),
        );
        const len = file.readBufferLength;
        file.unreadAppend(bytes);
        rest = concat(concat(rest.subarray(0, len), bytes), rest.subarray(len));
        break;
      }
      case 12: { // a few lines by iteration
        const iterator = file[Symbol.asyncIterator]();
        const lines = rng.range(1, 3);
        for (let j = 0; j < lines; j++) {
          const next = await iterator.next();
          const i = rest.indexOf(10);
          const n = i >= 0 ? i + 1 : rest.length;
          if (n === 0) {
            assert.equal(next.done, true, `${where} iteration at EOF`);
            break;
          }
          assert.deepEqual(
            next.value,
            rest.slice(0, n),
            `${where} iterated line`,
          );
          keep(next.value!);
          rest = rest.subarray(n);
        }
        break;
      }
    }
    // The buffer is always the front of the unread bytes.
    const len = file.readBufferLength;
    assert.ok(
      len <= rest.length,
      `${where}: ${len} buffered, ${rest.length} left`,
    );
    assert.deepEqual(
      file.getReadBuffer(),
      rest.slice(0, len),
      `${where}: buffer content`,
    );
  }
  // The rest, then EOF.
  const tail = await file.read();
  assert.deepEqual(tail, rest.slice(), "the rest of the data");
  assert.equal((await file.read(1)).length, 0, "EOF after the rest");
  for (const [view, copy] of handed) {
    assert.deepEqual(
      view,
      copy,
      "a returned view changed after it was handed out",
    );
  }
  await file.close();
  return [ops, data.length];
}
