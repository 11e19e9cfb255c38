import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { boundCards } from "./bound-cards";
import { identityId, refId, timestamps, timestamptz, tiyin } from "./columns";
import { subscriptionRail, subscriptionStatus } from "./enums";
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
    // ---- Plan price changes (docs/plans.md): plans.price is the list price of new purchases; a
    // subscriber keeps being renewed at the price they have until they were told about a new one.
    /** tiyin: what renewals charge; null = the plan's list price (pinned when an admin changes it). */
    renewalPrice: tiyin(),
    /** tiyin: a changed list price not yet in effect for this subscription. */
    newRenewalPrice: tiyin(),
    /** When the admin changed the price (the notice's identity: one notice per change). */
    newPriceSetAt: timestamptz(),
    /** When the price-change notice was recorded in the outbox; null = not told yet. */
    newPriceNoticeSentAt: timestamptz(),
    /** Renewals of periods ending at or after this (end_date >= it) charge new_renewal_price, once told. */
    newPriceFrom: timestamptz(),
    /**
     * What renews it: `card` (auto_renew with bound_card_id, charged by our renewals worker) or
     * `stars` (a Telegram Stars subscription Telegram charges itself every 30 days). A stars-rail
     * subscription is never charged by card: paying with Stars turns card auto-renew off.
     */
    rail: subscriptionRail().notNull().default("card"),
    /** Stars rail: the first recurring charge's telegram_payment_charge_id (editUserStarSubscription's id). */
    starsChargeId: text(),
    /** Stars rail: when Telegram's subscription period ends (SuccessfulPayment.subscription_expiration_date). */
    starsExpiresAt: timestamptz(),
    /** Stars rail: the user (or an admin) canceled the Stars subscription at Telegram; access runs to end_date. */
    starsCanceledAt: timestamptz(),
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
    // The price-change notice job: subscriptions with a new price they were not told about yet.
    index("subscriptions_price_notice_due_idx")
      .on(t.id)
      .where(sql`new_renewal_price is not null and new_price_notice_sent_at is null`),
  ],
);
