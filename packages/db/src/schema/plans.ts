import { sql } from "drizzle-orm";
import { boolean, check, integer, pgTable, text } from "drizzle-orm/pg-core";
import { identityId, timestamps, tiyin } from "./columns";

/**
 * Fiscal receipt placeholders: a plan is seeded (and migrated) with them and the operator MUST set the
 * real codes from the tax classifier (tasnif.soliq.uz) before taking live payments — ATMOS's OFD
 * rejects or misfiles a receipt with a made-up code. `isPlaceholderFiscal` flags plans still on them.
 */
export const PLACEHOLDER_IKPU_CODE = "00000000000000000";
export const PLACEHOLDER_PACKAGE_CODE = "0000000";
/** Uzbekistan's standard VAT rate (12 %); 0 for a merchant that is not a VAT payer. */
export const DEFAULT_VAT_PERCENT = 12;

export const plans = pgTable(
  "plans",
  {
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
    /** IKPU/MXIK code of the service (17 digits) printed on the fiscal receipt of every charge. */
    ikpuCode: text().notNull().default(PLACEHOLDER_IKPU_CODE),
    /** Package (unit) code of the same classifier entry. */
    packageCode: text().notNull().default(PLACEHOLDER_PACKAGE_CODE),
    /** VAT rate in percent on the receipt (0..100). */
    vatPercent: integer().notNull().default(DEFAULT_VAT_PERCENT),
    /**
     * Price in Telegram Stars (XTR, whole Stars) of one period bought with Stars; null = not sold for
     * Stars. A 30-day plan is sold as a native Stars subscription, which Telegram caps at 10 000 Stars.
     */
    starsPrice: integer(),
    ...timestamps,
  },
  (t) => [
    check("plans_ikpu_code_format", sql`${t.ikpuCode} ~ '^[0-9]{17}$'`),
    check("plans_package_code_format", sql`${t.packageCode} ~ '^[0-9]{1,20}$'`),
    check("plans_vat_percent_range", sql`${t.vatPercent} between 0 and 100`),
    check("plans_stars_price_range", sql`${t.starsPrice} is null or ${t.starsPrice} between 1 and 100000`),
  ],
);
