// The Date header (RFC 9110 §5.6.7 IMF-fixdate). Responses do not read the
// clock: each server's sweeper refreshes the cached line several times a
// second, so a second's worth of responses share one formatted date.

let cachedLine = "";

/** `Date: <IMF-fixdate>\r\n`, as last refreshed. */
export function dateLine(): string {
  return cachedLine === "" ? refreshDate() : cachedLine;
}

/** Formats the current time into the cached Date line (servers call it on a timer). */
export function refreshDate(): string {
  cachedLine = `Date: ${httpDate(Date.now())}\r\n`;
  return cachedLine;
}

/** Formats a time (ms since the epoch) as an HTTP date, e.g. `Fri, 13 Feb 2009 23:31:30 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
