import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { refId, timestamps, timestamptz, tiyin } from "./columns";
import { paymentSessionStatus } from "./enums";
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
    /** ATMOS merchant transaction id (merchant/pay/create). */
    transactionId: bigint({ mode: "number" }).unique(),
    /** The `account` we sent to ATMOS for this session; echoed back as invoice/account in callbacks. */
    atmosAccount: text().unique(),
    /** tiyin, copied from the plan when the session is created. */
    amount: tiyin().notNull(),
    autoRenew: boolean().notNull().default(false),
    cardMasked: text(),
    /** ATMOS partner/bind-card/init transaction id when the card is being bound for renewals. */
    bindTransactionId: bigint({ mode: "number" }),
    otpAttempts: integer().notNull().default(0),
    otpSentAt: timestamptz(),
    expiresAt: timestamptz().notNull(),
    completedAt: timestamptz(),
    failureReason: text(),
    ...timestamps,
  },
  (t) => [
    index("payment_sessions_status_expires_at_idx").on(t.status, t.expiresAt),
    index("payment_sessions_user_id_idx").on(t.userId, t.createdAt),
  ],
);
