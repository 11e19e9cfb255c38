import { bigint, boolean, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamptz } from "./columns";

/** Every callback ATMOS sent us, with what we answered: evidence for support and reconciliation. */
export const atmosCallbacks = pgTable(
  "atmos_callbacks",
  {
    id: identityId(),
    transactionId: bigint({ mode: "number" }),
    account: text(),
    amount: bigint({ mode: "number" }),
    signValid: boolean().notNull(),
    /** 1 accepted, 0 refused */
    replyStatus: integer().notNull(),
    replyMessage: text().notNull(),
    /** The body as received (it never contains card data). */
    body: jsonb().notNull(),
    receivedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index("atmos_callbacks_transaction_id_idx").on(t.transactionId),
    // The retention purge deletes by age.
    index("atmos_callbacks_received_at_idx").on(t.receivedAt),
  ],
);
