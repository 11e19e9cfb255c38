import { desc, eq } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { payments, plans, subscriptions } from "../schema/index";

/** A user's payments, newest first, with the plan they paid for. */
export async function listPaymentsByUser(db: DbOrTx, userId: number, limit = 20) {
  return db
    .select({
      id: payments.id,
      kind: payments.kind,
      status: payments.status,
      amount: payments.amount,
      cardMasked: payments.cardMasked,
      receiptUrl: payments.receiptUrl,
      createdAt: payments.createdAt,
      planSlug: plans.slug,
    })
    .from(payments)
    .leftJoin(subscriptions, eq(subscriptions.id, payments.subscriptionId))
    .leftJoin(plans, eq(plans.id, subscriptions.planId))
    .where(eq(payments.userId, userId))
    .orderBy(desc(payments.createdAt), desc(payments.id))
    .limit(limit);
}

export async function getPaymentByIdempotencyKey(db: DbOrTx, key: string) {
  const [row] = await db.select().from(payments).where(eq(payments.idempotencyKey, key)).limit(1);
  return row ?? null;
}
