import { sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { providerCallbacks } from "../schema/index";

/** Deletes up to `limit` stored provider callbacks received before `before`, oldest first; returns how many. */
export async function purgeOldCallbacks(db: DbOrTx, before: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: number }>(sql`
    delete from ${providerCallbacks} where ${providerCallbacks.id} in (
      select ${providerCallbacks.id} from ${providerCallbacks}
      where ${providerCallbacks.receivedAt} < ${before.toISOString()}::timestamptz
      order by ${providerCallbacks.receivedAt}
      limit ${limit}
      for update skip locked
    ) returning ${providerCallbacks.id}`);
  return rows.length;
}
