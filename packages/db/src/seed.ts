import type { DbOrTx } from "./client";
import { plans } from "./schema/index";

/**
 * The plans Obuna sells. Prices in tiyin (1 so'm = 100 tiyin):
 * monthly 29 000 so'm; quarterly 79 000 so'm (~9 % off three months); yearly 290 000 so'm (two months free).
 * Telegram Stars prices (docs/stars.md): monthly 150 ⭐ (a native 30-day Stars subscription),
 * quarterly 400 ⭐, yearly 1 500 ⭐ (one-off invoices): about the so'm price at what users pay for Stars.
 * Fiscal receipt settings (ikpuCode, packageCode, vatPercent) come from the column defaults:
 * PLACEHOLDERS (all zeros, VAT 12 %) that the operator must replace with the real IKPU/MXIK and
 * package codes from tasnif.soliq.uz before taking live payments (docs/operations.md, "Fiscal receipts").
 */
export const PLAN_SEED = [
  {
    slug: "monthly",
    nameUz: "1 Oylik",
    nameRu: "1 месяц",
    nameEn: "1 Month",
    price: 2_900_000,
    starsPrice: 150,
    durationDays: 30,
    sortOrder: 1,
  },
  {
    slug: "quarterly",
    nameUz: "3 Oylik",
    nameRu: "3 месяца",
    nameEn: "3 Months",
    price: 7_900_000,
    starsPrice: 400,
    durationDays: 90,
    sortOrder: 2,
  },
  {
    slug: "yearly",
    nameUz: "1 Yillik",
    nameRu: "1 год",
    nameEn: "1 Year",
    price: 29_000_000,
    starsPrice: 1500,
    durationDays: 365,
    sortOrder: 3,
  },
] as const;

/**
 * Idempotent: inserts the plans that are missing and never touches existing rows, so a price an
 * operator changed in the database survives a re-seed. Returns how many plans were inserted.
 */
export async function seedPlans(db: DbOrTx): Promise<number> {
  const inserted = await db
    .insert(plans)
    .values(PLAN_SEED.map((plan) => ({ ...plan, isActive: true })))
    .onConflictDoNothing({ target: plans.slug })
    .returning({ id: plans.id });
  return inserted.length;
}
