import { bigint, integer, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamps, timestamptz } from "./columns";
import { userLanguage, userRole } from "./enums";

export const users = pgTable("users", {
  id: identityId(),
  telegramId: bigint({ mode: "number" }).notNull().unique(),
  username: text(),
  firstName: text(),
  /** Telegram's `language_code` as last reported (a hint only). */
  languageCode: text(),
  /**
   * The language the user chose in the bot: wins over `language_code` in the bot, its messages and the
   * Mini App. Null until they choose.
   */
  language: userLanguage(),
  role: userRole().notNull().default("user"),
  /** Set when Telegram answers 403 (the user blocked the bot): notifications stop. */
  botBlockedAt: timestamptz(),
  /**
   * The payment-link limit (RATE_LIMIT_LINKS_PER_USER_PER_HOUR), kept with the user it limits: when the
   * current one-hour window began and how many create-link calls it has seen, refused ones included.
   * Advanced by the same statement that creates the link (`createSessionForTelegramUser`).
   */
  linksWindowStart: timestamptz(),
  linksInWindow: integer().notNull().default(0),
  ...timestamps,
});
