// Byte helpers shared by the body readers, the responses and the WebSocket code.

const LF = 0x0a;
const CR = 0x0d;

/** Joins `parts` (of `size` bytes in all) into one new array. */
export function concat(parts: Uint8Array[], size: number): Uint8Array {
  const result = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/**
 * A line as `readlineStripend` returns it: `null` for the empty read at the
 * end, else without its `\n` or `\r\n` (a line cut short keeps its bytes).
 */
export function stripLineEnd(line: Uint8Array): Uint8Array | null {
  const n = line.length;
  if (n === 0) return null;
  if (line[n - 1] !== LF) return line;
  return line.subarray(0, n >= 2 && line[n - 2] === CR ? n - 2 : n - 1);
}

/** @throws {TypeError} when `n` is not an integer. */
export function checkInteger(n: number, what: string): void {
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`${what} must be an integer, got ${String(n)}`);
  }
}
