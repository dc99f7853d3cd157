// The opening handshake's keys and header helpers (RFC 6455 section 4).

import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The `Sec-WebSocket-Accept` value for a client's key (RFC 6455 4.2.2). */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** True when `key` is the base64 form of exactly 16 bytes. */
export function isValidKey(key: string | undefined): key is string {
  return key !== undefined && /^[A-Za-z0-9+/]{22}==$/.test(key);
}

/** A fresh random client key. */
export function newClientKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** True when a comma-separated header value lists `token` (any case). */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  return value.split(",").some((part) => part.trim().toLowerCase() === wanted);
}

/** The elements of a comma-separated header value, trimmed, empty ones left out. */
export function splitTokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(",").map((part) => part.trim()).filter((part) =>
    part !== ""
  );
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True for an HTTP token (RFC 9110 5.6.2): header names, subprotocols. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/** True for a header value that cannot break the head (no CR, LF or NUL). */
export function isSafeHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}
