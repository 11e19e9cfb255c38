import { randomUUID } from "node:crypto";
import { and, eq, gt, lt } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { adminSessions } from "../schema/index";

/**
 * The server side of admin sessions (table admin_sessions): a signed session token is accepted only
 * while its row exists, so signing out (deleting the row) ends it everywhere at once.
 */

/** Records a new session; expired rows are purged on the way. */
export async function insertAdminSession(
  db: DbOrTx,
  session: { actor: string; expiresAt: Date },
  now: Date,
): Promise<string> {
  const id = randomUUID();
  await db.delete(adminSessions).where(lt(adminSessions.expiresAt, now));
  await db
    .insert(adminSessions)
    .values({ id, actor: session.actor, expiresAt: session.expiresAt, createdAt: now });
  return id;
}

/** The actor of a live session, or null when it was ended, expired or never existed. */
export async function findLiveAdminSession(db: DbOrTx, id: string, now: Date): Promise<string | null> {
  const [row] = await db
    .select({ actor: adminSessions.actor })
    .from(adminSessions)
    .where(and(eq(adminSessions.id, id), gt(adminSessions.expiresAt, now)))
    .limit(1);
  return row?.actor ?? null;
}

/** Ends a session; true when it was still live. */
export async function deleteAdminSession(db: DbOrTx, id: string): Promise<boolean> {
  const deleted = await db
    .delete(adminSessions)
    .where(eq(adminSessions.id, id))
    .returning({ id: adminSessions.id });
  return deleted.length > 0;
}
