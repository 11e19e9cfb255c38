import { and, count, desc, eq } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { preparedInsert } from "../prepared";
import { auditLog } from "../schema/index";
import { type ListPage, pageTotal } from "./list-page";

/** Writes one audit row (in the caller's transaction); returns its id. */
export async function insertAuditEntry(tx: DbOrTx, values: typeof auditLog.$inferInsert): Promise<number> {
  const [row] = await insertAuditEntryQuery(tx, values);
  if (!row) throw new Error("audit row was not written");
  return row.id;
}

// Every money change writes one: prepared per set of columns (src/prepared.ts).
const insertAuditEntryQuery = preparedInsert<{ id: number }[]>("insert_audit_entry", auditLog, (q) =>
  q.returning({ id: auditLog.id }),
);

/** The audit log, newest first (filter by entity, actor, action), with the total. */
export async function listAuditLog(
  db: DbOrTx,
  params: ListPage & { entityType?: string; entityId?: string; actor?: string; action?: string },
) {
  const where = and(
    params.entityType ? eq(auditLog.entityType, params.entityType) : undefined,
    params.entityId ? eq(auditLog.entityId, params.entityId) : undefined,
    params.actor ? eq(auditLog.actor, params.actor) : undefined,
    params.action ? eq(auditLog.action, params.action) : undefined,
  );
  const rows = await db
    .select()
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(db.select({ n: count() }).from(auditLog).where(where));
  return { rows, total: n };
}
