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
  listAuditLog,
  listBoundCards,
  listPaymentSessions,
  listPayments,
  listSubscriptions,
  listUsers,
} from "@obuna/db/queries";
import { dashboardFigures } from "./dashboard";
import type { AdminDeps } from "./shared";
import {
  auditView,
  boundCardView,
  paymentSessionView,
  paymentView,
  subscriptionView,
  userView,
} from "./views";

/** The admin API's reads: the dashboard and the paged lists (one endpoint file each in ./endpoints). */

/** A session in `processing` longer than this counts as stuck on the dashboard. */
export const STUCK_SESSION_MS = 10 * 60_000;

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
