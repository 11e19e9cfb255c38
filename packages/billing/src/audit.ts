import type { Transaction } from "@obuna/db";
import { insertAuditEntry } from "@obuna/db/queries";

/**
 * Every audited action, closed: a new action is added here, never spelled inline at a call site.
 * Stored in `audit_log.action` as written. (Before the money core, "subscription.cancelled" and
 * "subscription.canceled" both existed; the one spelling is "subscription.canceled".)
 */
export const AUDIT_ACTIONS = [
  "payment.succeeded",
  "payment.refunded",
  "payment.refund_unknown",
  "payment_session.failed",
  "subscription.extended",
  "subscription.canceled",
  "subscription.resumed",
  "subscription.stars_renewal_canceled",
  "subscription.stars_cancel_failed",
  "subscription.expired",
  "renewal.succeeded",
  "renewal.charged_without_extension",
  "renewal.declined",
  "renewal.cancelled_before_charge",
  "card.binding_refused",
  "card.deactivated",
  "card.reactivated",
  "card.removed",
  "card.token_erased",
  "card.binding_erased",
  "plan.created",
  "plan.updated",
  "plan.price_changed",
  "event.resent",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditEntity =
  | "payment"
  | "payment_session"
  | "subscription"
  | "bound_card"
  | "plan"
  | "user"
  | "event_delivery";

export interface AuditEntry {
  /** Who: `admin:<id>`, `user:<telegram id>`, `system:<job>`. Comes from the credential, never from input. */
  actor: string;
  action: AuditAction;
  entityType: AuditEntity;
  entityId: string | number;
  reason?: string | null;
  details?: Record<string, unknown> | null;
}

/** Writes the audit row inside the action's own transaction. Returns its id. */
export async function writeAudit(tx: Transaction, entry: AuditEntry, now: Date): Promise<number> {
  return insertAuditEntry(tx, {
    actor: entry.actor,
    action: entry.action,
    entityType: entry.entityType,
    entityId: String(entry.entityId),
    reason: entry.reason ?? null,
    details: entry.details ?? null,
    createdAt: now,
  });
}
