// Header field names, interned from their bytes: the parser recognises a
// name it has seen before without making a string for it, and knows at once
// its environ key and whether it frames or routes the request.

import { sameBytes } from "./_strings.ts";

/** Names that the parser acts on. */
export const OTHER = 0;
export const HOST = 1;
export const EXPECT = 2;
export const CONNECTION = 3;
export const CONTENT_LENGTH = 4;
export const TRANSFER_ENCODING = 5;
export const UPGRADE = 6;

const KINDS: Record<string, number> = {
  "host": HOST,
  "expect": EXPECT,
  "connection": CONNECTION,
  "content-length": CONTENT_LENGTH,
  "transfer-encoding": TRANSFER_ENCODING,
  "upgrade": UPGRADE,
};

/** One spelling of a header field name and what it means to the server. */
export class FieldName {
  /** The name as sent (case kept). */
  readonly name: string;
  /**
   * The environ key (`HTTP_USER_AGENT`, `CONTENT_TYPE`), or null for names
   * left out: with `_` (so `X_A` cannot pose as `X-A`) and `Proxy` (httpoxy).
   */
  readonly key: string | null;
  /** {@linkcode HOST}, {@linkcode CONTENT_LENGTH}, ... or {@linkcode OTHER}. */
  readonly kind: number;

  constructor(name: string) {
    this.name = name;
    const lower = name.toLowerCase();
    this.kind = KINDS[lower] ?? OTHER;
    if (name.includes("_") || lower === "proxy") this.key = null;
    else if (lower === "content-type") this.key = "CONTENT_TYPE";
    else if (lower === "content-length") this.key = "CONTENT_LENGTH";
    else this.key = "HTTP_" + name.toUpperCase().replaceAll("-", "_");
  }
}

// Interned names by a hash of their bytes; bounded so that random names
// cannot grow it without end (later ones are simply not interned).
const table = new Map<number, FieldName>();
const MAX_ENTRIES = 2048;

/** The field name at `buf[start, end)` (a token, so ASCII). */
export function fieldName(
  buf: Uint8Array,
  start: number,
  end: number,
): FieldName {
  let hash = end - start;
  for (let i = start; i < end; i++) hash = (hash * 31 + buf[i]) | 0;
  hash &= 0x3fffffff;
  const known = table.get(hash);
  if (known !== undefined && sameBytes(known.name, buf, start, end)) {
    return known;
  }
  const name = String.fromCharCode.apply(
    null,
    buf.subarray(start, end) as unknown as number[],
  );
  const field = new FieldName(name);
  if (known === undefined && table.size < MAX_ENTRIES) table.set(hash, field);
  return field;
}
