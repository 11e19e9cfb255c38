/**
 * ATMOS callback signature (atmos-api.md §7):
 * sign = hex(HASH(store_id + transaction_id + (invoice | account) + amount + api_key)),
 * plain concatenation of the raw received strings, md5 by default, sha256 selectable.
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
