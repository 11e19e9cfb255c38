import { and, asc, count, desc, eq, gt, gte, inArray, isNotNull, isNull, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { preparedUpdateById } from "../prepared";
import { boundCards, plans, subscriptions, users } from "../schema/index";
import type { NewSubscription } from "../types";
import { type ReportRow, TASHKENT_TZ } from "./calendar";
import { type ListPage, pageTotal, searchCondition, userRef } from "./list-page";

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
  await updateSubscriptionQuery(tx, subscriptionId, set);
}

// Every payment and renewal extends one: prepared per set of columns (src/prepared.ts).
const updateSubscriptionQuery = preparedUpdateById("update_subscription", subscriptions, subscriptions.id);

/**
 * Live auto-renewing subscriptions with a pending new price whose holder was not told yet, by id
 * after `after` (keyset pages), with their plan's period: the price-notice job's candidates.
 */
export async function listPriceNoticeCandidates(db: DbOrTx, page: { after: number; limit: number }) {
  return db
    .select({
      id: subscriptions.id,
      endDate: subscriptions.endDate,
      newPriceSetAt: subscriptions.newPriceSetAt,
      durationDays: plans.durationDays,
    })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(
      and(
        isNotNull(subscriptions.newRenewalPrice),
        isNull(subscriptions.newPriceNoticeSentAt),
        inArray(subscriptions.status, ["active", "past_due"]),
        eq(subscriptions.autoRenew, true),
        gt(subscriptions.id, page.after),
      ),
    )
    .orderBy(asc(subscriptions.id))
    .limit(page.limit);
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

// ------------------------------------------------------------------ admin reads and figures

/**
 * Subscriptions (filter by status, auto-renew, ids; search incl. the card mask), newest first, with
 * owner, plan and card mask, and the total.
 */
export async function listSubscriptions(
  db: DbOrTx,
  params: ListPage & {
    status?: (typeof subscriptions.status.enumValues)[number];
    autoRenew?: boolean;
    search?: string;
    ids?: number[];
  },
) {
  const where = and(
    params.status ? eq(subscriptions.status, params.status) : undefined,
    params.autoRenew === undefined ? undefined : eq(subscriptions.autoRenew, params.autoRenew),
    params.ids ? inArray(subscriptions.id, params.ids) : undefined,
    searchCondition(params.search, boundCards.panMasked),
  );
  const rows = await db
    .select({
      subscription: subscriptions,
      user: userRef,
      planSlug: plans.slug,
      planPrice: plans.price,
      cardMasked: boundCards.panMasked,
    })
    .from(subscriptions)
    .innerJoin(users, eq(users.id, subscriptions.userId))
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .leftJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
    .where(where)
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(
    db
      .select({ n: count() })
      .from(subscriptions)
      .innerJoin(users, eq(users.id, subscriptions.userId))
      .leftJoin(boundCards, eq(boundCards.id, subscriptions.boundCardId))
      .where(where),
  );
  return { rows, total: n };
}

/** How many subscriptions are live (`active` or `past_due`), and their MRR in tiyin. */
export async function liveSubscriptionFigures(db: DbOrTx) {
  const [live] = await db
    .select({
      active: count(),
      // The price each will renew at (its own after a plan price change, docs/plans.md; else the
      // plan's) normalised to 30 days, only for subscriptions that will renew.
      mrr: sql<string>`coalesce(sum(case when ${subscriptions.autoRenew} then round(coalesce(${subscriptions.renewalPrice}, ${plans.price})::numeric * 30 / ${plans.durationDays}) else 0 end), 0)`,
    })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(inArray(subscriptions.status, ["active", "past_due"]));
  return { active: Number(live?.active ?? 0), mrr: Number(live?.mrr ?? 0) };
}

/**
 * The instant a subscription's access ends, as SQL over the row aliased `s`: end_date, grace_until
 * for past_due, cancelled_at for subscriptions an admin canceled.
 */
const ACCESS_END = sql.raw(`(case s.status
  when 'canceled' then least(s.end_date, coalesce(s.cancelled_at, s.end_date))
  when 'past_due' then greatest(s.end_date, coalesce(s.grace_until, s.end_date))
  else s.end_date end)`);
/** A subscription's rail: the provider of its first payment (all ATMOS today). */
const SUB_RAIL = sql.raw(
  `coalesce((select p1.provider::text from payments p1 where p1.subscription_id = s.id order by p1.id limit 1), 'atmos')`,
);

/**
 * Subscriptions whose access covers the end of each Tashkent day from `firstDay` (now for today):
 * start_date <= t < access end, counted by day, rail and plan slug.
 */
export async function activeSubscriptionsByDay(db: DbOrTx, window: { firstDay: string; now: Date }) {
  const nowIso = window.now.toISOString();
  return (await db.execute(sql`
    with days as (
      select d::date as day,
             least(${nowIso}::timestamptz, ((d::date + 1)::timestamp at time zone ${TASHKENT_TZ})) as at
      from generate_series(${window.firstDay}::date, (${nowIso}::timestamptz at time zone ${TASHKENT_TZ})::date, interval '1 day') d
    ), subs as (
      select s.start_date, ${ACCESS_END} as access_end, ${SUB_RAIL} as rail, pl.slug as plan_slug
      from subscriptions s join plans pl on pl.id = s.plan_id
    )
    select to_char(days.day, 'YYYY-MM-DD') as date, subs.rail, subs.plan_slug, count(*)::int as count
    from days join subs on subs.start_date <= days.at and subs.access_end > days.at
    group by 1, 2, 3 order by 1, 2, 3
  `)) as unknown as ReportRow[];
}

/**
 * Churn since `from`: of the subscriptions active at `from`, how many (`base`) and how many of them
 * are not active at `now` (`churned`), by rail and plan slug.
 */
export async function subscriptionChurn(db: DbOrTx, window: { from: Date; now: Date }) {
  const from = window.from.toISOString();
  const nowIso = window.now.toISOString();
  return (await db.execute(sql`
      with subs as (
        select s.start_date, ${ACCESS_END} as access_end, ${SUB_RAIL} as rail, pl.slug as plan_slug
        from subscriptions s join plans pl on pl.id = s.plan_id
      )
      select rail, plan_slug, count(*)::int as base,
             count(*) filter (where access_end <= ${nowIso}::timestamptz)::int as churned
      from subs
      where start_date <= ${from}::timestamptz and access_end > ${from}::timestamptz
      group by 1, 2 order by 1, 2
    `)) as unknown as ReportRow[];
}

/**
 * Per plan: its live subscriptions (`active` or `past_due`), and how many of them renew at a price of
 * their own that differs from the plan's list price.
 */
export async function countLiveSubscriptionsByPlan(db: DbOrTx, planIds: number[]) {
  return db
    .select({
      planId: subscriptions.planId,
      live: sql<number>`count(*)::int`,
      other: sql<number>`count(*) filter (where ${subscriptions.renewalPrice} is not null and ${subscriptions.renewalPrice} <> ${plans.price})::int`,
    })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(and(inArray(subscriptions.planId, planIds), inArray(subscriptions.status, ["active", "past_due"])))
    .groupBy(subscriptions.planId);
}
