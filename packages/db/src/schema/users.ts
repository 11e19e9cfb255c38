import { bigint, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamps, timestamptz } from "./columns";
import { userRole } from "./enums";

export const users = pgTable("users", {
  id: identityId(),
  telegramId: bigint({ mode: "number" }).notNull().unique(),
  username: text(),
  firstName: text(),
  languageCode: text(),
  role: userRole().notNull().default("user"),
  /** Set when Telegram answers 403 (the user blocked the bot): notifications stop. */
  botBlockedAt: timestamptz(),
  ...timestamps,
});
