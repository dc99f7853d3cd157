// The Date header (RFC 9110 §5.6.7 IMF-fixdate), formatted at most once per
// second however many responses are sent in it.

let cachedSecond = -1;
let cachedLine = "";

/** `Date: <IMF-fixdate>\r\n` for the current second. */
export function dateLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedLine = `Date: ${httpDate(now)}\r\n`;
  }
  return cachedLine;
}

/** Formats a time (ms since the epoch) as an HTTP date, e.g. `Fri, 13 Feb 2009 23:31:30 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
