import { boolean, integer, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamps, tiyin } from "./columns";

export const plans = pgTable("plans", {
  id: identityId(),
  slug: text().notNull().unique(),
  nameUz: text().notNull(),
  nameRu: text().notNull(),
  nameEn: text().notNull(),
  /** tiyin */
  price: tiyin().notNull(),
  durationDays: integer().notNull(),
  isActive: boolean().notNull().default(true),
  sortOrder: integer().notNull().default(0),
  ...timestamps,
});
