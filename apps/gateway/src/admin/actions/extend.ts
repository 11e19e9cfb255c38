import { grantDays } from "@obuna/billing";
import type { AdminSubscription } from "@obuna/contracts/http";
import { flushNotifications } from "../../services/notifications";
import type { AdminIdentity } from "../auth";
import { type AdminDeps, byAdmin, countAction, subscriptionViewById } from "../shared";

export type ExtendOutcome =
  | { status: "extended"; subscription: AdminSubscription; auditId: number }
  | { status: "not_found" }
  /** Only a live subscription can be extended; `current` is its status. */
  | { status: "refused"; current: string };

/** Adds days to a live subscription: the money core's `grantDays`, audited, in one transaction. */
export async function extendSubscription(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: { subscriptionId: number; days: number; reason: string },
): Promise<ExtendOutcome> {
  const { subscriptionId, days, reason } = input;
  const outcome = await deps.db.transaction((tx) =>
    grantDays(tx, deps, { subscriptionId, days, by: byAdmin(admin, reason) }),
  );
  if (outcome.status === "not_found") return { status: "not_found" };
  if (outcome.status === "refused") return { status: "refused", current: outcome.current };
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "subscription.extended", "ok");
  deps.logger.info({ subscriptionId, days, actor: admin.actor }, "admin action");
  const subscription = await subscriptionViewById(deps, subscriptionId);
  return subscription
    ? { status: "extended", subscription, auditId: outcome.auditId }
    : { status: "not_found" };
}
