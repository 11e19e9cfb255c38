import { type AtmosTransaction, isAtmosError } from "@obuna/atmos";
import {
  type AuditBy,
  type AuditEntry,
  cancelNow,
  deactivateCard,
  grantDays,
  reactivateCard,
  recordRefundUnknown,
  refundPayment as refundInCore,
  refundStarsPayment,
  removeCard as removeBoundCard,
} from "@obuna/billing";
import type {
  AdminAuditQuery,
  AdminDashboard,
  AdminPaymentSessionsQuery,
  AdminPaymentsQuery,
  AdminSubscription,
  AdminUsersQuery,
} from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import {
  getPaymentRow,
  listAuditLog,
  listBoundCards,
  listPaymentSessions,
  listPayments,
  listSubscriptions,
  listUsers,
} from "@obuna/db/queries";
import type { GatewayDeps } from "../context";
import { ApiError } from "../errors";
import type { GatewayMetrics } from "../metrics";
import { atmosErrorCode } from "../services/atmos-errors";
import { atmosCardRemover } from "../services/card-provider";
import { flushNotifications } from "../services/notifications";
import { BotApiError } from "../telegram-bot-api";
import type { AdminIdentity } from "./auth";
import { dashboardFigures } from "./dashboard";
import { opsCounter } from "./metrics";

import {
  auditView,
  boundCardView,
  paymentSessionView,
  paymentView,
  subscriptionView,
  userView,
} from "./views";

export type AdminDeps = GatewayDeps & { metrics: GatewayMetrics };

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

/** Who an admin action is by, for the money core's audit rows: the admin, and the surface used. */
export function byAdmin(admin: AdminIdentity, reason: string): AuditBy {
  return { actor: admin.actor, reason, details: { via: admin.via } };
}

/** The audit row of an admin action, as `writeAudit` takes it: the admin and the surface first. */
export function adminAudit(
  admin: AdminIdentity,
  entry: Omit<AuditEntry, "actor" | "reason"> & { reason: string },
): AuditEntry {
  return { ...entry, actor: admin.actor, details: { via: admin.via, ...(entry.details ?? {}) } };
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
 * Refund = ATMOS reverse with the payment's success_trans_id, through the money core's
 * `refundPayment`: under the payment's row lock (a second refund waits, then sees `reversed` → 409),
 * reverse at ATMOS, then payment `reversed`, the subscription loses the payment's period (expired +
 * role back when that ends it), audit row — one transaction. An unclear ATMOS answer marks nothing
 * reversed: a `payment.refund_unknown` audit row is written and 503 returned; `pnpm reconcile` shows
 * the truth.
 */
export async function refundPayment(
  deps: AdminDeps,
  admin: AdminIdentity,
  paymentId: number,
  reason: string,
) {
  const by = byAdmin(admin, reason);
  const row = await getPaymentRow(deps.db, paymentId);
  if (row?.payment.provider === "telegram_stars") return refundStars(deps, admin, paymentId, by);
  const outcome = await deps.db.transaction((tx) =>
    refundInCore(tx, deps, {
      paymentId,
      by,
      reverse: async (payment) => {
        try {
          await deps.atmos.reverse({ transactionId: payment.successTransId, reason });
          return { status: "reversed" };
        } catch (error) {
          const result = await reverseOutcome(deps, payment.transactionId, error);
          if (result === "unknown")
            return { status: "unknown", error: isAtmosError(error) ? error.kind : "error" };
          if (result === "not_reversed") return { status: "not_reversed", error };
          return { status: "reversed" };
        }
      },
    }),
  );
  switch (outcome.status) {
    case "not_found":
      throw new ApiError("PAYMENT_NOT_FOUND", "Payment not found");
    case "already_refunded":
      throw new ApiError("INVALID_STATE", "This payment was already refunded", {
        details: { reversed_at: outcome.reversedAt?.toISOString() ?? null },
      });
    case "not_refundable":
      throw new ApiError(
        "INVALID_STATE",
        `Only successful payments can be refunded (this one is ${outcome.paymentStatus})`,
      );
    case "provider_refused": {
      const error = outcome.error;
      const mapped = isAtmosError(error) ? atmosErrorCode(error) : null;
      throw new ApiError(
        mapped?.code === "PAYMENT_PROVIDER_UNAVAILABLE" || !mapped
          ? "PAYMENT_PROVIDER_UNAVAILABLE"
          : "INVALID_STATE",
        `ATMOS refused the refund: ${isAtmosError(error) ? error.message : "unknown error"}`,
        { ...(isAtmosError(error) ? { details: { atmos_error: error.kind } } : {}) },
      );
    }
    case "provider_unknown": {
      // Nothing changed; the attempt itself is recorded so nobody refunds blindly again.
      await deps.db.transaction((tx) =>
        recordRefundUnknown(tx, deps, {
          paymentId,
          by,
          transactionId: outcome.transactionId,
          error: outcome.error,
        }),
      );
      countAction(deps, "payment.refunded", "unknown");
      deps.logger.warn({ paymentId, actor: admin.actor }, "refund outcome unknown");
      throw new ApiError(
        "PAYMENT_PROVIDER_UNAVAILABLE",
        "ATMOS did not confirm the refund; nothing was marked refunded. Check with `pnpm reconcile` before retrying.",
        { details: { outcome: "unknown" } },
      );
    }
    case "refunded":
      break;
  }
  await flushNotifications(deps, outcome.notificationIds);
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
  const outcome = await deps.db.transaction((tx) =>
    grantDays(tx, deps, { subscriptionId, days, by: byAdmin(admin, reason) }),
  );
  if (outcome.status === "not_found") throw new ApiError("SUBSCRIPTION_NOT_FOUND", "Subscription not found");
  if (outcome.status === "refused") {
    throw new ApiError(
      "INVALID_STATE",
      `Only a live subscription can be extended (this one is ${outcome.current})`,
    );
  }
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "subscription.extended", "ok");
  deps.logger.info({ subscriptionId, days, actor: admin.actor }, "admin action");
  return { subscription: await subscriptionById(deps, subscriptionId), audit_id: outcome.auditId };
}

/** Access ends now: status `canceled`, auto-renew off, role back to `user`. */
export async function cancelSubscriptionNow(
  deps: AdminDeps,
  admin: AdminIdentity,
  subscriptionId: number,
  reason: string,
) {
  const outcome = await deps.db.transaction((tx) =>
    cancelNow(tx, deps, { subscriptionId, by: byAdmin(admin, reason) }),
  );
  if (outcome.status === "not_found") throw new ApiError("SUBSCRIPTION_NOT_FOUND", "Subscription not found");
  if (outcome.status === "refused") {
    throw new ApiError("INVALID_STATE", `The subscription is already ${outcome.current}`);
  }
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "subscription.canceled", "ok");
  deps.logger.info({ subscriptionId, actor: admin.actor }, "admin action");
  return { subscription: await subscriptionById(deps, subscriptionId), audit_id: outcome.auditId };
}

/**
 * Refund of a Telegram Stars payment: Telegram's refundStarPayment (the Stars go back to the user),
 * then the money core records it like Telegram's refunded_payment, with the admin in the audit row.
 * "Already refunded" at Telegram counts as done; no answer writes payment.refund_unknown (503).
 */
async function refundStars(deps: AdminDeps, admin: AdminIdentity, paymentId: number, by: AuditBy) {
  if (!deps.stars) throw new ApiError("SERVICE_UNAVAILABLE", "Telegram Stars is not configured");
  const api = deps.stars;
  const outcome = await deps.db.transaction(async (tx) => {
    const row = await getPaymentRow(tx, paymentId);
    return refundStarsPayment(tx, deps, {
      paymentId,
      by,
      refund: async ({ telegramPaymentChargeId }) => {
        try {
          await api.refundStarPayment({
            user_id: row!.user.telegramId,
            telegram_payment_charge_id: telegramPaymentChargeId,
          });
          return { status: "done" };
        } catch (error) {
          if (!(error instanceof BotApiError)) throw error;
          if (/CHARGE_ALREADY_REFUNDED/.test(error.description)) return { status: "done" };
          if (error.errorCode === null || error.errorCode >= 500)
            return { status: "unknown", error: error.description };
          return { status: "refused", error: error.description };
        }
      },
    });
  });
  switch (outcome.status) {
    case "not_found":
      throw new ApiError("PAYMENT_NOT_FOUND", "Payment not found");
    case "already_refunded":
      throw new ApiError("INVALID_STATE", "This payment was already refunded");
    case "not_refundable":
      throw new ApiError(
        "INVALID_STATE",
        `Only successful payments can be refunded (this one is ${outcome.paymentStatus})`,
      );
    case "provider_refused":
      throw new ApiError("INVALID_STATE", `Telegram refused the refund: ${outcome.error}`);
    case "provider_unknown":
      countAction(deps, "payment.refunded", "unknown");
      throw new ApiError(
        "PAYMENT_PROVIDER_UNAVAILABLE",
        "Telegram did not confirm the refund; nothing was marked refunded. Check getStarTransactions before retrying.",
        { details: { outcome: "unknown" } },
      );
    case "refunded":
      break;
  }
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "payment.refunded", "ok");
  deps.logger.info(
    { paymentId, action: "payment.refunded", actor: admin.actor, rail: "stars" },
    "admin action",
  );
  return {
    payment: await paymentById(deps, paymentId),
    subscription: outcome.subscriptionId ? await subscriptionById(deps, outcome.subscriptionId) : null,
    audit_id: outcome.auditId,
  };
}
