import {
  failSessionPayment,
  isProviderError,
  markSessionPaymentUnknown,
  type ProviderPayment,
  resolveSessionCharge,
  settleConfirmedSession,
} from "@obuna/billing";
import { getSessionView } from "@obuna/db/queries";
import { flushNotifications } from "../notifications";
import { afterCardPayment } from "../stars-handover";
import type { Deps } from "./session";

export type Reconciliation = "completed" | "failed" | "unknown" | "awaiting_confirmation";

/**
 * Asks the provider for the session's payment and finishes the session accordingly: confirmed →
 * success (exactly once), closed or reversed → failed (a reversed payment is never a success),
 * otherwise unchanged (payment `unknown` when `recordUnknown`). Serves confirm, the callback and GET
 * session. `reportAwaiting`: a payment the provider still awaits the confirm for is answered
 * `awaiting_confirmation` (nothing recorded), so the confirm step may send its confirm again.
 */
export async function reconcileSession(
  deps: Deps,
  sessionId: string,
  options: { recordUnknown?: boolean; reportAwaiting?: boolean } = {},
): Promise<Reconciliation> {
  const view = await getSessionView(deps.db, sessionId);
  if (!view || view.session.externalId === null) return "unknown";
  if (view.session.status === "completed") return "completed";
  if (view.session.status !== "processing") return view.session.status === "failed" ? "failed" : "unknown";
  let payment: ProviderPayment | null = null;
  try {
    payment = await deps.provider.getPayment(view.session.externalId);
  } catch (error) {
    deps.logger.warn(
      { sessionId, kind: isProviderError(error) ? error.kind : "error" },
      "could not read the ATMOS transaction",
    );
  }
  if (options.reportAwaiting && payment?.state === "awaiting_confirmation") return "awaiting_confirmation";
  const resolution = resolveSessionCharge(payment?.state ?? null);
  if (resolution.next === "complete") {
    await finalizeSuccess(deps, sessionId, payment!, "reconcile");
    return "completed";
  }
  if (resolution.next === "fail") {
    // A reversed payment was paid once, then reversed by the provider (e.g. after a lost confirm
    // answer): the money went back, so the session fails — no subscription, no premium.
    await failPayment(deps, sessionId, resolution.reason, resolution.message);
    return "failed";
  }
  if (options.recordUnknown) {
    await markSessionPaymentUnknown(deps.db, deps, { sessionId });
    deps.metrics.payments.inc({ outcome: "unknown" });
  }
  return "unknown";
}

export async function failPayment(
  deps: Deps,
  sessionId: string,
  reason: string,
  message: string,
  otpAttempts?: number,
) {
  await deps.db.transaction((tx) =>
    failSessionPayment(tx, deps, {
      sessionId,
      reason,
      message,
      ...(otpAttempts === undefined ? {} : { otpAttempts }),
    }),
  );
  deps.metrics.payments.inc({ outcome: "failed" });
}

/**
 * The one place a first payment succeeds: the money core's `settleConfirmedSession` in one database
 * transaction (payment success, the subscription started or extended, the session's card made the
 * user's only if the provider charged that card, the user premium, the session completed, an audit
 * row, the user's notification in the outbox). Runs at most once per session (the locked session row
 * decides); the notification is handed to the queue after the commit.
 */
export async function finalizeSuccess(
  deps: Deps,
  sessionId: string,
  payment: ProviderPayment,
  source: string,
) {
  // Only a payment the provider reports confirmed grants anything (a reversed one was refunded).
  if (payment.state !== "confirmed") {
    throw new Error(`finalizeSuccess: transaction ${payment.externalId} is ${payment.state}`);
  }
  const done = await settleConfirmedSession(
    deps.db,
    {
      clock: deps.clock,
      cardTokenKey: deps.config.cardTokenKey,
      onCardRefused: (info) =>
        deps.logger.warn(
          info,
          "SECURITY: ATMOS charged another card than the one this session bound: card not activated",
        ),
    },
    {
      sessionId,
      charge: {
        externalId: payment.externalId,
        state: "confirmed",
        settlementId: payment.settlementId,
        ofdUrl: payment.receiptUrl,
        cardId: payment.cardRef,
      },
      source,
      actor: "gateway",
    },
  );
  if (done?.status !== "completed") return;
  if (payment.receiptUrl === null) {
    deps.logger.warn(
      { sessionId, paymentId: done.paymentId, transactionId: payment.externalId, source },
      "charged without a fiscal receipt: shown in admin (no receipt) and in reconcile",
    );
  }
  deps.metrics.payments.inc({ outcome: "success" });
  await flushNotifications(deps, done.notificationIds);
  // A card payment with auto-renew takes over a Stars-renewed subscription: Telegram is told (docs/stars.md).
  await afterCardPayment(deps, done.subscriptionId);
}
