import type { DbOrTx } from "@obuna/db";
import { schema } from "@obuna/db";
import { and, eq, isNotNull } from "drizzle-orm";

/**
 * The few reads the notification worker needs beyond `@obuna/db/queries`, kept in the bot so the
 * shared package is not changed for them. Never selects a card token.
 */
const { payments, boundCards, users } = schema;

export async function getPaymentForNotification(db: DbOrTx, paymentId: number) {
  const [row] = await db
    .select({
      id: payments.id,
      userId: payments.userId,
      subscriptionId: payments.subscriptionId,
      amount: payments.amount,
      starsAmount: payments.starsAmount,
      status: payments.status,
      cardMasked: payments.cardMasked,
      receiptUrl: payments.receiptUrl,
    })
    .from(payments)
    .where(eq(payments.id, paymentId))
    .limit(1);
  return row ?? null;
}

export async function getBoundCardSummary(db: DbOrTx, boundCardId: number) {
  const [row] = await db
    .select({
      id: boundCards.id,
      userId: boundCards.userId,
      panMasked: boundCards.panMasked,
      expiry: boundCards.expiry,
      isActive: boundCards.isActive,
    })
    .from(boundCards)
    .where(eq(boundCards.id, boundCardId))
    .limit(1);
  return row ?? null;
}

/** A user who blocked the bot and writes to it again has unblocked it: notifications resume. */
export async function clearBotBlocked(db: DbOrTx, telegramId: number): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ botBlockedAt: null })
    .where(and(eq(users.telegramId, telegramId), isNotNull(users.botBlockedAt)))
    .returning({ id: users.id });
  return rows.length > 0;
}
