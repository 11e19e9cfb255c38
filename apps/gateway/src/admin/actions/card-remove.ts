import { removeCard } from "@obuna/billing";
import type { AdminCardActionResponse } from "@obuna/contracts/http";
import { flushNotifications } from "../../services/notifications";
import type { AdminIdentity } from "../auth";
import { type AdminDeps, cardView, countAction } from "../shared";

export type CardRemoveOutcome =
  | { status: "removed"; card: AdminCardActionResponse["card"]; auditId: number }
  | { status: "not_found" }
  | { status: "already_removed" }
  /** The provider did not remove it (refused, or no definite answer): nothing changed here. */
  | { status: "provider_failed"; errorKind: string | null };

/**
 * The provider's remove-card (unless another holder needs the card; already gone there is fine),
 * then removed + subscriptions stop renewing with it + audit + the user's message, in one
 * transaction: the money core's `removeCard`.
 */
export async function removeCardAtProvider(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: { cardId: number; reason: string },
): Promise<CardRemoveOutcome> {
  const { cardId, reason } = input;
  const removal = await removeCard(
    deps.db,
    { cardTokenKey: deps.config.cardTokenKey, provider: deps.provider },
    { cardId, actor: admin.actor, reason, details: { via: admin.via }, notifyUser: true, now: deps.clock() },
  );
  switch (removal.status) {
    case "not_found":
    case "already_removed":
      return { status: removal.status };
    case "provider_failed":
      countAction(deps, "card.removed", "atmos_error");
      return { status: "provider_failed", errorKind: removal.provider.kind };
    case "removed":
      break;
  }
  await flushNotifications(deps, removal.notificationId ? [removal.notificationId] : []);
  countAction(deps, "card.removed", "ok");
  deps.logger.info({ cardId, action: "card.removed", actor: admin.actor }, "admin action");
  const card = await cardView(deps, cardId);
  return card ? { status: "removed", card, auditId: removal.auditId } : { status: "not_found" };
}
