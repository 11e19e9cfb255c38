import { isUniqueViolation, writeAudit } from "@obuna/billing";
import type {
  AdminPlan,
  AdminPlanCreateRequestSchema,
  AdminPlanPriceRequest,
  AdminPlanUpdateRequest,
} from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import type { DbOrTx, Plan, Transaction } from "@obuna/db";
import {
  countLiveSubscriptionsByPlan,
  getPlanById,
  getPlanBySlug,
  insertPlan,
  isPlaceholderFiscal,
  listAllPlans,
  lockPlan as lockPlanRow,
  repriceLiveSubscriptions,
  updatePlanColumns,
} from "@obuna/db/queries";
import type { z } from "zod";
import { ApiError } from "../errors";
import type { AdminIdentity } from "./auth";
import { type AdminDeps, adminAudit, countAction } from "./shared";

/**
 * Plans in admin: list, create, edit (names, period, active flag, sort order, fiscal receipt codes)
 * and change the price.
 *
 * Price model (docs/plans.md): `plans.price` is the list price of new purchases and applies to them
 * at once. A live subscription renews at `subscriptions.renewal_price` (null = the list price). A
 * price change pins every live subscription's current price and marks the new one as
 * `new_renewal_price`; the renewals worker sends each subscriber a notice PRICE_CHANGE_NOTICE_DAYS
 * before the first renewal at the new price and only then charges it.
 */

async function planCounts(db: DbOrTx, planIds: number[]) {
  if (planIds.length === 0) return new Map<number, { live: number; other: number }>();
  const rows = await countLiveSubscriptionsByPlan(db, planIds);
  return new Map(rows.map((r) => [r.planId, { live: Number(r.live), other: Number(r.other) }]));
}

function planView(plan: Plan, counts: { live: number; other: number } | undefined): AdminPlan {
  return {
    id: plan.id,
    slug: plan.slug,
    name_uz: plan.nameUz,
    name_ru: plan.nameRu,
    name_en: plan.nameEn,
    price: plan.price,
    price_formatted: formatSom(plan.price),
    duration_days: plan.durationDays,
    is_active: plan.isActive,
    sort_order: plan.sortOrder,
    ikpu_code: plan.ikpuCode,
    package_code: plan.packageCode,
    vat_percent: plan.vatPercent,
    stars_price: plan.starsPrice,
    fiscal_placeholder: isPlaceholderFiscal(plan),
    live_subscriptions: counts?.live ?? 0,
    on_other_price: counts?.other ?? 0,
    created_at: plan.createdAt.toISOString(),
    updated_at: plan.updatedAt.toISOString(),
  };
}

export async function listPlansForAdmin(deps: AdminDeps) {
  const rows = await listAllPlans(deps.db);
  const counts = await planCounts(
    deps.db,
    rows.map((p) => p.id),
  );
  return {
    items: rows.map((p) => planView(p, counts.get(p.id))),
    price_change_notice_days: deps.config.priceChangeNoticeDays ?? DEFAULT_PRICE_CHANGE_NOTICE_DAYS,
  };
}

export const DEFAULT_PRICE_CHANGE_NOTICE_DAYS = 30;

async function planById(deps: AdminDeps, id: number) {
  const plan = await getPlanById(deps.db, id);
  if (!plan) throw new ApiError("PLAN_NOT_FOUND", "Plan not found");
  return planView(plan, (await planCounts(deps.db, [id])).get(id));
}

async function lockPlan(tx: Transaction, id: number) {
  const plan = await lockPlanRow(tx, id);
  if (!plan) throw new ApiError("PLAN_NOT_FOUND", "Plan not found");
  return plan;
}

export async function createPlan(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: z.output<typeof AdminPlanCreateRequestSchema>,
) {
  const now = deps.clock();
  let result: { id: number; auditId: number };
  try {
    result = await deps.db.transaction(async (tx) => {
      const taken = await getPlanBySlug(tx, input.slug);
      if (taken) throw new ApiError("INVALID_STATE", `A plan with slug ${input.slug} already exists`);
      const plan = await insertPlan(tx, {
        slug: input.slug,
        nameUz: input.name_uz,
        nameRu: input.name_ru,
        nameEn: input.name_en,
        price: input.price,
        durationDays: input.duration_days,
        isActive: input.is_active,
        sortOrder: input.sort_order,
        // Left out: the column defaults (placeholders that reconcile warns about).
        ...(input.ikpu_code !== undefined ? { ikpuCode: input.ikpu_code } : {}),
        ...(input.package_code !== undefined ? { packageCode: input.package_code } : {}),
        ...(input.vat_percent !== undefined ? { vatPercent: input.vat_percent } : {}),
        ...(input.stars_price !== undefined ? { starsPrice: input.stars_price } : {}),
        createdAt: now,
        updatedAt: now,
      });
      const auditId = await writeAudit(
        tx,
        adminAudit(admin, {
          action: "plan.created",
          entityType: "plan",
          entityId: plan.id,
          reason: input.reason,
          details: {
            slug: plan.slug,
            price: plan.price,
            durationDays: plan.durationDays,
            isActive: plan.isActive,
            ikpuCode: plan.ikpuCode,
            packageCode: plan.packageCode,
            vatPercent: plan.vatPercent,
            starsPrice: plan.starsPrice,
          },
        }),
        now,
      );
      return { id: plan.id, auditId };
    });
  } catch (error) {
    // Two admins creating one slug at once: the unique index refuses the second.
    if (isUniqueViolation(error)) {
      throw new ApiError("INVALID_STATE", `A plan with slug ${input.slug} already exists`);
    }
    throw error;
  }
  countAction(deps, "plan.created", "ok");
  deps.logger.info({ planId: result.id, actor: admin.actor }, "admin action");
  return { plan: await planById(deps, result.id), audit_id: result.auditId };
}

const EDITABLE = {
  name_uz: "nameUz",
  name_ru: "nameRu",
  name_en: "nameEn",
  duration_days: "durationDays",
  is_active: "isActive",
  sort_order: "sortOrder",
  ikpu_code: "ikpuCode",
  package_code: "packageCode",
  vat_percent: "vatPercent",
  stars_price: "starsPrice",
} as const;

/**
 * Names, period, active flag, sort order, fiscal receipt codes. A field sent with its current value
 * is no change. New fiscal codes apply to the receipts of charges made from then on.
 */
export async function updatePlan(
  deps: AdminDeps,
  admin: AdminIdentity,
  planId: number,
  input: AdminPlanUpdateRequest,
) {
  const now = deps.clock();
  const auditId = await deps.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    const set: Partial<Plan> = {};
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const [field, column] of Object.entries(EDITABLE) as Array<
      [keyof typeof EDITABLE, (typeof EDITABLE)[keyof typeof EDITABLE]]
    >) {
      const value = input[field];
      if (value === undefined || value === plan[column]) continue;
      (set as Record<string, unknown>)[column] = value;
      changes[field] = { from: plan[column], to: value };
    }
    if (Object.keys(changes).length === 0) {
      throw new ApiError("INVALID_STATE", "Nothing to change: every field already has that value");
    }
    await updatePlanColumns(tx, plan.id, set, now);
    return writeAudit(
      tx,
      adminAudit(admin, {
        action: "plan.updated",
        entityType: "plan",
        entityId: plan.id,
        reason: input.reason,
        details: { changes },
      }),
      now,
    );
  });
  countAction(deps, "plan.updated", "ok");
  deps.logger.info({ planId, actor: admin.actor }, "admin action");
  return { plan: await planById(deps, planId), audit_id: auditId };
}

/**
 * New list price, in one transaction with its audit row:
 * 1. subscriptions already told about an earlier change whose renewal at it has come keep that
 *    price as theirs (renewal_price := new_renewal_price);
 * 2. every live subscription still on the list price gets the old price pinned (renewal_price);
 * 3. those whose price differs from the new one owe a notice: new_renewal_price, no notice sent yet
 *    (a notice about an earlier, superseded change no longer counts); those already paying exactly
 *    the new price go back to the list price with nothing pending.
 * New purchases (create-link) pay the new price at once.
 */
export async function changePlanPrice(
  deps: AdminDeps,
  admin: AdminIdentity,
  planId: number,
  input: AdminPlanPriceRequest,
) {
  const now = deps.clock();
  const result = await deps.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.price === input.price) {
      throw new ApiError("INVALID_STATE", `The plan already costs ${formatSom(plan.price)}`);
    }
    const { settled, backToList, toNotify } = await repriceLiveSubscriptions(tx, {
      planId: plan.id,
      listPrice: plan.price,
      newPrice: input.price,
      now,
    });
    await updatePlanColumns(tx, plan.id, { price: input.price }, now);
    const auditId = await writeAudit(
      tx,
      adminAudit(admin, {
        action: "plan.price_changed",
        entityType: "plan",
        entityId: plan.id,
        reason: input.reason,
        details: {
          previousPrice: plan.price,
          newPrice: input.price,
          subscriptionsToNotify: toNotify,
          subscriptionsBackToListPrice: backToList,
          subscriptionsSettled: settled,
          noticeDays: deps.config.priceChangeNoticeDays ?? DEFAULT_PRICE_CHANGE_NOTICE_DAYS,
        },
      }),
      now,
    );
    return { auditId, toNotify };
  });
  countAction(deps, "plan.price_changed", "ok");
  deps.logger.info({ planId, price: input.price, actor: admin.actor }, "admin action");
  return {
    plan: await planById(deps, planId),
    audit_id: result.auditId,
    subscriptions_to_notify: result.toNotify,
  };
}
