/** An empty byte array, shared (never written to). */
export const EMPTY: Uint8Array = new Uint8Array(0);

const encoder = new TextEncoder();

/** Data to write: bytes as they are, a string as UTF-8. */
export function toBytes(data: Uint8Array | string, what = "data"): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(
    `${what} must be a Uint8Array or a string, got ${describe(data)}`,
  );
}

/**
 * A byte pattern to search for: bytes as they are, a string as a byte string
 * (latin1, one byte per char code <= 255), like a delimiter.
 */
export function toPattern(sub: Uint8Array | string): Uint8Array {
  if (sub instanceof Uint8Array) return sub;
  if (typeof sub !== "string") {
    throw new TypeError(
      `pattern must be a Uint8Array or a string, got ${describe(sub)}`,
    );
  }
  const bytes = new Uint8Array(sub.length);
  for (let i = 0; i < sub.length; i++) {
    const code = sub.charCodeAt(i);
    if (code > 255) {
      throw new TypeError(
        `pattern string must be a byte string (char codes <= 255), got code ${code} at ${i}`,
      );
    }
    bytes[i] = code;
  }
  return bytes;
}

/**
 * A one-byte delimiter: a number 0-255 or a 1-char string whose char code is
 * <= 255. `undefined` gives `fallback`.
 */
export function toDelimiter(
  delim: number | string | undefined,
  fallback: number,
): number {
  if (delim === undefined) return fallback;
  if (typeof delim === "number") {
    if (Number.isInteger(delim) && delim >= 0 && delim <= 255) return delim;
  } else if (typeof delim === "string") {
    if (delim.length === 1 && delim.charCodeAt(0) <= 255) {
      return delim.charCodeAt(0);
    }
  }
  throw new TypeError(
    `delimiter must be one byte (a number 0-255 or a 1-char latin1 string), got ${
      typeof delim === "string" ? JSON.stringify(delim) : describe(delim)
    }`,
  );
}

/** Checks a size argument: an integer (negative allowed where meaningful). */
export function checkInteger(n: number, what: string): void {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${what} must be an integer, got ${describe(n)}`);
  }
}

/** Checks a size that must not be negative. */
export function checkSize(n: number, what: string): void {
  checkInteger(n, what);
  if (n < 0) throw new RangeError(`${what} must be >= 0, got ${n}`);
}

/** Python slice-index normalisation: negative from the end, clamped. */
export function sliceIndex(
  index: number | undefined,
  length: number,
  fallback: number,
): number {
  if (index === undefined || index === null) return fallback;
  checkInteger(index, "index");
  if (index < 0) {
    index += length;
    return index < 0 ? 0 : index;
  }
  return index > length ? length : index;
}

/** Index of `needle` in `hay[from, to)` (whole needle inside), or -1. */
export function indexOfBytes(
  hay: Uint8Array,
  needle: Uint8Array,
  from: number,
  to: number,
): number {
  const n = needle.length;
  if (n === 0) return from <= to ? from : -1;
  const first = needle[0];
  const last = to - n;
  for (let i = from; i <= last; i++) {
    i = hay.indexOf(first, i);
    if (i < 0 || i > last) return -1;
    let j = 1;
    while (j < n && hay[i + j] === needle[j]) j++;
    if (j === n) return i;
  }
  return -1;
}

/** Last index of `needle` in `hay[from, to)` (whole needle inside), or -1. */
export function lastIndexOfBytes(
  hay: Uint8Array,
  needle: Uint8Array,
  from: number,
  to: number,
): number {
  const n = needle.length;
  if (n === 0) return from <= to ? to : -1;
  const first = needle[0];
  for (let i = to - n; i >= from; i--) {
    i = hay.lastIndexOf(first, i);
    if (i < from) return -1;
    let j = 1;
    while (j < n && hay[i + j] === needle[j]) j++;
    if (j === n) return i;
  }
  return -1;
}

/** Bytes as a latin1 byte string (one char per byte). */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + 8192) as unknown as number[],
    );
  }
  return s;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    return (value as object).constructor?.name ?? "object";
  }
  return typeof value === "number" ? String(value) : typeof value;
}
