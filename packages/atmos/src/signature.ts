/**
 * ATMOS callback signature (atmos-api.md §7):
 * sign = hex(HASH(store_id + transaction_id + (invoice | account) + amount + api_key)),
 * plain concatenation of the raw received strings, md5 by default, sha256 selectable.
 * "Raw" means as received: a JSON number is joined as its own text (`5000000.0` stays `5000000.0`),
 * which `JSON.parse` loses, so `receivedCallbackValues` reads the values from the body text.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type CallbackHash = "md5" | "sha256";

export interface CallbackSignFields {
  store_id: string | number;
  transaction_id: string | number;
  /** `invoice` or `account` (same value: the account passed to create). */
  invoice?: string | number | null;
  account?: string | number | null;
  amount: string | number;
}

function raw(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

/** Computes the lowercase hex sign of a callback body (uses `account` when both fields are given). */
export function signCallback(fields: CallbackSignFields, apiKey: string, hash: CallbackHash = "md5"): string {
  const reference = fields.account ?? fields.invoice;
  return createHash(hash)
    .update(
      raw(fields.store_id) + raw(fields.transaction_id) + raw(reference) + raw(fields.amount) + apiKey,
      "utf8",
    )
    .digest("hex");
}

function safeEqualHex(expected: string, received: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(received.toLowerCase(), "utf8");
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * Checks the `sign` of a received callback body over the raw received values (never re-formatted).
 * Accepts a body that carries `invoice`, `account` or both (either one may be the signed one).
 * Constant-time comparison. Returns false for a missing or malformed field.
 */
export function verifyCallbackSignature(body: unknown, apiKey: string, hash: CallbackHash = "md5"): boolean {
  if (typeof body !== "object" || body === null || apiKey.length === 0) return false;
  const fields = body as Record<string, unknown>;
  const sign = fields.sign;
  if (typeof sign !== "string" || sign.length === 0) return false;
  const scalar = (v: unknown) => typeof v === "string" || typeof v === "number";
  if (!scalar(fields.store_id) || !scalar(fields.transaction_id) || !scalar(fields.amount)) return false;
  const references = [fields.account, fields.invoice].filter(scalar) as Array<string | number>;
  if (references.length === 0) return false;
  let ok = false;
  for (const reference of references) {
    const expected = createHash(hash)
      .update(
        raw(fields.store_id) + raw(fields.transaction_id) + raw(reference) + raw(fields.amount) + apiKey,
        "utf8",
      )
      .digest("hex");
    // evaluate every candidate (no early exit) to keep the timing independent of which one matched
    ok = safeEqualHex(expected, sign) || ok;
  }
  return ok;
}

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Escapes and control characters are checked by JSON.parse on the decoded key/value.
const STRING_TOKEN = /"(?:[^"\\]|\\.)*"/y;
const LITERAL_TOKEN = /true|false|null/y;

/**
 * The top-level scalar values of a JSON object body exactly as received: strings decoded, numbers
 * as their own text (never re-formatted through a JS number). Nested values are skipped. Returns
 * null for anything that is not a well-formed JSON object.
 */
export function receivedCallbackValues(text: string): Record<string, string> | null {
  try {
    return scanTopLevel(text);
  } catch {
    return null;
  }
}

function scanTopLevel(text: string): Record<string, string> | null {
  let at = 0;
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const token = (pattern: RegExp): string | null => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) return null;
    at = pattern.lastIndex;
    return match[0];
  };
  /** Skips one value (any depth); returns its raw text for a scalar, "" for an object/array, null if malformed. */
  const value = (): string | null => {
    space();
    const c = text[at];
    if (c === '"') return token(STRING_TOKEN);
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      at++;
      space();
      if (text[at] === close) {
        at++;
        return "";
      }
      for (;;) {
        if (c === "{") {
          space();
          if (token(STRING_TOKEN) === null) return null;
          space();
          if (text[at++] !== ":") return null;
        }
        if (value() === null) return null;
        space();
        const next = text[at++];
        if (next === close) return "";
        if (next !== ",") return null;
      }
    }
    return token(NUMBER_TOKEN) ?? token(LITERAL_TOKEN);
  };
  space();
  if (text[at++] !== "{") return null;
  const out: Record<string, string> = Object.create(null);
  space();
  if (text[at] === "}") return at + 1 === text.trimEnd().length ? out : null;
  for (;;) {
    space();
    const key = token(STRING_TOKEN);
    if (key === null) return null;
    space();
    if (text[at++] !== ":") return null;
    space();
    const isString = text[at] === '"';
    const raw = value();
    if (raw === null) return null;
    const name = JSON.parse(key) as string;
    if (isString) out[name] = JSON.parse(raw) as string;
    else if (raw !== "" && raw !== "null" && raw !== "true" && raw !== "false") out[name] = raw;
    else delete out[name];
    space();
    const next = text[at++];
    if (next === "}") break;
    if (next !== ",") return null;
  }
  space();
  return at === text.length ? out : null;
}
