import { cancelNow } from "@obuna/billing";
import type { AdminSubscription } from "@obuna/contracts/http";
import { flushNotifications } from "../../services/notifications";
import type { AdminIdentity } from "../auth";
import { type AdminDeps, byAdmin, countAction, subscriptionViewById } from "../shared";

export type CancelOutcome =
  | { status: "canceled"; subscription: AdminSubscription; auditId: number }
  | { status: "not_found" }
  /** Already over; `current` is its status. */
  | { status: "refused"; current: string };

/**
 * Access ends now: status `canceled`, auto-renew off, role back to `user` (the money core's
 * `cancelNow`, audited, in one transaction).
 */
export async function cancelSubscriptionNow(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: { subscriptionId: number; reason: string },
): Promise<CancelOutcome> {
  const { subscriptionId, reason } = input;
  const outcome = await deps.db.transaction((tx) =>
    cancelNow(tx, deps, { subscriptionId, by: byAdmin(admin, reason) }),
  );
  if (outcome.status === "not_found") return { status: "not_found" };
  if (outcome.status === "refused") return { status: "refused", current: outcome.current };
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "subscription.canceled", "ok");
  deps.logger.info({ subscriptionId, actor: admin.actor }, "admin action");
  const subscription = await subscriptionViewById(deps, subscriptionId);
  return subscription
    ? { status: "canceled", subscription, auditId: outcome.auditId }
    : { status: "not_found" };
}
