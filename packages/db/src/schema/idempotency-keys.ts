import { index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns";

/** Stored first responses of mutating gateway calls, replayed for a reused Idempotency-Key. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    /** Who may reuse the key (e.g. `tg:12345` or `internal`) — keys are never shared across callers. */
    scope: text().notNull(),
    key: text().notNull(),
    /** METHOD + path */
    endpoint: text().notNull(),
    /**
     * HMAC-SHA256 (IDEMPOTENCY_HASH_KEY) of the endpoint and the body with card numbers masked: a reused
     * key with another body is refused. Never a plain hash: it could be brute-forced back to the body.
     */
    requestHash: text().notNull(),
    /** null while the first request is still running. */
    responseStatus: integer(),
    responseBody: jsonb(),
    createdAt: timestamptz().notNull().defaultNow(),
    expiresAt: timestamptz().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.key] }),
    // The gateway's maintenance purges expired records oldest first.
    index("idempotency_keys_expires_at_idx").on(t.expiresAt),
  ],
);
