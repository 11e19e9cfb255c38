import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns";

/**
 * Live admin sessions of the gateway admin API. A session token is valid only while its row exists:
 * sign-out deletes the row, so a copied cookie or token stops working at once. The token's HMAC
 * signature (key derived from ADMIN_TOKEN) is still checked first, so a row alone grants nothing.
 */
export const adminSessions = pgTable(
  "admin_sessions",
  {
    id: uuid().primaryKey(),
    /** The authenticated identity: `admin` (ADMIN_TOKEN) or `tg:<id>` (ADMIN_TELEGRAM_IDS). */
    actor: text().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    expiresAt: timestamptz().notNull(),
  },
  (t) => [index("admin_sessions_expires_at_idx").on(t.expiresAt)],
);
