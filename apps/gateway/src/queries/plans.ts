import type { DbOrTx } from "@obuna/db";
import { plans } from "@obuna/db/schema";
import { eq, sql } from "drizzle-orm";

function buildPlanBySlugQuery(db: DbOrTx) {
  return db
    .select()
    .from(plans)
    .where(eq(plans.slug, sql.placeholder("slug")))
    .limit(1)
    .prepare("plan_by_slug");
}

const planBySlugQueries = new WeakMap<DbOrTx, ReturnType<typeof buildPlanBySlugQuery>>();

/**
 * `getPlanBySlug` from @obuna/db as a query built once per database handle: create-link runs it on
 * every call, and building the SQL cost more than running it (gateway bench profile).
 */
export async function getPlanBySlugPrepared(db: DbOrTx, slug: string) {
  let query = planBySlugQueries.get(db);
  if (!query) {
    query = buildPlanBySlugQuery(db);
    planBySlugQueries.set(db, query);
  }
  const [plan] = await query.execute({ slug });
  return plan ?? null;
}
