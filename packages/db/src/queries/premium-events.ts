import { and, asc, count, desc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Database, DbOrTx } from "../client";
import { preparedInsert, preparedQuery } from "../prepared";
import {
  plans,
  premiumEventAttempts,
  premiumEventDeliveries,
  premiumEvents,
  subscriptions,
  users,
} from "../schema/index";
import type { PremiumEvent, PremiumEventAttempt, PremiumEventDelivery, Subscription } from "../types";

/** A subscription as a premium event describes it: the row, its plan's slug, its user's Telegram id. */
export async function getSubscriptionForEvent(db: DbOrTx, subscriptionId: number) {
  const [row] = await getSubscriptionForEventQuery(db, { subscriptionId });
  return (row ?? null) as { subscription: Subscription; planSlug: string; telegramId: number } | null;
}

// Every payment and renewal records an event: built once, prepared (src/prepared.ts).
const getSubscriptionForEventQuery = preparedQuery("get_subscription_for_event", (db) =>
  db
    .select({ subscription: subscriptions, planSlug: plans.slug, telegramId: users.telegramId })
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .innerJoin(users, eq(users.id, subscriptions.userId))
    .where(eq(subscriptions.id, sql.placeholder("subscriptionId")))
    .prepare("get_subscription_for_event"),
);

const insertPremiumEventQuery = preparedInsert<{ id: string }[]>("insert_premium_event", premiumEvents, (q) =>
  q.onConflictDoNothing({ target: premiumEvents.dedupeKey }).returning({ id: premiumEvents.id }),
);

/**
 * Records a premium event in the outbox, in the transaction of the change. The same `dedupeKey`
 * recorded twice keeps the first row: returns its id only when this call wrote it.
 */
export async function insertPremiumEvent(
  tx: DbOrTx,
  row: {
    id: string;
    type: string;
    dedupeKey: string;
    telegramId: number;
    subscriptionId: number;
    payload: unknown;
    createdAt: Date;
  },
): Promise<string | null> {
  const inserted = await insertPremiumEventQuery(tx, row);
  return inserted[0]?.id ?? null;
}

/**
 * Creates the deliveries of events not fanned out yet: one per endpoint (none when no endpoint is
 * configured: the event stays in the log). Rows are locked `skip locked`, so two relays never fan
 * out one event twice (and the (event, endpoint) key would refuse it anyway). Returns how many events.
 */
export async function fanOutPremiumEvents(
  db: Database,
  options: { endpoints: readonly string[]; now: Date; limit?: number },
): Promise<number> {
  return db.transaction(async (tx) => {
    const events = await tx
      .select({ id: premiumEvents.id })
      .from(premiumEvents)
      .where(isNull(premiumEvents.fannedOutAt))
      .orderBy(asc(premiumEvents.createdAt))
      .limit(options.limit ?? 500)
      .for("update", { skipLocked: true });
    if (events.length === 0) return 0;
    const deliveries = events.flatMap((event) =>
      options.endpoints.map((endpoint) => ({
        eventId: event.id,
        endpoint,
        createdAt: options.now,
        updatedAt: options.now,
      })),
    );
    if (deliveries.length > 0)
      await tx.insert(premiumEventDeliveries).values(deliveries).onConflictDoNothing();
    await tx
      .update(premiumEvents)
      .set({ fannedOutAt: options.now })
      .where(
        inArray(
          premiumEvents.id,
          events.map((e) => e.id),
        ),
      );
    return events.length;
  });
}

export interface OwedDelivery {
  id: number;
  generation: number;
}

/**
 * Hands owed deliveries to the queue: pending ones never queued, or queued longer than
 * `requeueAfterMs` ago (their job may be gone: Redis lost its data). `enqueue` must be idempotent per
 * (id, generation) (a deterministic BullMQ job id is: a job still waiting or retrying is not added
 * twice). A row is marked only after `enqueue` resolved; the first refusal stops the batch.
 */
export async function relayOwedDeliveries(
  db: Database,
  enqueue: (deliveries: OwedDelivery[]) => Promise<unknown>,
  options: { now: Date; requeueAfterMs: number; limit?: number },
): Promise<{ queued: number }> {
  return db.transaction(async (tx) => {
    const owed = await tx
      .select({ id: premiumEventDeliveries.id, generation: premiumEventDeliveries.generation })
      .from(premiumEventDeliveries)
      .where(
        and(
          eq(premiumEventDeliveries.status, "pending"),
          or(
            isNull(premiumEventDeliveries.queuedAt),
            lt(premiumEventDeliveries.queuedAt, new Date(options.now.getTime() - options.requeueAfterMs)),
          ),
        ),
      )
      .orderBy(asc(premiumEventDeliveries.id))
      .limit(options.limit ?? 500)
      .for("update", { skipLocked: true });
    if (owed.length === 0) return { queued: 0 };
    await enqueue(owed);
    await tx
      .update(premiumEventDeliveries)
      .set({ queuedAt: options.now })
      .where(
        inArray(
          premiumEventDeliveries.id,
          owed.map((d) => d.id),
        ),
      );
    return { queued: owed.length };
  });
}

/** A delivery with its event's body, for sending. */
export async function getDeliveryToSend(db: DbOrTx, deliveryId: number) {
  const [row] = await db
    .select({ delivery: premiumEventDeliveries, event: premiumEvents })
    .from(premiumEventDeliveries)
    .innerJoin(premiumEvents, eq(premiumEvents.id, premiumEventDeliveries.eventId))
    .where(eq(premiumEventDeliveries.id, deliveryId));
  return (row ?? null) as { delivery: PremiumEventDelivery; event: PremiumEvent } | null;
}

export type AttemptVerdict = "delivered" | "retry" | "failed";

/**
 * Logs one HTTP attempt and moves its delivery: `delivered` (2xx), `failed` (the last attempt), or
 * still `pending` (a retry follows). One transaction. An attempt of a generation a resend replaced is
 * logged but moves nothing. Returns whether the delivery moved.
 */
export async function recordDeliveryAttempt(
  db: Database,
  input: {
    deliveryId: number;
    generation: number;
    statusCode: number | null;
    error: string | null;
    durationMs: number;
    verdict: AttemptVerdict;
    now: Date;
  },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [delivery] = await tx
      .select()
      .from(premiumEventDeliveries)
      .where(eq(premiumEventDeliveries.id, input.deliveryId))
      .for("update");
    if (!delivery) return false;
    await tx.insert(premiumEventAttempts).values({
      deliveryId: delivery.id,
      generation: input.generation,
      statusCode: input.statusCode,
      error: input.error?.slice(0, 500) ?? null,
      durationMs: input.durationMs,
      createdAt: input.now,
    });
    const current = delivery.generation === input.generation && delivery.status === "pending";
    await tx
      .update(premiumEventDeliveries)
      .set({
        attempts: sql`${premiumEventDeliveries.attempts} + 1`,
        lastStatusCode: input.statusCode,
        lastError: input.error?.slice(0, 500) ?? null,
        lastAttemptAt: input.now,
        ...(current && input.verdict === "delivered"
          ? { status: "delivered" as const, deliveredAt: input.now }
          : {}),
        ...(current && input.verdict === "failed" ? { status: "failed" as const } : {}),
        updatedAt: input.now,
      })
      .where(eq(premiumEventDeliveries.id, delivery.id));
    return current;
  });
}

/** A delivery locked for an admin resend. */
export async function lockEventDelivery(tx: DbOrTx, deliveryId: number) {
  const [row] = await tx
    .select()
    .from(premiumEventDeliveries)
    .where(eq(premiumEventDeliveries.id, deliveryId))
    .for("update");
  return row ?? null;
}

/** Resend: a new generation, pending and owed to the queue (the relay hands it over). */
export async function markDeliveryForResend(tx: DbOrTx, deliveryId: number, now: Date) {
  const [row] = await tx
    .update(premiumEventDeliveries)
    .set({
      status: "pending",
      generation: sql`${premiumEventDeliveries.generation} + 1`,
      queuedAt: null,
      deliveredAt: null,
      updatedAt: now,
    })
    .where(eq(premiumEventDeliveries.id, deliveryId))
    .returning();
  return row!;
}

export interface EventDeliveryFilters {
  status?: PremiumEventDelivery["status"];
  type?: string;
  telegramId?: number;
  eventId?: string;
  deliveryId?: number;
  limit: number;
  offset: number;
}

/** The delivery log, newest first, each with its event and its latest attempts (admin). */
export async function listEventDeliveries(db: DbOrTx, filters: EventDeliveryFilters) {
  const conditions: SQL[] = [];
  if (filters.status) conditions.push(eq(premiumEventDeliveries.status, filters.status));
  if (filters.type) conditions.push(eq(premiumEvents.type, filters.type));
  if (filters.telegramId !== undefined) conditions.push(eq(premiumEvents.telegramId, filters.telegramId));
  if (filters.eventId) conditions.push(eq(premiumEvents.id, filters.eventId));
  if (filters.deliveryId !== undefined) conditions.push(eq(premiumEventDeliveries.id, filters.deliveryId));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const [rows, [total]] = await Promise.all([
    db
      .select({ delivery: premiumEventDeliveries, event: premiumEvents })
      .from(premiumEventDeliveries)
      .innerJoin(premiumEvents, eq(premiumEvents.id, premiumEventDeliveries.eventId))
      .where(where)
      .orderBy(desc(premiumEventDeliveries.id))
      .limit(filters.limit)
      .offset(filters.offset),
    db
      .select({ n: count() })
      .from(premiumEventDeliveries)
      .innerJoin(premiumEvents, eq(premiumEvents.id, premiumEventDeliveries.eventId))
      .where(where),
  ]);
  const ids = rows.map((r) => r.delivery.id);
  const attempts: PremiumEventAttempt[] =
    ids.length === 0
      ? []
      : await db
          .select()
          .from(premiumEventAttempts)
          .where(inArray(premiumEventAttempts.deliveryId, ids))
          .orderBy(desc(premiumEventAttempts.id));
  const byDelivery = new Map<number, PremiumEventAttempt[]>();
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.deliveryId) ?? [];
    if (list.length < 10) list.push(attempt);
    byDelivery.set(attempt.deliveryId, list);
  }
  return {
    total: Number(total?.n ?? 0),
    items: rows.map((r) => ({ ...r, attempts: byDelivery.get(r.delivery.id) ?? [] })),
  };
}

/** Events older than `before` whose deliveries are all done (or that had none), at most `limit`. */
export async function purgeDeliveredPremiumEvents(db: DbOrTx, before: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    delete from ${premiumEvents} where ${premiumEvents.id} in (
      select e.id from ${premiumEvents} e
      where e.created_at < ${before.toISOString()}::timestamptz
        and e.fanned_out_at is not null
        and not exists (
          select 1 from ${premiumEventDeliveries} d where d.event_id = e.id and d.status = 'pending'
        )
      order by e.created_at
      limit ${limit}
      for update skip locked
    ) returning ${premiumEvents.id}`);
  return rows.length;
}
