import { createHmac } from "node:crypto";
import { maskCardLikeDigits } from "@obuna/contracts/card";
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  getIdempotencyRecord,
  releaseIdempotencyKey,
} from "@obuna/db/queries";
import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../context";
import { ApiError } from "../errors";
import { callerScope } from "./auth";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A claim with no answer after this long is taken over by the next request with the key: its
 * process died mid-request (no request runs this long: ATMOS calls time out after 30 s, three tries).
 * Without it a crash would answer IDEMPOTENCY_IN_PROGRESS to every retry for 24 h.
 */
export const IDEMPOTENCY_ABANDONED_AFTER_MS = 10 * 60 * 1000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Answers given before the endpoint ran: nothing happened, so the key is not used up. */
const NOT_EXECUTED_CODES = new Set(["VALIDATION_ERROR", "INVALID_JSON", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"]);

/**
 * What `idempotency_keys.request_hash` stores: HMAC-SHA256 keyed with IDEMPOTENCY_HASH_KEY over the
 * endpoint and the body, with every card-number-like run of digits masked first (`986009******4364`).
 * The key stops a database copy from being brute-forced back to a body (a plain sha256 of a pre-apply
 * body fell to about 10^5 middle digits × 156 expiries next to the masked PAN in the stored response);
 * the masking keeps the card number out of the hash input even if the key leaks with the database.
 * The price: two bodies that differ only in the hidden middle digits count as the same request, so a
 * reused key replays the first answer instead of 422 (the Mini App takes a new key per card anyway).
 */
export function idempotencyRequestHash(hashKey: string, endpoint: string, body: string): string {
  const masked = maskCardLikeDigits(body);
  return createHmac("sha256", hashKey).update(endpoint).update("\n").update(masked).digest("hex");
}

/**
 * `Idempotency-Key` on a mutating endpoint: the first response (2xx/4xx) is stored for 24 h and
 * replayed for the same caller + key; the same key with another body → 422; while the first
 * request still runs → 409 (a claim left without an answer for 10 min is taken over). Not stored, so the client may retry with the same key: a 5xx, a
 * provisional answer (apply → `processing`; apply is idempotent per session anyway), and a request
 * refused before the endpoint ran (malformed body or fields), as Stripe does — fixing the body and
 * retrying with the same key then works.
 * Runs after authentication (the scope is the caller identity). Only a keyed hash of the body, card
 * numbers masked, is stored (`idempotencyRequestHash`).
 */
export const idempotency = createMiddleware<HonoEnv>(async (c, next) => {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return next();
  if (!KEY_PATTERN.test(key)) {
    throw new ApiError("VALIDATION_ERROR", "Idempotency-Key must be 1-255 printable characters", {
      field: "Idempotency-Key",
    });
  }
  const { db, clock, config } = c.get("deps");
  const scope = callerScope(c.get("caller"));
  const endpoint = `${c.req.method} ${c.req.path}`;
  const body = await c.req.text();
  const requestHash = idempotencyRequestHash(config.idempotencyHashKey, endpoint, body);

  const claimed = await claimIdempotencyKey(db, {
    scope,
    key,
    endpoint,
    requestHash,
    now: clock(),
    ttlMs: IDEMPOTENCY_TTL_MS,
    abandonedAfterMs: IDEMPOTENCY_ABANDONED_AFTER_MS,
  });
  if (!claimed) {
    const record = await getIdempotencyRecord(db, scope, key);
    if (!record) throw new ApiError("IDEMPOTENCY_IN_PROGRESS", "Retry this request in a moment");
    if (record.requestHash !== requestHash) {
      throw new ApiError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request");
    }
    if (record.responseStatus === null) {
      throw new ApiError(
        "IDEMPOTENCY_IN_PROGRESS",
        "A request with this Idempotency-Key is still being processed",
      );
    }
    c.header("idempotent-replayed", "true");
    return c.json(record.responseBody as object, record.responseStatus as 200);
  }

  try {
    await next();
  } catch (error) {
    await releaseIdempotencyKey(db, claimed);
    throw error;
  }
  // Errors thrown by the handler were already turned into a response by onError at this point.
  const status = c.res.status;
  if (status >= 500 || c.get("idempotencyProvisional")) {
    await releaseIdempotencyKey(db, claimed);
    return;
  }
  let stored: unknown = null;
  try {
    stored = await c.res.clone().json();
  } catch {
    stored = null;
  }
  const errorCode = (stored as { error?: { code?: unknown } } | null)?.error?.code;
  if (typeof errorCode === "string" && NOT_EXECUTED_CODES.has(errorCode)) {
    await releaseIdempotencyKey(db, claimed);
    return;
  }
  await completeIdempotencyKey(db, claimed, { status, body: stored });
});
