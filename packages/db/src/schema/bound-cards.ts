import { sql } from "drizzle-orm";
import { boolean, char, check, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { identityId, refId, timestamps, timestamptz } from "./columns";
import { boundCardStatus, cardType, paymentProvider } from "./enums";
import { users } from "./users";

/** A card bound at ATMOS for renewals. Never holds a full card number. */
export const boundCards = pgTable(
  "bound_cards",
  {
    id: identityId(),
    userId: refId()
      .notNull()
      .references(() => users.id),
    /**
     * ATMOS card token, AES-256-GCM encrypted with CARD_TOKEN_KEY (see src/crypto.ts). Never logged.
     * Null once erased: a card removed or parked for over a day is removed at ATMOS and its token
     * dropped by the renewals maintenance (data we no longer need is data we cannot leak).
     */
    cardToken: text(),
    /** The provider that holds this binding. */
    provider: paymentProvider().notNull().default("atmos"),
    /** The provider's card reference, as text (ATMOS card_id). */
    cardRef: text().notNull(),
    /** 986009******1840 */
    panMasked: text().notNull(),
    /** YYMM */
    expiry: char({ length: 4 }).notNull(),
    cardType: cardType().notNull(),
    /**
     * The card's state, the one truth for its transitions (@obuna/billing cards.ts). `is_active`,
     * `removed_at` and `card_token` follow it (check constraints), for the readers that filter on them.
     */
    status: boundCardStatus().notNull().default("active"),
    /** status = 'active' */
    isActive: boolean().notNull().default(true),
    lastUsedAt: timestamptz(),
    /**
     * Set when the card was removed (status removed or erased; at ATMOS too unless another live
     * holder shares the ATMOS card); such a card is never charged again.
     */
    removedAt: timestamptz(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("bound_cards_user_id_provider_card_ref_key").on(t.userId, t.provider, t.cardRef),
    index("bound_cards_user_id_active_idx").on(t.userId, t.isActive),
    /**
     * ATMOS keeps one binding per card for the merchant, whoever typed it: a removal at ATMOS first
     * asks whether another live row shares the card reference.
     */
    index("bound_cards_provider_card_ref_idx").on(t.provider, t.cardRef),
    /** The old flags follow the status: a writer that sets only one of them is refused. */
    check("bound_cards_is_active_status_check", sql`${t.isActive} = (${t.status} = 'active')`),
    check(
      "bound_cards_removed_at_status_check",
      sql`(${t.removedAt} is not null) = (${t.status} in ('removed', 'erased'))`,
    ),
    check("bound_cards_card_token_status_check", sql`(${t.cardToken} is null) = (${t.status} = 'erased')`),
  ],
);
