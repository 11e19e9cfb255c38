import { sql } from "drizzle-orm";
import { boolean, char, index, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { refId, timestamps, timestamptz, tiyin } from "./columns";
import { cardType, paymentProvider, paymentSessionStatus } from "./enums";
import { plans } from "./plans";
import { users } from "./users";

/** One payment link: pending → processing → completed | failed | expired. Valid 30 minutes. */
export const paymentSessions = pgTable(
  "payment_sessions",
  {
    id: uuid().primaryKey().default(sql`gen_random_uuid()`),
    userId: refId()
      .notNull()
      .references(() => users.id),
    planId: refId()
      .notNull()
      .references(() => plans.id),
    status: paymentSessionStatus().notNull().default("pending"),
    /** The payment provider that holds this session's transaction. */
    provider: paymentProvider().notNull().default("atmos"),
    /** The provider's transaction id, as text (ATMOS: the merchant/pay/create transaction id). */
    externalId: text().unique(),
    /**
     * The reference we sent the provider for this session (ATMOS: the `account`, echoed back as
     * invoice/account in callbacks).
     */
    providerReference: text().unique(),
    /** tiyin, copied from the plan when the session is created. */
    amount: tiyin().notNull(),
    autoRenew: boolean().notNull().default(false),
    cardMasked: text(),
    /** The provider's card-binding id, as text (ATMOS: partner/bind-card/init transaction id). */
    bindingId: text(),
    /**
     * The card this flow bound at ATMOS (bind-card/confirm, or the card ATMOS already held: ERR-133),
     * by the provider's card reference as text (ATMOS card id). It is NOT a card of the user yet: the
     * success that charged exactly this card (the transaction's card id) creates or re-activates the
     * user's `bound_cards` row, in the same database transaction. Replaced by each new card entry
     * (pre-apply).
     */
    bindCardRef: text(),
    /**
     * That card's ATMOS token, AES-256-GCM encrypted with CARD_TOKEN_KEY; moved to `bound_cards` on
     * success, or erased (and the card removed at ATMOS unless a live card row shares it) by the
     * renewals maintenance a day after the session ended without using it. Never logged.
     */
    bindCardToken: text(),
    /** The bound card as ATMOS masks it (986009******1840). */
    bindCardMasked: text(),
    /** YYMM */
    bindCardExpiry: char({ length: 4 }),
    bindCardType: cardType(),
    otpAttempts: integer().notNull().default(0),
    otpSentAt: timestamptz(),
    /**
     * A card entry (pre-apply) holds the session until then: a second card entry or an apply is
     * refused meanwhile, so the card ATMOS last pre-applied is the card this session recorded.
     * Cleared when the entry ends; the time bounds a crashed request.
     */
    cardEntryUntil: timestamptz(),
    expiresAt: timestamptz().notNull(),
    completedAt: timestamptz(),
    failureReason: text(),
    /** The public offer version the payer accepted with the pay request (copied to the payment). */
    offerVersion: text(),
    offerAcceptedAt: timestamptz(),
    /**
     * Telegram Stars: the Stars price (XTR) of the invoice link made for this session, copied from the
     * plan when the link is made; the pre-checkout check compares Telegram's total_amount with it.
     */
    starsAmount: integer(),
    /** Telegram Stars: the invoice is a native 30-day Stars subscription (subscription_period 2592000). */
    starsSubscription: boolean(),
    ...timestamps,
  },
  (t) => [
    index("payment_sessions_status_expires_at_idx").on(t.status, t.expiresAt),
    index("payment_sessions_user_id_idx").on(t.userId, t.createdAt),
    /** The token-erasure job's work list: sessions still holding a pending binding's token. */
    index("payment_sessions_bind_card_token_idx").on(t.updatedAt).where(sql`${t.bindCardToken} is not null`),
  ],
);
