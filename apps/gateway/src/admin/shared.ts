import type { AuditBy, AuditEntry } from "@obuna/billing";
import type { AdminCardActionResponse, AdminPayment, AdminSubscription } from "@obuna/contracts/http";
import { getPaymentRow, listBoundCards, listSubscriptions } from "@obuna/db/queries";
import type { GatewayDeps } from "../context";
import type { GatewayMetrics } from "../metrics";
import type { AdminIdentity } from "./auth";
import { opsCounter } from "./metrics";
import { boundCardView, paymentView, subscriptionView } from "./views";

/** What the admin reads and actions (./reads.ts, ./actions/*, plans, event deliveries) share. */

export type AdminDeps = GatewayDeps & { metrics: GatewayMetrics };

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

// ------------------------------------------------------------------ one row, as the admin API shows it

export async function cardView(deps: AdminDeps, id: number): Promise<AdminCardActionResponse["card"] | null> {
  const { rows } = await listBoundCards(deps.db, { limit: 1, offset: 0, ids: [id] });
  return rows[0] ? boundCardView(rows[0]) : null;
}

export async function subscriptionViewById(deps: AdminDeps, id: number): Promise<AdminSubscription | null> {
  const { rows } = await listSubscriptions(deps.db, { limit: 1, offset: 0, ids: [id] });
  return rows[0] ? subscriptionView(rows[0]) : null;
}

export async function paymentViewById(deps: AdminDeps, id: number): Promise<AdminPayment | null> {
  const row = await getPaymentRow(deps.db, id);
  return row ? paymentView(row) : null;
}

/** A refunded payment and its subscription (null when the payment had none). */
export async function refundedViews(
  deps: AdminDeps,
  paymentId: number,
  subscriptionId: number | null,
): Promise<{ payment: AdminPayment; subscription: AdminSubscription | null } | null> {
  const payment = await paymentViewById(deps, paymentId);
  if (!payment) return null;
  return { payment, subscription: subscriptionId ? await subscriptionViewById(deps, subscriptionId) : null };
}
