/** What every money-core transition needs besides the caller's transaction. */
export interface BillingDeps {
  /** All time decisions read this clock, never `new Date()`. */
  clock: () => Date;
}

/**
 * Who did a transition and why, for its audit row: `actor` from the credential (`admin:<id>`,
 * `tg:<telegram id>`, `bot`, `gateway`, `renewals`), never from input. `details` are written first
 * in the row's details (e.g. `{ via: "miniapp" }`), the transition's own facts after them.
 */
export interface AuditBy {
  actor: string;
  reason: string;
  details?: Record<string, unknown>;
}

/** Postgres unique violation (23505), also when wrapped by drizzle (`DrizzleQueryError.cause`). */
export function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    if ((current as { code?: unknown }).code === "23505") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
