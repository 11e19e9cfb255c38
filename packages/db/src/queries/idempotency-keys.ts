import { sql } from "drizzle-orm";
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
