import { bigint, boolean, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamptz } from "./columns";
import { paymentProvider } from "./enums";

/** Every callback a payment provider sent us, with what we answered: evidence for support and reconciliation. */
export const providerCallbacks = pgTable(
  "provider_callbacks",
  {
    id: identityId(),
    provider: paymentProvider().notNull().default("atmos"),
    /** The provider's transaction id, as text (ATMOS transaction_id). */
    externalId: text(),
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
    index("provider_callbacks_external_id_idx").on(t.externalId),
    // The retention purge deletes by age.
    index("provider_callbacks_received_at_idx").on(t.receivedAt),
  ],
);
