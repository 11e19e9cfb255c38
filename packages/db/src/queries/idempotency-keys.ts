import { and, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { idempotencyKeys } from "../schema/index";

/**
 * Deletes expired Idempotency-Key records, at most `limit` per call (oldest first, by
 * `idempotency_keys_expires_at_idx`); returns how many went. Run by the renewals worker's
 * `idempotency-purge` job so the table does not grow without bound.
 */
export async function purgeExpiredIdempotencyKeys(db: DbOrTx, now: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ key: string }>(sql`
    delete from ${idempotencyKeys} where (scope, key) in (
      select scope, key from ${idempotencyKeys}
      where ${idempotencyKeys.expiresAt} <= ${now.toISOString()}::timestamptz
      order by ${idempotencyKeys.expiresAt}
      limit ${limit}
      for update skip locked
    ) returning key`);
  return rows.length;
}

// ------------------------------------------------------------------ the Idempotency-Key middleware

export interface IdempotencyClaim {
  scope: string;
  key: string;
  endpoint: string;
  requestHash: string;
  now: Date;
  ttlMs: number;
  /** A claim still without a response after this long was abandoned (its process died mid-request). */
  abandonedAfterMs: number;
}

/** The claim a request holds: completing or releasing it touches that claim only, never a successor's. */
export interface IdempotencyClaimed {
  scope: string;
  key: string;
  claimedAt: Date;
}

/**
 * Claims a key for a first request; returns null when the key is held (stored answer or in flight).
 * An expired record no longer protects anything, and a claim that never got an answer within
 * `abandonedAfterMs` belongs to a request whose process died: both are dropped so the key can be
 * claimed afresh (the endpoints behind the keys are themselves safe to run again).
 */
export async function claimIdempotencyKey(
  db: DbOrTx,
  claim: IdempotencyClaim,
): Promise<IdempotencyClaimed | null> {
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.scope, claim.scope),
        eq(idempotencyKeys.key, claim.key),
        or(
          lte(idempotencyKeys.expiresAt, claim.now),
          and(
            isNull(idempotencyKeys.responseStatus),
            lte(idempotencyKeys.createdAt, new Date(claim.now.getTime() - claim.abandonedAfterMs)),
          ),
        ),
      ),
    );
  const [row] = await db
    .insert(idempotencyKeys)
    .values({
      scope: claim.scope,
      key: claim.key,
      endpoint: claim.endpoint,
      requestHash: claim.requestHash,
      createdAt: claim.now,
      expiresAt: new Date(claim.now.getTime() + claim.ttlMs),
    })
    .onConflictDoNothing()
    .returning({
      scope: idempotencyKeys.scope,
      key: idempotencyKeys.key,
      claimedAt: idempotencyKeys.createdAt,
    });
  return row ?? null;
}

function sameClaim(claim: IdempotencyClaimed) {
  return and(
    eq(idempotencyKeys.scope, claim.scope),
    eq(idempotencyKeys.key, claim.key),
    eq(idempotencyKeys.createdAt, claim.claimedAt),
  );
}

export async function getIdempotencyRecord(db: DbOrTx, scope: string, key: string) {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .limit(1);
  return row ?? null;
}

export async function completeIdempotencyKey(
  db: DbOrTx,
  claim: IdempotencyClaimed,
  response: { status: number; body: unknown },
) {
  await db
    .update(idempotencyKeys)
    .set({ responseStatus: response.status, responseBody: response.body })
    .where(sameClaim(claim));
}

export async function releaseIdempotencyKey(db: DbOrTx, claim: IdempotencyClaimed) {
  await db.delete(idempotencyKeys).where(sameClaim(claim));
}
