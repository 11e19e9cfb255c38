import { type AuditBy, refundStarsPayment as refundStarsInCore } from "@obuna/billing";
import type { AdminPayment, AdminSubscription } from "@obuna/contracts/http";
import { getPaymentRow } from "@obuna/db/queries";
import { flushNotifications } from "../../services/notifications";
import { BotApiError } from "../../telegram-bot-api";
import type { AdminIdentity } from "../auth";
import { type AdminDeps, countAction, refundedViews } from "../shared";

export type StarsRefundOutcome =
  | {
      status: "refunded";
      payment: AdminPayment;
      subscription: AdminSubscription | null;
      auditId: number;
    }
  | { status: "not_found" }
  | { status: "already_refunded"; rail: "stars" }
  | { status: "not_refundable"; paymentStatus: string }
  | { status: "provider_refused"; rail: "stars"; message: string }
  /** Telegram gave no definite answer: nothing was marked refunded. */
  | { status: "provider_unknown"; rail: "stars" }
  /** This gateway has no Telegram Stars configured. */
  | { status: "stars_not_configured" };

/**
 * Refund of a Telegram Stars payment: Telegram's refundStarPayment (the Stars go back to the user),
 * then the money core records it like Telegram's refunded_payment, with the admin in the audit row.
 * "Already refunded" at Telegram counts as done; no answer writes payment.refund_unknown.
 */
export async function refundStarsPayment(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: { paymentId: number; by: AuditBy },
): Promise<StarsRefundOutcome> {
  const { paymentId, by } = input;
  if (!deps.stars) return { status: "stars_not_configured" };
  const api = deps.stars;
  const outcome = await deps.db.transaction(async (tx) => {
    const row = await getPaymentRow(tx, paymentId);
    return refundStarsInCore(tx, deps, {
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
      return { status: "not_found" };
    case "already_refunded":
      return { status: "already_refunded", rail: "stars" };
    case "not_refundable":
      return { status: "not_refundable", paymentStatus: outcome.paymentStatus };
    case "provider_refused":
      return { status: "provider_refused", rail: "stars", message: outcome.error };
    case "provider_unknown":
      countAction(deps, "payment.refunded", "unknown");
      return { status: "provider_unknown", rail: "stars" };
    case "refunded":
      break;
  }
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "payment.refunded", "ok");
  deps.logger.info(
    { paymentId, action: "payment.refunded", actor: admin.actor, rail: "stars" },
    "admin action",
  );
  const views = await refundedViews(deps, paymentId, outcome.subscriptionId);
  return views ? { status: "refunded", ...views, auditId: outcome.auditId } : { status: "not_found" };
}
