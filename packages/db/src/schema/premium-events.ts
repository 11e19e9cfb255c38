import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { identityId, refId, timestamps, timestamptz } from "./columns";
import { subscriptions } from "./subscriptions";

/**
 * The signed events outbox (docs/integration.md "Signed events"): one row per premium state change,
 * written by the money core in the same transaction as the change. `dedupe_key` is
 * `<type>:<subscription>:<period>`, so a transition that runs twice for one period records one event.
 * `payload` is the exact JSON body every endpoint receives (frozen: a resend sends the same body).
 * The renewals worker's `events-relay` job fans an event out to the configured endpoints
 * (`fanned_out_at`), one delivery row each.
 */
export const premiumEvents = pgTable(
  "premium_events",
  {
    /** The event id in the payload (`id`): receivers dedupe on it. */
    id: uuid().primaryKey().default(sql`gen_random_uuid()`),
    type: text().notNull(),
    dedupeKey: text().notNull().unique(),
    telegramId: bigint({ mode: "number" }).notNull(),
    subscriptionId: refId()
      .notNull()
      .references(() => subscriptions.id),
    payload: jsonb().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    /** When the relay created its deliveries; null = not fanned out yet. */
    fannedOutAt: timestamptz(),
  },
  (t) => [
    index("premium_events_unfanned_idx").on(t.createdAt).where(sql`${t.fannedOutAt} is null`),
    index("premium_events_created_at_idx").on(t.createdAt),
    index("premium_events_telegram_id_idx").on(t.telegramId),
  ],
);

/** `pending` = owed (queued or waiting for a retry), `delivered` = a 2xx, `failed` = every attempt used. */
export const eventDeliveryStatus = pgEnum("event_delivery_status", ["pending", "delivered", "failed"]);

/**
 * One event owed to one endpoint (EVENTS_ENDPOINTS). Delivered by a BullMQ job
 * `evt-<id>-<generation>` with attempts and exponential backoff; an admin resend bumps `generation`
 * (a new job, same event id and body).
 */
export const premiumEventDeliveries = pgTable(
  "premium_event_deliveries",
  {
    id: identityId(),
    eventId: uuid()
      .notNull()
      .references(() => premiumEvents.id, { onDelete: "cascade" }),
    endpoint: text().notNull(),
    status: eventDeliveryStatus().notNull().default("pending"),
    /** Bumped by a manual resend: the job of an older generation does nothing. */
    generation: integer().notNull().default(1),
    /** Attempts made, every generation together. */
    attempts: integer().notNull().default(0),
    lastStatusCode: integer(),
    lastError: text(),
    lastAttemptAt: timestamptz(),
    deliveredAt: timestamptz(),
    /** When the current generation's job was handed to the queue; null = owed to the queue. */
    queuedAt: timestamptz(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("premium_event_deliveries_event_endpoint_key").on(t.eventId, t.endpoint),
    index("premium_event_deliveries_pending_idx").on(t.queuedAt).where(sql`${t.status} = 'pending'`),
    index("premium_event_deliveries_created_at_idx").on(t.createdAt),
  ],
);

/** Every HTTP attempt of a delivery: what the endpoint answered (or the error) and how long it took. */
export const premiumEventAttempts = pgTable(
  "premium_event_attempts",
  {
    id: identityId(),
    deliveryId: refId()
      .notNull()
      .references(() => premiumEventDeliveries.id, { onDelete: "cascade" }),
    generation: integer().notNull(),
    /** The endpoint's HTTP status; null = no answer (timeout, refused connection). */
    statusCode: integer(),
    error: text(),
    durationMs: integer().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [index("premium_event_attempts_delivery_idx").on(t.deliveryId, t.id)],
);
