import {
  isProviderError,
  type PaymentProvider,
  type ProviderErrorKind,
  recordRefundUnknown,
  refundPayment as refundInCore,
} from "@obuna/billing";
import type { AdminPayment, AdminSubscription } from "@obuna/contracts/http";
import { getPaymentRow } from "@obuna/db/queries";
import { flushNotifications } from "../../services/notifications";
import type { AdminIdentity } from "../auth";
import { type AdminDeps, byAdmin, countAction, refundedViews } from "../shared";
import { refundStarsPayment, type StarsRefundOutcome } from "./refund-stars";

export type RefundOutcome =
  | {
      status: "refunded";
      payment: AdminPayment;
      subscription: AdminSubscription | null;
      auditId: number;
    }
  | { status: "not_found" }
  | { status: "already_refunded"; rail: "card"; reversedAt: Date | null }
  | { status: "not_refundable"; paymentStatus: string }
  /** The card provider answered definitely: it did not reverse. */
  | { status: "provider_refused"; rail: "card"; errorKind: ProviderErrorKind | null; message: string | null }
  /** No definite answer: nothing was marked refunded, a `payment.refund_unknown` audit row was written. */
  | { status: "provider_unknown"; rail: "card" }
  | StarsRefundOutcome;

/** Provider answers to a reverse that say nothing definite: `getPayment` decides. */
const UNCLEAR_KINDS = new Set<ProviderErrorKind>([
  "timeout",
  "server_error",
  "bad_response",
  "payment_closed",
]);

/**
 * What happened to a reverse whose answer was an error: the provider's `getPayment` decides.
 * `reversed` → it went through (or had before); `not_reversed` → the payment still stands there;
 * `unknown` → ask later.
 */
async function reverseOutcome(
  provider: Pick<PaymentProvider, "getPayment">,
  externalId: string | null,
  error: unknown,
): Promise<"reversed" | "not_reversed" | "unknown"> {
  if (!isProviderError(error)) return "unknown";
  if (!error.outcomeUnknown && !UNCLEAR_KINDS.has(error.kind)) return "not_reversed";
  if (externalId === null) return "unknown";
  let state: string;
  try {
    state = (await provider.getPayment(externalId)).state;
  } catch {
    return "unknown";
  }
  if (state === "reversed") return "reversed";
  if (state === "confirmed" && !error.outcomeUnknown) return "not_reversed";
  return "unknown";
}

/**
 * Refund = the provider's reverse of the settled charge, through the money core's `refundPayment`:
 * under the payment's row lock (a second refund waits, then sees `reversed` → already refunded),
 * reverse at the provider, then payment `reversed`, the subscription loses the payment's period
 * (expired + role back when that ends it), audit row — one transaction. An unclear provider answer
 * marks nothing reversed: a `payment.refund_unknown` audit row is written; `pnpm reconcile` shows
 * the truth. A Telegram Stars payment is refunded through Telegram (./refund-stars.ts).
 */
export async function refundPayment(
  deps: AdminDeps,
  admin: AdminIdentity,
  input: { paymentId: number; reason: string },
): Promise<RefundOutcome> {
  const { paymentId, reason } = input;
  const by = byAdmin(admin, reason);
  const row = await getPaymentRow(deps.db, paymentId);
  if (row?.payment.provider === "telegram_stars") return refundStarsPayment(deps, admin, { paymentId, by });
  const outcome = await deps.db.transaction((tx) =>
    refundInCore(tx, deps, {
      paymentId,
      by,
      reverse: async (payment) => {
        try {
          await deps.provider.reversePayment({
            externalId: payment.externalId ?? "",
            settlementId: payment.settlementId,
            reason,
          });
          return { status: "reversed" };
        } catch (error) {
          const result = await reverseOutcome(deps.provider, payment.externalId, error);
          if (result === "unknown")
            return { status: "unknown", error: isProviderError(error) ? error.kind : "error" };
          if (result === "not_reversed") return { status: "not_reversed", error };
          return { status: "reversed" };
        }
      },
    }),
  );
  switch (outcome.status) {
    case "not_found":
      return { status: "not_found" };
    case "already_refunded":
      return { status: "already_refunded", rail: "card", reversedAt: outcome.reversedAt };
    case "not_refundable":
      return { status: "not_refundable", paymentStatus: outcome.paymentStatus };
    case "provider_refused": {
      const error = outcome.error;
      return {
        status: "provider_refused",
        rail: "card",
        errorKind: isProviderError(error) ? error.kind : null,
        message: isProviderError(error) ? error.message : null,
      };
    }
    case "provider_unknown":
      // Nothing changed; the attempt itself is recorded so nobody refunds blindly again.
      await deps.db.transaction((tx) =>
        recordRefundUnknown(tx, deps, {
          paymentId,
          by,
          externalId: outcome.externalId,
          error: outcome.error,
        }),
      );
      countAction(deps, "payment.refunded", "unknown");
      deps.logger.warn({ paymentId, actor: admin.actor }, "refund outcome unknown");
      return { status: "provider_unknown", rail: "card" };
    case "refunded":
      break;
  }
  await flushNotifications(deps, outcome.notificationIds);
  countAction(deps, "payment.refunded", "ok");
  deps.logger.info({ paymentId, action: "payment.refunded", actor: admin.actor }, "admin action");
  const views = await refundedViews(deps, paymentId, outcome.subscriptionId);
  return views ? { status: "refunded", ...views, auditId: outcome.auditId } : { status: "not_found" };
}
