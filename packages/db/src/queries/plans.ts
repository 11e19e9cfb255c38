import { asc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { PLACEHOLDER_IKPU_CODE, PLACEHOLDER_PACKAGE_CODE, plans } from "../schema/index";
import type { Plan } from "../types";

export async function listActivePlans(db: DbOrTx) {
  return db.select().from(plans).where(eq(plans.isActive, true)).orderBy(asc(plans.sortOrder), asc(plans.id));
}

export async function getPlanBySlug(db: DbOrTx, slug: string) {
  const [plan] = await db.select().from(plans).where(eq(plans.slug, slug)).limit(1);
  return plan ?? null;
}

export async function getPlanById(db: DbOrTx, planId: number) {
  const [plan] = await db.select().from(plans).where(eq(plans.id, planId)).limit(1);
  return plan ?? null;
}

export function planName(plan: { nameUz: string; nameRu: string; nameEn: string }, lang: "uz" | "ru" | "en") {
  return lang === "ru" ? plan.nameRu : lang === "en" ? plan.nameEn : plan.nameUz;
}

type FiscalPlan = { nameUz: string; ikpuCode: string; packageCode: string; vatPercent: number };

/**
 * The fiscal receipt of one charge for a plan: one line with the plan's IKPU/MXIK code, package
 * code and VAT, the whole amount (tiyin), quantity 1. Shaped like the PaymentProvider port's
 * `ReceiptLine` (@obuna/provider); the ATMOS adapter sends it as `ofd_items`.
 * The line text is in Uzbek, the receipt's language.
 */
export function planReceiptItems(plan: FiscalPlan, amount: number) {
  return [
    {
      code: plan.ikpuCode,
      name: `Obuna Premium: ${plan.nameUz}`,
      amount,
      quantity: 1,
      packageCode: plan.packageCode,
      vatPercent: plan.vatPercent,
    },
  ];
}

/** True while a plan still carries the seeded placeholder fiscal codes (the operator must set them). */
export function isPlaceholderFiscal(plan: Pick<FiscalPlan, "ikpuCode" | "packageCode">): boolean {
  return plan.ikpuCode === PLACEHOLDER_IKPU_CODE || plan.packageCode === PLACEHOLDER_PACKAGE_CODE;
}

/** Every plan's slug (active or not), by sort order. */
export async function listPlanSlugs(db: DbOrTx): Promise<string[]> {
  const rows = (await db.execute(sql`select slug from plans order by sort_order, id`)) as unknown as Array<{
    slug: unknown;
  }>;
  return rows.map((r) => String(r.slug));
}

// ------------------------------------------------------------------ admin (list, create, edit, price)

/** Every plan, active or not, by sort order. */
export async function listAllPlans(db: DbOrTx) {
  return db.select().from(plans).orderBy(asc(plans.sortOrder), asc(plans.id));
}

/** The plan row, locked for the rest of the transaction; null when there is none. */
export async function lockPlan(tx: DbOrTx, planId: number) {
  const [plan] = await tx.select().from(plans).where(eq(plans.id, planId)).for("update");
  return plan ?? null;
}

export async function insertPlan(tx: DbOrTx, values: typeof plans.$inferInsert) {
  const [plan] = await tx.insert(plans).values(values).returning();
  return plan!;
}

/** Sets the given columns of a plan (and updated_at). */
export async function updatePlanColumns(tx: DbOrTx, planId: number, set: Partial<Plan>, now: Date) {
  await tx
    .update(plans)
    .set({ ...set, updatedAt: now })
    .where(eq(plans.id, planId));
}
