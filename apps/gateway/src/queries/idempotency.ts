import type { DbOrTx } from "@obuna/db";
import { idempotencyKeys } from "@obuna/db/schema";
import { and, eq, lte } from "drizzle-orm";

export interface IdempotencyClaim {
  scope: string;
  key: string;
  endpoint: string;
  requestHash: string;
  now: Date;
  ttlMs: number;
}

/** Claims a key for a first request; returns null when the key already exists (replay or in flight). */
export async function claimIdempotencyKey(db: DbOrTx, claim: IdempotencyClaim) {
  // An expired record no longer protects anything: drop it so the key can be used afresh.
  await db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.scope, claim.scope),
        eq(idempotencyKeys.key, claim.key),
        lte(idempotencyKeys.expiresAt, claim.now),
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
    .returning({ key: idempotencyKeys.key });
  return row ?? null;
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
  scope: string,
  key: string,
  response: { status: number; body: unknown },
) {
  await db
    .update(idempotencyKeys)
    .set({ responseStatus: response.status, responseBody: response.body })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}

export async function releaseIdempotencyKey(db: DbOrTx, scope: string, key: string) {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}
