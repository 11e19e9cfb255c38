import { deactivateCard, reactivateCard } from "@obuna/billing";
import type { AdminCardActionResponse } from "@obuna/contracts/http";
import { flushNotifications } from "../../services/notifications";
import type { AdminIdentity } from "../auth";
import { type AdminDeps, cardView, countAction } from "../shared";

export type CardActiveOutcome =
  | { status: "changed"; card: AdminCardActionResponse["card"]; auditId: number }
  | { status: "not_found" }
  /** The card was removed at the provider: it cannot change any more. */
  | { status: "removed" }
  /** Already in the state asked for. */
  | { status: "unchanged" };

/**
 * Deactivate (renewals skip it; the user is told) or reactivate a bound card: the money core's
 * `deactivateCard` / `reactivateCard`, audited, in one transaction.
 */
export async function setCardActive(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: { cardId: number; active: boolean; reason: string },
): Promise<CardActiveOutcome> {
  const { cardId, active, reason } = input;
  const now = deps.clock();
  const action = active ? "card.reactivated" : "card.deactivated";
  const cardDeps = { cardTokenKey: deps.config.cardTokenKey };
  const change = await deps.db.transaction((tx) => {
    const by = { cardId, actor: admin.actor, reason, details: { via: admin.via }, now };
    return active
      ? reactivateCard(tx, cardDeps, by)
      : deactivateCard(tx, cardDeps, { ...by, notifyUser: true });
  });
  if (change.status !== "changed") return { status: change.status };
  await flushNotifications(deps, change.notificationId ? [change.notificationId] : []);
  countAction(deps, action, "ok");
  deps.logger.info({ cardId, action, actor: admin.actor }, "admin action");
  const card = await cardView(deps, cardId);
  return card ? { status: "changed", card, auditId: change.auditId } : { status: "not_found" };
}
