import { sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { atmosCallbacks } from "../schema/index";

/** Deletes up to `limit` stored ATMOS callbacks received before `before`, oldest first; returns how many. */
export async function purgeOldCallbacks(db: DbOrTx, before: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: number }>(sql`
    delete from ${atmosCallbacks} where ${atmosCallbacks.id} in (
      select ${atmosCallbacks.id} from ${atmosCallbacks}
      where ${atmosCallbacks.receivedAt} < ${before.toISOString()}::timestamptz
      order by ${atmosCallbacks.receivedAt}
      limit ${limit}
      for update skip locked
    ) returning ${atmosCallbacks.id}`);
  return rows.length;
}

/** Records one received callback with our reply (every authentic one; forged ones are only counted). */
export async function recordCallback(db: DbOrTx, values: typeof atmosCallbacks.$inferInsert) {
  await db.insert(atmosCallbacks).values(values);
}
