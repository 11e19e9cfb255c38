import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { boundCards } from "./bound-cards";
import { identityId, refId, timestamps, timestamptz, tiyin } from "./columns";
import { paymentKind, paymentProvider, paymentStatus } from "./enums";
import { paymentSessions } from "./payment-sessions";
import { subscriptions } from "./subscriptions";
import { users } from "./users";

/** Money that moved (or may have moved) at ATMOS. One row per charge, keyed by an idempotency key. */
export const payments = pgTable(
  "payments",
  {
    id: identityId(),
    userId: refId()
      .notNull()
      .references(() => users.id),
    subscriptionId: refId().references(() => subscriptions.id),
    sessionId: uuid().references(() => paymentSessions.id),
    boundCardId: refId().references(() => boundCards.id),
    provider: paymentProvider().notNull().default("atmos"),
    kind: paymentKind().notNull(),
    status: paymentStatus().notNull().default("pending"),
    /** tiyin */
    amount: tiyin().notNull(),
    /** The provider's transaction id, as text (ATMOS transaction_id). */
    externalId: text(),
    /** The provider's settlement id of a success, as text (ATMOS success_trans_id). */
    settlementId: text(),
    cardMasked: text(),
    errorCode: text(),
    errorMessage: text(),
    /** `session:<uuid>` for first payments, `renewal:<sub>:<period>:<attempt>` for renewals. */
    idempotencyKey: text().notNull().unique(),
    /** The access period this payment bought: taken back on refund. */
    periodStart: timestamptz(),
    periodEnd: timestamptz(),
    reversedAt: timestamptz(),
    reverseReason: text(),
    /**
     * Fiscal receipt link (ATMOS `ofd_url`) of a successful charge; null on a success = a charge
     * without a receipt, shown in admin and in reconcile.
     */
    receiptUrl: text(),
    /** The public offer (OFFER_VERSION) the payer accepted; renewals carry the first payment's. */
    offerVersion: text(),
    /** When it was accepted (the checkout's pay request; a renewal copies the first payment's). */
    offerAcceptedAt: timestamptz(),
    /**
     * Telegram Stars: Telegram's id of the charge (SuccessfulPayment.telegram_payment_charge_id), one
     * row per charge whatever update repeats it; the id `refundStarPayment` needs. Null for cards.
     */
    telegramPaymentChargeId: text().unique(),
    /** Telegram Stars: whole Stars paid (XTR). `amount` stays 0 tiyin for a Stars payment. */
    starsAmount: integer(),
    ...timestamps,
  },
  (t) => [
    index("payments_user_id_created_at_idx").on(t.userId, t.createdAt),
    index("payments_external_id_idx").on(t.externalId),
    index("payments_status_created_at_idx").on(t.status, t.createdAt),
    // Admin's "no receipt" filter and reconcile: successful charges without a fiscal receipt.
    index("payments_success_without_receipt_idx")
      .on(t.createdAt)
      .where(sql`status = 'success' and receipt_url is null`),
    // The last guard against a double grant: at most one successful payment per payment session and
    // per subscription renewal period (a renewal's period starts at the end_date it renewed).
    uniqueIndex("payments_one_success_per_session_key")
      .on(t.sessionId)
      .where(sql`status = 'success' and session_id is not null`),
    uniqueIndex("payments_one_success_per_renewal_period_key")
      .on(t.subscriptionId, t.periodStart)
      .where(sql`status = 'success' and kind = 'renewal'`),
  ],
);
