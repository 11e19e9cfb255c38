import { type AtmosTransaction, isAtmosError } from "@obuna/atmos";
import { deactivateCard, reactivateCard, removeCard as removeBoundCard } from "@obuna/billing";
import type {
  AdminAuditQuery,
  AdminDashboard,
  AdminPaymentSessionsQuery,
  AdminPaymentsQuery,
  AdminSubscription,
  AdminUsersQuery,
} from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import type { Transaction } from "@obuna/db";
import { getUserById, recordNotification, setUserRole } from "@obuna/db/queries";
import { auditLog, payments, subscriptions } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import type { GatewayDeps } from "../context";
import { ApiError } from "../errors";
import type { GatewayMetrics } from "../metrics";
import { atmosErrorCode } from "../services/atmos-errors";
import { atmosCardRemover } from "../services/card-provider";
import { flushNotifications } from "../services/notifications";
import type { AdminIdentity } from "./auth";
import { opsCounter } from "./metrics";
import {
  dashboardFigures,
  getPaymentRow,
  listAuditLog,
  listBoundCards,
  listPaymentSessions,
  listPayments,
  listSubscriptions,
  listUsers,
} from "./queries";
import {
  auditView,
  boundCardView,
  paymentSessionView,
  paymentView,
  subscriptionView,
  userView,
} from "./views";

export type AdminDeps = GatewayDeps & { metrics: GatewayMetrics };

const DAY_MS = 86_400_000;
/** A session in `processing` longer than this counts as stuck on the dashboard. */
export const STUCK_SESSION_MS = 10 * 60_000;

// ------------------------------------------------------------------ reads

export async function dashboard(deps: AdminDeps): Promise<AdminDashboard> {
  const now = deps.clock();
  const f = await dashboardFigures(deps.db, now, STUCK_SESSION_MS);
  return {
    generated_at: now.toISOString(),
    active_subscriptions: f.activeSubscriptions,
    mrr: f.mrr,
    mrr_formatted: formatSom(f.mrr),
    renewals_last_30_days: { succeeded: f.renewalsSucceeded, failed: f.renewalsFailed },
    payments_today: {
      count: f.paymentsToday.count,
      sum: f.paymentsToday.sum,
      sum_formatted: formatSom(f.paymentsToday.sum),
      since: f.paymentsToday.since.toISOString(),
    },
    stuck_sessions: f.stuckSessions,
    unknown_outcomes: { payments: f.unknownPayments, renewal_attempts: f.unknownAttempts },
  };
}

function paged<T>(items: T[], total: number, q: { limit: number; offset: number }) {
  return { items, total, limit: q.limit, offset: q.offset };
}

export async function paymentSessionsPage(deps: AdminDeps, q: AdminPaymentSessionsQuery) {
  const { rows, total } = await listPaymentSessions(deps.db, q);
  return paged(
    rows.map((r) => paymentSessionView(r, deps.config.miniappUrl)),
    total,
    q,
  );
}

export async function paymentsPage(deps: AdminDeps, q: AdminPaymentsQuery) {
  const { rows, total } = await listPayments(deps.db, q);
  return paged(rows.map(paymentView), total, q);
}

export async function subscriptionsPage(
  deps: AdminDeps,
  q: {
    limit: number;
    offset: number;
    search?: string | undefined;
    status?: AdminSubscription["status"] | undefined;
    auto_renew?: boolean | undefined;
  },
) {
  const { rows, total } = await listSubscriptions(deps.db, {
    limit: q.limit,
    offset: q.offset,
    ...(q.status ? { status: q.status } : {}),
    ...(q.auto_renew === undefined ? {} : { autoRenew: q.auto_renew }),
    ...(q.search ? { search: q.search } : {}),
  });
  return paged(rows.map(subscriptionView), total, q);
}

export async function cardsPage(
  deps: AdminDeps,
  q: { limit: number; offset: number; search?: string | undefined; active?: boolean | undefined },
) {
  const { rows, total } = await listBoundCards(deps.db, {
    limit: q.limit,
    offset: q.offset,
    ...(q.active === undefined ? {} : { active: q.active }),
    ...(q.search ? { search: q.search } : {}),
  });
  return paged(rows.map(boundCardView), total, q);
}

export async function usersPage(deps: AdminDeps, q: AdminUsersQuery) {
  const { rows, total } = await listUsers(deps.db, q);
  return paged(rows.map(userView), total, q);
}

export async function auditPage(deps: AdminDeps, q: AdminAuditQuery) {
  const { rows, total } = await listAuditLog(deps.db, {
    limit: q.limit,
    offset: q.offset,
    ...(q.entity_type ? { entityType: q.entity_type } : {}),
    ...(q.entity_id ? { entityId: q.entity_id } : {}),
    ...(q.actor ? { actor: q.actor } : {}),
    ...(q.action ? { action: q.action } : {}),
  });
  return paged(rows.map(auditView), total, q);
}

async function cardById(deps: AdminDeps, id: number) {
  const { rows } = await listBoundCards(deps.db, { limit: 1, offset: 0, ids: [id] });
  if (!rows[0]) throw new ApiError("CARD_NOT_FOUND", "Card not found");
  return boundCardView(rows[0]);
}

async function subscriptionById(deps: AdminDeps, id: number) {
  const { rows } = await listSubscriptions(deps.db, { limit: 1, offset: 0, ids: [id] });
  if (!rows[0]) throw new ApiError("SUBSCRIPTION_NOT_FOUND", "Subscription not found");
  return subscriptionView(rows[0]);
}

async function paymentById(deps: AdminDeps, id: number) {
  const row = await getPaymentRow(deps.db, id);
  if (!row) throw new ApiError("PAYMENT_NOT_FOUND", "Payment not found");
  return paymentView(row);
}

// ------------------------------------------------------------------ audit

interface AuditInput {
  action: string;
  entityType: "bound_card" | "payment" | "subscription" | "plan";
  entityId: number;
  reason: string;
  details?: Record<string, unknown>;
}

/** The audit row of an admin action: always inside the action's own transaction. */
export async function writeAudit(tx: Transaction, admin: AdminIdentity, input: AuditInput, now: Date) {
  const [row] = await tx
    .insert(auditLog)
    .values({
      actor: admin.actor,
      action: input.action,
      entityType: input.entityType,
      entityId: String(input.entityId),
      reason: input.reason,
      details: { via: admin.via, ...(input.details ?? {}) },
      createdAt: now,
    })
    .returning({ id: auditLog.id });
  return row!.id;
}

async function lockSubscriptionRow(tx: Transaction, id: number) {
  const [sub] = await tx.select().from(subscriptions).where(eq(subscriptions.id, id)).for("update");
  if (!sub) throw new ApiError("SUBSCRIPTION_NOT_FOUND", "Subscription not found");
  return sub;
}

/** Premium goes back to `user` when access ends; an `admin` role is left alone. */
async function dropPremium(tx: Transaction, userId: number) {
  const user = await getUserById(tx, userId);
  if (user?.role === "premium") await setUserRole(tx, userId, "user");
}

export function countAction(deps: AdminDeps, action: string, outcome: string) {
  opsCounter(deps.metrics, "gateway_admin_actions_total")?.inc({ action, outcome });
}

// ------------------------------------------------------------------ cards

export async function setCardActive(
  deps: AdminDeps,
  admin: AdminIdentity,
  cardId: number,
  active: boolean,
  reason: string,
) {
  const now = deps.clock();
  const action = active ? "card.reactivated" : "card.deactivated";
  const cardDeps = { cardTokenKey: deps.config.cardTokenKey };
  const input = { cardId, actor: admin.actor, reason, details: { via: admin.via }, now };
  const change = await deps.db.transaction((tx) =>
    active
      ? reactivateCard(tx, cardDeps, input)
      : deactivateCard(tx, cardDeps, { ...input, notifyUser: true }),
  );
  switch (change.status) {
    case "not_found":
      throw new ApiError("CARD_NOT_FOUND", "Card not found");
    case "removed":
      throw new ApiError("INVALID_STATE", "The card was removed at ATMOS; it cannot change any more");
    case "unchanged":
      throw new ApiError(
        "INVALID_STATE",
        active ? "The card is already active" : "The card is already inactive",
      );
    case "changed":
      break;
  }
  await flushNotifications(deps, change.notificationId ? [change.notificationId] : []);
  countAction(deps, action, "ok");
  deps.logger.info({ cardId, action, actor: admin.actor }, "admin action");
  return { card: await cardById(deps, cardId), audit_id: change.auditId };
}

/**
 * ATMOS remove-card (unless another holder needs the card; already gone there is fine), then
 * removed + subscriptions stop renewing with it + audit + the user's message, in one transaction
 * (the money core's `removeCard`).
 */
export async function removeCardAtAtmos(
  deps: AdminDeps,
  admin: AdminIdentity,
  cardId: number,
  reason: string,
) {
  const removal = await removeBoundCard(
    deps.db,
    { cardTokenKey: deps.config.cardTokenKey, provider: atmosCardRemover(deps.atmos) },
    { cardId, actor: admin.actor, reason, details: { via: admin.via }, notifyUser: true, now: deps.clock() },
  );
  switch (removal.status) {
    case "not_found":
      throw new ApiError("CARD_NOT_FOUND", "Card not found");
    case "already_removed":
      throw new ApiError("INVALID_STATE", "The card was already removed");
    case "provider_failed":
      countAction(deps, "card.removed", "atmos_error");
      throw new ApiError(
        "PAYMENT_PROVIDER_UNAVAILABLE",
        "The card could not be removed at ATMOS; try again",
        {
          ...(removal.provider.kind ? { details: { atmos_error: removal.provider.kind } } : {}),
        },
      );
    case "removed":
      break;
  }
  await flushNotifications(deps, removal.notificationId ? [removal.notificationId] : []);
  countAction(deps, "card.removed", "ok");
  deps.logger.info({ cardId, action: "card.removed", actor: admin.actor }, "admin action");
  return { card: await cardById(deps, cardId), audit_id: removal.auditId };
}

// ------------------------------------------------------------------ refund

const UNCLEAR_KINDS = new Set(["timeout", "server_error", "bad_response", "transaction_closed"]);

/**
 * What happened to a reverse whose answer was an error: ATMOS `get` decides. `reversed` → it went
 * through (or had before); `not_reversed` → ATMOS says the payment still stands; `unknown` → ask later.
 */
async function reverseOutcome(
  deps: AdminDeps,
  transactionId: number | null,
  error: unknown,
): Promise<"reversed" | "not_reversed" | "unknown"> {
  if (!isAtmosError(error)) return "unknown";
  if (!error.outcomeUnknown && !UNCLEAR_KINDS.has(error.kind)) return "not_reversed";
  if (transactionId === null) return "unknown";
  let transaction: AtmosTransaction;
  try {
    transaction = await deps.atmos.getTransaction(transactionId);
  } catch {
    return "unknown";
  }
  if (transaction.state === "reversed") return "reversed";
  if (transaction.state === "confirmed" && !error.outcomeUnknown) return "not_reversed";
  return "unknown";
}

/**
 * Refund = ATMOS reverse with the payment's success_trans_id. Under the payment's row lock (a second
 * refund waits, then sees `reversed` → 409): reverse at ATMOS, then payment `reversed`, the
 * subscription loses the payment's period (expired + role back when that ends it), audit row — one
 * transaction. An unclear ATMOS answer marks nothing reversed: an `payment.refund_unknown` audit row
 * is written and 503 returned; `pnpm reconcile` shows the truth.
 */
export async function refundPayment(
  deps: AdminDeps,
  admin: AdminIdentity,
  paymentId: number,
  reason: string,
) {
  const now = deps.clock();
  type Outcome =
    | { kind: "done"; auditId: number; subscriptionId: number | null; owed: string }
    | { kind: "unknown"; transactionId: number | null; error: string };
  const outcome: Outcome = await deps.db.transaction(async (tx) => {
    const [payment] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for("update");
    if (!payment) throw new ApiError("PAYMENT_NOT_FOUND", "Payment not found");
    if (payment.status === "reversed") {
      throw new ApiError("INVALID_STATE", "This payment was already refunded", {
        details: { reversed_at: payment.reversedAt?.toISOString() ?? null },
      });
    }
    if (payment.status !== "success" || payment.successTransId === null) {
      throw new ApiError(
        "INVALID_STATE",
        `Only successful payments can be refunded (this one is ${payment.status})`,
      );
    }
    try {
      await deps.atmos.reverse({ transactionId: payment.successTransId, reason });
    } catch (error) {
      const result = await reverseOutcome(deps, payment.transactionId, error);
      if (result === "unknown") {
        return {
          kind: "unknown" as const,
          transactionId: payment.transactionId,
          error: isAtmosError(error) ? error.kind : "error",
        };
      }
      if (result === "not_reversed") {
        const mapped = isAtmosError(error) ? atmosErrorCode(error) : null;
        throw new ApiError(
          mapped?.code === "PAYMENT_PROVIDER_UNAVAILABLE" || !mapped
            ? "PAYMENT_PROVIDER_UNAVAILABLE"
            : "INVALID_STATE",
          `ATMOS refused the refund: ${isAtmosError(error) ? error.message : "unknown error"}`,
          { ...(isAtmosError(error) ? { details: { atmos_error: error.kind } } : {}) },
        );
      }
    }
    await tx
      .update(payments)
      .set({ status: "reversed", reversedAt: now, reverseReason: reason, updatedAt: now })
      .where(eq(payments.id, payment.id));

    let periodTaken: { newEndDate: string; expired: boolean } & Record<string, unknown> = {
      newEndDate: "",
      expired: false,
    };
    let hadPeriod = false;
    if (payment.subscriptionId !== null && payment.periodStart && payment.periodEnd) {
      const sub = await lockSubscriptionRow(tx, payment.subscriptionId);
      const lengthMs = payment.periodEnd.getTime() - payment.periodStart.getTime();
      const newEnd = new Date(Math.max(sub.endDate.getTime() - lengthMs, sub.startDate.getTime()));
      const live = sub.status === "active" || sub.status === "past_due";
      const ends = live && newEnd <= now;
      await tx
        .update(subscriptions)
        .set({
          endDate: newEnd,
          ...(ends ? { status: "expired" as const, nextRenewalAt: null, graceUntil: null } : {}),
          updatedAt: now,
        })
        .where(eq(subscriptions.id, sub.id));
      if (ends) await dropPremium(tx, sub.userId);
      hadPeriod = true;
      periodTaken = {
        subscriptionId: sub.id,
        previousEndDate: sub.endDate.toISOString(),
        newEndDate: newEnd.toISOString(),
        expired: ends,
      };
    }
    const auditId = await writeAudit(
      tx,
      admin,
      {
        action: "payment.refunded",
        entityType: "payment",
        entityId: payment.id,
        reason,
        details: {
          amount: payment.amount,
          transactionId: payment.transactionId,
          successTransId: payment.successTransId,
          ...(hadPeriod ? { period: periodTaken } : {}),
        },
      },
      now,
    );
    const owed = await recordNotification(
      tx,
      {
        kind: "payment_refunded",
        userId: payment.userId,
        paymentId: payment.id,
        subscriptionId: payment.subscriptionId,
        endDate: hadPeriod ? periodTaken.newEndDate : null,
        accessEnded: hadPeriod && periodTaken.expired,
      },
      payment.id,
      now,
    );
    return { kind: "done" as const, auditId, subscriptionId: payment.subscriptionId, owed };
  });

  if (outcome.kind === "unknown") {
    // Nothing changed; the attempt itself is recorded so nobody refunds blindly again.
    await deps.db.transaction((tx) =>
      writeAudit(
        tx,
        admin,
        {
          action: "payment.refund_unknown",
          entityType: "payment",
          entityId: paymentId,
          reason,
          details: { transactionId: outcome.transactionId, atmosError: outcome.error },
        },
        now,
      ),
    );
    countAction(deps, "payment.refunded", "unknown");
    deps.logger.warn({ paymentId, actor: admin.actor }, "refund outcome unknown");
    throw new ApiError(
      "PAYMENT_PROVIDER_UNAVAILABLE",
      "ATMOS did not confirm the refund; nothing was marked refunded. Check with `pnpm reconcile` before retrying.",
      { details: { outcome: "unknown" } },
    );
  }
  await flushNotifications(deps, [outcome.owed]);
  countAction(deps, "payment.refunded", "ok");
  deps.logger.info({ paymentId, action: "payment.refunded", actor: admin.actor }, "admin action");
  return {
    payment: await paymentById(deps, paymentId),
    subscription: outcome.subscriptionId ? await subscriptionById(deps, outcome.subscriptionId) : null,
    audit_id: outcome.auditId,
  };
}

// ------------------------------------------------------------------ subscriptions

export async function extendSubscription(
  deps: AdminDeps,
  admin: AdminIdentity,
  subscriptionId: number,
  days: number,
  reason: string,
) {
  const now = deps.clock();
  const auditId = await deps.db.transaction(async (tx) => {
    const sub = await lockSubscriptionRow(tx, subscriptionId);
    if (sub.status !== "active" && sub.status !== "past_due") {
      throw new ApiError(
        "INVALID_STATE",
        `Only a live subscription can be extended (this one is ${sub.status})`,
      );
    }
    const newEnd = new Date(sub.endDate.getTime() + days * DAY_MS);
    const back = sub.status === "past_due" && newEnd > now;
    await tx
      .update(subscriptions)
      .set({
        endDate: newEnd,
        ...(back
          ? {
              status: "active" as const,
              graceUntil: null,
              renewalAttempts: 0,
              renewalError: null,
              nextRenewalAt: null,
            }
          : {}),
        updatedAt: now,
      })
      .where(eq(subscriptions.id, sub.id));
    await setUserRole(
      tx,
      sub.userId,
      (await getUserById(tx, sub.userId))?.role === "admin" ? "admin" : "premium",
    );
    const id = await writeAudit(
      tx,
      admin,
      {
        action: "subscription.extended",
        entityType: "subscription",
        entityId: sub.id,
        reason,
        details: { days, previousEndDate: sub.endDate.toISOString(), newEndDate: newEnd.toISOString() },
      },
      now,
    );
    const owed = await recordNotification(
      tx,
      {
        kind: "subscription_extended",
        userId: sub.userId,
        subscriptionId: sub.id,
        days,
        endDate: newEnd.toISOString(),
      },
      id,
      now,
    );
    return { id, owed };
  });
  await flushNotifications(deps, [auditId.owed]);
  countAction(deps, "subscription.extended", "ok");
  deps.logger.info({ subscriptionId, days, actor: admin.actor }, "admin action");
  return { subscription: await subscriptionById(deps, subscriptionId), audit_id: auditId.id };
}

/** Access ends now: status `canceled`, auto-renew off, role back to `user`. */
export async function cancelSubscriptionNow(
  deps: AdminDeps,
  admin: AdminIdentity,
  subscriptionId: number,
  reason: string,
) {
  const now = deps.clock();
  const auditId = await deps.db.transaction(async (tx) => {
    const sub = await lockSubscriptionRow(tx, subscriptionId);
    if (sub.status !== "active" && sub.status !== "past_due") {
      throw new ApiError("INVALID_STATE", `The subscription is already ${sub.status}`);
    }
    await tx
      .update(subscriptions)
      .set({
        status: "canceled",
        autoRenew: false,
        cancelledAt: now,
        nextRenewalAt: null,
        graceUntil: null,
        updatedAt: now,
      })
      .where(eq(subscriptions.id, sub.id));
    await dropPremium(tx, sub.userId);
    const id = await writeAudit(
      tx,
      admin,
      {
        action: "subscription.canceled",
        entityType: "subscription",
        entityId: sub.id,
        reason,
        details: { previousStatus: sub.status, endDate: sub.endDate.toISOString() },
      },
      now,
    );
    const owed = await recordNotification(
      tx,
      { kind: "subscription_canceled_by_admin", userId: sub.userId, subscriptionId: sub.id },
      sub.id,
      now,
    );
    return { id, owed };
  });
  await flushNotifications(deps, [auditId.owed]);
  countAction(deps, "subscription.canceled", "ok");
  deps.logger.info({ subscriptionId, actor: admin.actor }, "admin action");
  return { subscription: await subscriptionById(deps, subscriptionId), audit_id: auditId.id };
}
