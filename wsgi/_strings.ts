// Latin1 strings made from bytes of the read buffer, interned: the same
// bytes (a Host value, a User-Agent, a path) arriving again give the string
// made the first time, without decoding or allocating.

// Interned strings by a hash of their bytes; bounded in count and length so
// that varying input cannot grow it without end (it is then just not used).
const table = new Map<number, string>();
const MAX_ENTRIES = 4096;
const MAX_LENGTH = 256;

/**
 * The latin1 string of `buf[start, end)`; `hash` must be
 * {@linkcode hashBytes} of those bytes (callers compute it while scanning).
 */
export function internBytes(
  buf: Uint8Array,
  start: number,
  end: number,
  hash: number,
): string {
  const length = end - start;
  if (length === 0) return "";
  if (length > MAX_LENGTH) return latin1(buf, start, end);
  const key = (hash ^ length) & 0x3fffffff;
  const known = table.get(key);
  if (known !== undefined && sameBytes(known, buf, start, end)) return known;
  const text = latin1(buf, start, end);
  if (known === undefined && table.size < MAX_ENTRIES) table.set(key, text);
  return text;
}

/** The hash {@linkcode internBytes} expects. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let hash = 0;
  for (let i = start; i < end; i++) hash = (hash * 31 + buf[i]) | 0;
  return hash;
}

/** Decodes bytes as latin1 (PEP 3333), one char per byte. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 8192) {
    return String.fromCharCode.apply(
      null,
      buf.subarray(start, end) as unknown as number[],
    );
  }
  let s = "";
  for (let i = start; i < end; i += 8192) {
    const stop = end - i > 8192 ? i + 8192 : end;
    s += String.fromCharCode.apply(
      null,
      buf.subarray(i, stop) as unknown as number[],
    );
  }
  return s;
}

/** True when the latin1 string `text` spells the bytes `buf[start, end)`. */
export function sameBytes(
  text: string,
  buf: Uint8Array,
  start: number,
  end: number,
): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== buf[start + i]) return false;
  }
  return true;
}
