import { and, desc, eq, gte, inArray, isNotNull, isNull, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { subscriptions } from "../schema/index";
import type { NewSubscription } from "../types";

/** The user's subscription that gives access now (`active` or `past_due`), if any. */
export async function getLiveSubscription(db: DbOrTx, userId: number) {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.status, ["active", "past_due"])))
    .limit(1);
  return row ?? null;
}

/** The live subscription, locked for update inside a transaction. */
export async function lockLiveSubscription(tx: DbOrTx, userId: number) {
  const [row] = await tx
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.status, ["active", "past_due"])))
    .limit(1)
    .for("update");
  return row ?? null;
}

/** The most recent subscription of any status (for showing history to a lapsed user). */
export async function getLatestSubscription(db: DbOrTx, userId: number) {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.userId, userId))
    .orderBy(desc(subscriptions.endDate))
    .limit(1);
  return row ?? null;
}

export async function getSubscriptionById(db: DbOrTx, subscriptionId: number) {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId)).limit(1);
  return row ?? null;
}

/** New end date when a period of `durationDays` is bought: added after any time the user has left. */
export function extendedEndDate(
  currentEnd: Date | null,
  now: Date,
  durationDays: number,
): { start: Date; end: Date } {
  const start = currentEnd && currentEnd > now ? currentEnd : now;
  return { start, end: new Date(start.getTime() + durationDays * 86_400_000) };
}

/**
 * What the renewal of the period ending at `sub.endDate` charges (tiyin), docs/plans.md: the new
 * price of a plan price change only once the subscriber was sent its notice and the period ends at
 * or after `newPriceFrom`; otherwise the subscription's own price, or the plan's list price when it
 * has none (it never saw another one).
 */
export function renewalAmount(
  sub: {
    endDate: Date;
    renewalPrice: number | null;
    newRenewalPrice: number | null;
    newPriceNoticeSentAt: Date | null;
    newPriceFrom: Date | null;
  },
  plan: { price: number },
): number {
  if (
    sub.newRenewalPrice !== null &&
    sub.newPriceNoticeSentAt !== null &&
    sub.newPriceFrom !== null &&
    sub.endDate.getTime() >= sub.newPriceFrom.getTime()
  ) {
    return sub.newRenewalPrice;
  }
  return sub.renewalPrice ?? plan.price;
}

/** Inserts a subscription; returns its id. The one-live-per-user index refuses a second live one. */
export async function insertSubscription(tx: DbOrTx, values: NewSubscription) {
  const [row] = await tx.insert(subscriptions).values(values).returning({ id: subscriptions.id });
  return row!.id;
}

/** Writes the given columns of one subscription (the money core decides which). */
export async function updateSubscription(
  tx: DbOrTx,
  subscriptionId: number,
  set: Partial<Omit<NewSubscription, "id" | "userId" | "createdAt">>,
) {
  await tx.update(subscriptions).set(set).where(eq(subscriptions.id, subscriptionId));
}

/**
 * A plan's list price changes (docs/plans.md), on its live subscriptions: a new price they were told
 * about and that is in effect becomes their own; the others keep what they pay (the old list price
 * pinned); those already at the new price drop any pending change; the rest get the new price as
 * pending, to be told before the first renewal at it. Returns how many rows each step changed.
 */
export async function repriceLiveSubscriptions(
  tx: DbOrTx,
  params: { planId: number; listPrice: number; newPrice: number; now: Date },
) {
  const onPlan = and(
    eq(subscriptions.planId, params.planId),
    inArray(subscriptions.status, ["active", "past_due"]),
  );
  const settled = await tx
    .update(subscriptions)
    .set({ renewalPrice: sql`${subscriptions.newRenewalPrice}`, updatedAt: params.now })
    .where(
      and(
        onPlan,
        isNotNull(subscriptions.newRenewalPrice),
        isNotNull(subscriptions.newPriceNoticeSentAt),
        isNotNull(subscriptions.newPriceFrom),
        gte(subscriptions.endDate, subscriptions.newPriceFrom),
      ),
    )
    .returning({ id: subscriptions.id });
  await tx
    .update(subscriptions)
    .set({ renewalPrice: params.listPrice, updatedAt: params.now })
    .where(and(onPlan, isNull(subscriptions.renewalPrice)));
  const clearPending = {
    newRenewalPrice: null,
    newPriceSetAt: null,
    newPriceNoticeSentAt: null,
    newPriceFrom: null,
  };
  const backToList = await tx
    .update(subscriptions)
    .set({ ...clearPending, renewalPrice: null, updatedAt: params.now })
    .where(and(onPlan, eq(subscriptions.renewalPrice, params.newPrice)))
    .returning({ id: subscriptions.id });
  const toNotify = await tx
    .update(subscriptions)
    .set({
      ...clearPending,
      newRenewalPrice: params.newPrice,
      newPriceSetAt: params.now,
      updatedAt: params.now,
    })
    .where(and(onPlan, ne(subscriptions.renewalPrice, params.newPrice)))
    .returning({ id: subscriptions.id });
  return { settled: settled.length, backToList: backToList.length, toNotify: toNotify.length };
}
