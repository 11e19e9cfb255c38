import { z } from "zod";

/**
 * Queue names, job names and payload schemas, defined once for producers and consumers.
 * Payloads carry ids only: never card numbers, card tokens or OTPs.
 * Validate at enqueue (`schema.parse`) and again in the processor before any side effect.
 */

export const QUEUES = {
  notifications: "notifications",
  renewals: "renewals",
  /** Signed premium events to the EVENTS_ENDPOINTS (one `event-delivery` job per event × endpoint). */
  events: "events",
} as const;

const id = z.number().int().positive();

export const NotificationJobSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("payment_succeeded"), userId: id, paymentId: id, subscriptionId: id }),
  z.object({ kind: z.literal("renewal_succeeded"), userId: id, paymentId: id, subscriptionId: id }),
  /** A renewal charge already sent when the user turned auto-renew off or removed the card: honoured. */
  z.object({
    kind: z.literal("renewal_charged_after_cancel"),
    userId: id,
    paymentId: id,
    subscriptionId: id,
  }),
  z.object({
    kind: z.literal("renewal_failed"),
    userId: id,
    subscriptionId: id,
    /** A hard decline (expired/blocked card) needs a new card; a soft one will be retried. */
    hardDecline: z.boolean(),
    /** When the next automatic attempt is planned (ISO), if any. */
    nextAttemptAt: z.string().datetime().nullable(),
    errorKind: z.string().max(64).nullable(),
  }),
  z.object({
    kind: z.literal("renewal_reminder"),
    userId: id,
    subscriptionId: id,
    chargeAt: z.string().datetime(),
  }),
  z.object({ kind: z.literal("subscription_expired"), userId: id, subscriptionId: id }),
  z.object({ kind: z.literal("card_expiring"), userId: id, boundCardId: id, subscriptionId: id.optional() }),
  // Money changes made by an operator in admin: each one tells the user what happened (never the
  // operator's internal reason). Dates are the state the action left, so a later change cannot
  // rewrite what this message says.
  /** A payment was refunded (ATMOS reverse). */
  z.object({
    kind: z.literal("payment_refunded"),
    userId: id,
    paymentId: id,
    subscriptionId: id.nullable(),
    /** The subscription's end date after the refund took the period back (ISO), if it had one. */
    endDate: z.string().datetime().nullable(),
    /** The refund ended access. */
    accessEnded: z.boolean(),
  }),
  /** An operator ended the subscription now: no access, no renewals. */
  z.object({ kind: z.literal("subscription_canceled_by_admin"), userId: id, subscriptionId: id }),
  /** An operator added days to a live subscription. */
  z.object({
    kind: z.literal("subscription_extended"),
    userId: id,
    subscriptionId: id,
    days: z.number().int().positive(),
    endDate: z.string().datetime(),
  }),
  /** An operator deactivated (or removed) a saved card: renewals no longer use it. */
  z.object({ kind: z.literal("card_deactivated"), userId: id, boundCardId: id }),
  // ---- i16-admin: plan price changes
  /**
   * A plan's price changed: this subscription renews at `newAmount` (tiyin) instead of `oldAmount`
   * from the charge on `effectiveAt` (ISO) on; sent PRICE_CHANGE_NOTICE_DAYS before that charge.
   */
  z.object({
    kind: z.literal("price_change_notice"),
    userId: id,
    subscriptionId: id,
    oldAmount: z.number().int().nonnegative(),
    newAmount: z.number().int().nonnegative(),
    effectiveAt: z.string().datetime(),
  }),
  // ---- end i16-admin
  z.object({
    kind: z.literal("admin_alert"),
    alert: z.enum(["failed_payments", "unknown_outcomes", "reconciliation", "other"]),
    text: z.string().max(3500),
  }),
]);
export type NotificationJob = z.infer<typeof NotificationJobSchema>;
export type NotificationKind = NotificationJob["kind"];

/**
 * A deterministic job id per notification, so a retried producer never notifies twice.
 * BullMQ job ids must not contain ':' and must not be all digits.
 */
export function notificationJobId(job: NotificationJob, discriminator: string | number): string {
  const who = "userId" in job ? job.userId : "admin";
  return `ntf-${job.kind}-${who}-${String(discriminator).replace(/:/g, "_")}`;
}

/**
 * Options of every notification job, whoever queues it (gateway, renewals, the outbox relay).
 * Completed jobs stay 8 days so re-adding a job id (an outbox relay after a lost acknowledgement)
 * is a no-op rather than a second message; failed ones 30 days for inspection.
 */
export const NOTIFICATION_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: { age: 8 * 86_400, count: 100_000 },
  removeOnFail: { age: 30 * 86_400, count: 10_000 },
} as const;

export const RenewalChargeJobSchema = z.object({
  subscriptionId: id,
  /** The end_date being renewed (ISO): the billing period this charge pays for. */
  periodEnd: z.string().datetime(),
});
export type RenewalChargeJob = z.infer<typeof RenewalChargeJobSchema>;

/** A user pressed "retry now" after a failed renewal (bot recovery button). */
export const RenewalRetryNowJobSchema = z.object({
  subscriptionId: id,
  requestedByTelegramId: id,
});
export type RenewalRetryNowJob = z.infer<typeof RenewalRetryNowJobSchema>;

/**
 * Job names on the `renewals` queue. The periodic ones are also their job scheduler ids: the renewals
 * worker upserts one scheduler each, so each runs once per interval in the whole cluster
 * (apps/renewals/src/queues/periodic-jobs.ts).
 */
export const RENEWAL_JOBS = {
  charge: "renewal-charge",
  retryNow: "renewal-retry-now",
  // ---- periodic (one job scheduler each)
  /** Finds due subscriptions and enqueues one charge job each. */
  sweep: "renewals-sweep",
  /** Unknown charge outcomes and dead workers' attempts. */
  janitor: "renewals-janitor",
  /** Price-change notices owed to subscribers of a repriced plan (docs/plans.md). */
  priceNotices: "renewals-price-notices",
  /** Notifications still owed in the outbox (Redis refused them at commit time): the one periodic relay. */
  outboxRelay: "outbox-relay",
  /** Subscriptions past their end or grace, and payment sessions past their lifetime. */
  expiry: "expiry",
  /** Renewal reminders and card-expiring nudges. */
  reminders: "reminders",
  /** Tokens of removed/parked cards and unused session bindings, a day after. */
  cardTokenErasure: "card-token-erasure",
  /** Expired Idempotency-Key records. */
  idempotencyPurge: "idempotency-purge",
  /** Relayed notification-outbox rows and stored ATMOS callbacks past their retention. */
  recordsPurge: "records-purge",
  /** Failed payments over the threshold, outcomes unknown for over an hour. */
  adminAlerts: "admin-alerts",
  /** Premium events: fanned out to the endpoints, owed deliveries handed to the `events` queue. */
  eventsRelay: "events-relay",
} as const;

/** Job names on the `events` queue. */
export const EVENT_JOBS = {
  delivery: "event-delivery",
} as const;

/** One signed POST of one premium event to one endpoint; `generation` is bumped by an admin resend. */
export const EventDeliveryJobSchema = z.object({
  deliveryId: id,
  generation: z.number().int().positive(),
});
export type EventDeliveryJob = z.infer<typeof EventDeliveryJobSchema>;

/** `evt-<delivery>-<generation>`: the relay re-adding a job still waiting or retrying adds none. */
export function eventDeliveryJobId(job: EventDeliveryJob): string {
  return `evt-${job.deliveryId}-${job.generation}`;
}

export function renewalChargeJobId(job: RenewalChargeJob, attemptNumber = 1): string {
  return `renewal-${job.subscriptionId}-${Date.parse(job.periodEnd)}-${attemptNumber}`;
}
