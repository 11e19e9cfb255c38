import { isProviderError, type ProviderPayment } from "@obuna/billing";
import type { AtmosApplyResponse } from "@obuna/contracts/http";
import type { PaymentSession } from "@obuna/db";
import { decryptCardToken } from "@obuna/db/crypto";
import {
  claimSessionForApply,
  ensurePendingPayment,
  failSession,
  getSessionView,
  planReceiptItems,
  releaseSession,
} from "@obuna/db/queries";
import type { Caller } from "../../context";
import { asResult, type CheckoutResult, Refused, refuse } from "../outcome";
import { confirmBinding } from "./bind-card";
import { endAfterRefusal } from "./declines";
import { providerRefusal } from "./errors";
import { isPassingFault, pause, retryPreMoney } from "./faults";
import { assertPayable, assertPayment, type Deps, loadSession, MAX_OTP_ATTEMPTS } from "./session";
import { finalizeSuccess, reconcileSession } from "./settle";
import { applyResult } from "./views";

/** Sends the session's confirm (the money moves): by SMS code, or with the saved card just bound. */
type SendConfirm = () => Promise<ProviderPayment>;

/** Answers to a confirm that do not say whether it took effect ("closed" may mean "already paid"). */
const UNCLEAR = ["timeout", "server_error", "bad_response", "payment_closed"];

/**
 * checkout/apply: confirms the payment with the SMS code; repeating it for a paid session charges
 * nothing (answered from the stored state).
 */
export function confirmPayment(
  deps: Deps,
  caller: Caller,
  input: { session_id: string; transaction_id: number; otp: string },
): Promise<CheckoutResult<AtmosApplyResponse>> {
  return asResult(async () => {
    const view = await loadSession(deps, caller, input.session_id);
    const { session } = view;
    if (session.status === "completed" || session.status === "processing") {
      if (session.externalId !== String(input.transaction_id)) assertPayment(session, input.transaction_id);
      return applyResult(deps, session.id);
    }
    assertPayable(session);
    const externalId = assertPayment(session, input.transaction_id);
    if (session.otpSentAt === null) refuse("INVALID_STATE", "Enter the card first (pre-apply)");
    if (session.otpAttempts >= MAX_OTP_ATTEMPTS) {
      await failSession(deps.db, session.id, { reason: "otp_attempts_exceeded", now: deps.clock() });
      refuse("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes for this session");
    }

    const claimed = await claimSessionForApply(deps.db, session.id, deps.clock());
    if (!claimed) {
      // A concurrent apply won, or the session just expired/changed: answer from the stored state.
      const again = await loadSession(deps, caller, session.id);
      if (again.session.status === "completed" || again.session.status === "processing")
        return applyResult(deps, session.id);
      assertPayable(again.session);
      refuse("INVALID_STATE", "The session changed; try again");
    }

    let send: SendConfirm;
    try {
      send = await prepareCharge(deps, claimed, externalId, input.otp, view.plan);
    } catch (error) {
      if (error instanceof Refused) throw error;
      // An unexpected failure before any money moved: the session stays payable.
      await releaseSession(deps.db, claimed.id, { now: deps.clock() });
      throw error;
    }
    // Step 2: the money moves.
    return charge(deps, claimed, externalId, send, CONFIRM_RESENDS);
  });
}

/**
 * HTTP answers that say the confirm was not taken: the provider's front (proxy, load balancer) refused
 * to pass it on. Anything else unclear (a timeout, a cut connection, a 500 or 504, an answer that is not
 * a confirmation) may mean the confirm is still being processed, so it is never sent again.
 */
const NOT_TAKEN_HTTP_STATUSES = new Set([502, 503]);

/**
 * How often a confirm that was not taken is sent again (after a pause of RESEND_PAUSE_MS × the
 * resend's number). With 5 % of calls refused at the front (chaos first-payment-faults), one resend
 * left about one session in 400 (0.05²) `processing` until the stuck-session re-check failed it
 * unpaid (3 of 30 runs of 30 payments left one); two leave about one in 8 000 (0.05³; docs/chaos.md).
 */
export const CONFIRM_RESENDS = 2;
const RESEND_PAUSE_MS = 200;

/**
 * Sends the confirm and settles its answer. An unclear answer is resolved with `getPayment`. When the
 * confirm was refused in front of the provider (502/503) and the provider shows the payment still
 * awaiting its confirm, the confirm is sent again, at most `resendsLeft` more times; ATMOS also refuses
 * a second confirm of a confirmed or closed payment, so this cannot charge twice.
 */
async function charge(
  deps: Deps,
  claimed: PaymentSession,
  externalId: string,
  send: SendConfirm,
  resendsLeft: number,
): Promise<AtmosApplyResponse> {
  const log = deps.logger.child({ sessionId: claimed.id, transactionId: externalId });
  let payment: ProviderPayment;
  try {
    payment = await send();
  } catch (error) {
    if (isProviderError(error) && (error.outcomeUnknown || UNCLEAR.includes(error.kind))) {
      log.warn({ kind: error.kind }, "apply outcome unknown: asking ATMOS");
      const notTaken = error.httpStatus !== null && NOT_TAKEN_HTTP_STATUSES.has(error.httpStatus);
      return resolveUnknown(
        deps,
        claimed,
        externalId,
        resendsLeft > 0 && notTaken ? send : null,
        resendsLeft,
      );
    }
    return endAfterRefusal(deps, claimed, error, "apply");
  }
  if (payment.state !== "confirmed") {
    log.warn({ state: payment.state }, "apply answered without confirmation: asking ATMOS");
    // It reached the provider: it may still be confirming, so it is not sent again.
    return resolveUnknown(deps, claimed, externalId, null, 0);
  }
  await finalizeSuccess(deps, claimed.id, payment, "apply");
  return applyResult(deps, claimed.id);
}

/** After a lost/unclear confirm answer: ask the provider; record `unknown` if it still cannot tell. */
async function resolveUnknown(
  deps: Deps,
  session: PaymentSession,
  externalId: string,
  resend: SendConfirm | null,
  resendsLeft: number,
): Promise<AtmosApplyResponse> {
  const outcome = await reconcileSession(deps, session.id, {
    recordUnknown: true,
    reportAwaiting: resend !== null,
  });
  if (outcome === "awaiting_confirmation" && resend !== null) {
    const resendNumber = CONFIRM_RESENDS - resendsLeft + 1;
    deps.logger.warn(
      { sessionId: session.id, transactionId: externalId, resend: resendNumber },
      "apply not taken by ATMOS (still awaiting confirmation): sending it again",
    );
    await pause(RESEND_PAUSE_MS * resendNumber);
    return charge(deps, session, externalId, resend, resendsLeft - 1);
  }
  if (outcome === "failed") {
    const failed = (await getSessionView(deps.db, session.id))!.session;
    refuse("CARD_DECLINED", `The payment did not go through (${failed.failureReason ?? "closed"})`);
  }
  return applyResult(deps, session.id);
}

/**
 * Everything before the charge: records the pending payment and, for a fresh card binding, confirms
 * it with the user's code, records the binding on the session and prepares the saved-card payment.
 * Returns how to send the confirm.
 */
async function prepareCharge(
  deps: Deps,
  claimed: PaymentSession,
  externalId: string,
  code: string,
  plan: Parameters<typeof planReceiptItems>[0],
): Promise<SendConfirm> {
  await ensurePendingPayment(deps.db, {
    sessionId: claimed.id,
    userId: claimed.userId,
    amount: claimed.amount,
    externalId,
    cardMasked: claimed.cardMasked,
    offerVersion: claimed.offerVersion,
    offerAcceptedAt: claimed.offerAcceptedAt,
  });
  // The fiscal confirm: the charge and its receipt with the plan's IKPU/package code/VAT.
  const receipt = planReceiptItems(plan, claimed.amount);
  if (!claimed.autoRenew || claimed.bindingId === null) {
    return () => deps.provider.confirmPayment({ externalId, code, receipt });
  }

  // A binding an earlier apply confirmed stays on the session when the saved-card preparation after
  // it met a passing fault: its code is spent, so only the preparation is sent again.
  const cardToken =
    claimed.bindCardRef !== null && claimed.bindCardToken !== null
      ? decryptCardToken(claimed.bindCardToken, deps.config.cardTokenKey)
      : await confirmBinding(deps, claimed, claimed.bindingId, code);
  try {
    await retryPreMoney(deps, "pre-apply-token", () =>
      deps.provider.prepareSavedCardPayment({ externalId, cardToken }),
    );
  } catch (error) {
    if (isPassingFault(error)) {
      // No money moved and the binding is recorded: the session stays payable; the next apply
      // prepares the saved-card payment again.
      await releaseSession(deps.db, claimed.id, { now: deps.clock() });
      const mapped = providerRefusal(error);
      refuse(mapped.code, mapped.message);
    }
    // The provider refused the token (card blocked, expired...): the attempt ends cleanly, nothing charged.
    return endAfterRefusal(deps, claimed, error, "pre-apply-token", { terminal: true });
  }
  return () => deps.provider.confirmSavedCardPayment({ externalId, receipt });
}
