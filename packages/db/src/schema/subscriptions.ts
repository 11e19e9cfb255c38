import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { boundCards } from "./bound-cards";
import { identityId, refId, timestamps, timestamptz } from "./columns";
import { subscriptionStatus } from "./enums";
import { plans } from "./plans";
import { users } from "./users";

/**
 * A user's premium access. `active` and `past_due` (in grace) give access; cancelling auto-renew keeps
 * the status and access until `end_date`; `canceled` (by an admin) and `expired` do not.
 * `is_active` is derived from the status by Postgres, so it can never disagree with it.
 */
export const subscriptions = pgTable(
  "subscriptions",
  {
    id: identityId(),
    userId: refId()
      .notNull()
      .references(() => users.id),
    planId: refId()
      .notNull()
      .references(() => plans.id),
    status: subscriptionStatus().notNull().default("active"),
    isActive: boolean().notNull().generatedAlwaysAs(sql`status in ('active', 'past_due')`),
    autoRenew: boolean().notNull().default(false),
    startDate: timestamptz().notNull(),
    endDate: timestamptz().notNull(),
    boundCardId: refId().references(() => boundCards.id),
    lastRenewalAttempt: timestamptz(),
    renewalAttempts: integer().notNull().default(0),
    renewalError: text(),
    /** Past-due subscriptions keep access until then. */
    graceUntil: timestamptz(),
    /** When the next renewal attempt may run (retry schedule). */
    nextRenewalAt: timestamptz(),
    /** The end_date a renewal reminder was sent for: one reminder per period. */
    reminderSentFor: timestamptz(),
    cancelledAt: timestamptz(),
    ...timestamps,
  },
  (t) => [
    // At most one live subscription per user: concurrent first payments cannot create two.
    uniqueIndex("subscriptions_one_live_per_user_key")
      .on(t.userId)
      .where(sql`status in ('active', 'past_due')`),
    // The renewals sweep: due auto-renewing subscriptions by end date.
    index("subscriptions_due_renewal_idx")
      .on(t.endDate)
      .where(sql`auto_renew and status in ('active', 'past_due')`),
    index("subscriptions_user_id_idx").on(t.userId),
    index("subscriptions_status_end_date_idx").on(t.status, t.endDate),
  ],
);
