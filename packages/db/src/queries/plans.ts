import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "../client";
import { plans } from "../schema/index";

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
