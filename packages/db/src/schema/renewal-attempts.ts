import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, unique } from "drizzle-orm/pg-core";
import { identityId, refId, timestamps, timestamptz, tiyin } from "./columns";
import { paymentProvider, renewalAttemptStatus } from "./enums";
import { payments } from "./payments";
import { subscriptions } from "./subscriptions";

/**
 * One try to charge a saved card for one billing period. Written before ATMOS is called.
 * The unique (subscription, period, attempt number) is the real guard against double charges.
 */
export const renewalAttempts = pgTable(
  "renewal_attempts",
  {
    id: identityId(),
    subscriptionId: refId()
      .notNull()
      .references(() => subscriptions.id),
    /** The end_date being renewed: identifies the billing period. */
    periodEnd: timestamptz().notNull(),
    attemptNumber: integer().notNull(),
    status: renewalAttemptStatus().notNull().default("pending"),
    amount: tiyin().notNull(),
    provider: paymentProvider().notNull().default("atmos"),
    /** The provider's transaction id, as text (ATMOS transaction_id). */
    externalId: text(),
    paymentId: refId().references(() => payments.id),
    errorCode: text(),
    errorMessage: text(),
    /** For unknown outcomes: when the janitor asks ATMOS next, and how often it asked. */
    nextCheckAt: timestamptz(),
    checkCount: integer().notNull().default(0),
    resolvedAt: timestamptz(),
    ...timestamps,
  },
  (t) => [
    unique("renewal_attempts_subscription_period_attempt_key").on(
      t.subscriptionId,
      t.periodEnd,
      t.attemptNumber,
    ),
    index("renewal_attempts_unknown_idx").on(t.nextCheckAt).where(sql`status in ('unknown', 'pending')`),
  ],
);
