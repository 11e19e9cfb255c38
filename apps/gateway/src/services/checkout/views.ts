import { renewsWith } from "@obuna/billing";
import type { AtmosApplyResponse, PaymentSessionResponse } from "@obuna/contracts/http";
import { pickLanguage } from "@obuna/contracts/http";
import { formatPeriod, formatSom } from "@obuna/contracts/money";
import type { Plan } from "@obuna/db";
import {
  getSessionPayment,
  getSessionSuccessfulPayment,
  getSessionView,
  getSubscriptionById,
  planName,
  type SessionView,
} from "@obuna/db/queries";
import type { Caller } from "../../context";
import { asResult, type CheckoutResult, refuse } from "../outcome";
import { type Deps, loadSession, MAX_OTP_ATTEMPTS, refuseExpired } from "./session";
import { reconcileSession } from "./settle";

/** A `processing` session whose confirm request vanished is re-checked at the provider after this long. */
const STALE_PROCESSING_MS = 2 * 60 * 1000;

export function planSummary(
  plan: Pick<Plan, "slug" | "nameUz" | "nameRu" | "nameEn" | "price" | "durationDays">,
  lang: "uz" | "ru" | "en" = "uz",
) {
  return {
    slug: plan.slug as "monthly" | "quarterly" | "yearly",
    name: planName(plan, lang),
    names: { uz: plan.nameUz, ru: plan.nameRu, en: plan.nameEn },
    price: formatSom(plan.price),
    price_raw: plan.price,
    duration_days: plan.durationDays,
    period: formatPeriod(plan.durationDays, lang),
  };
}

export async function describeSession(deps: Deps, view: SessionView): Promise<PaymentSessionResponse> {
  const { session, plan } = view;
  const lang = view.language ?? pickLanguage(view.languageCode);
  let subscription: PaymentSessionResponse["subscription"] = null;
  if (session.status === "completed") {
    // The card charge or the Telegram Stars payment that completed it.
    const payment = await getSessionSuccessfulPayment(deps.db, session.id);
    if (payment?.subscriptionId) {
      const sub = await getSubscriptionById(deps.db, payment.subscriptionId);
      // Renewed automatically: by our worker (card, auto-renew on) or by Telegram (a Stars subscription).
      if (sub)
        subscription = {
          id: sub.id,
          end_date: sub.endDate.toISOString(),
          auto_renew: renewsWith(sub) !== null,
        };
    }
  }
  return {
    session_id: session.id,
    plan: planSummary(plan, lang),
    status: session.status,
    auto_renew: session.autoRenew,
    amount: session.amount,
    expires_at: session.expiresAt.toISOString(),
    transaction_id: session.externalId === null ? null : Number(session.externalId),
    card_masked: session.cardMasked,
    otp_attempts_left: Math.max(0, MAX_OTP_ATTEMPTS - session.otpAttempts),
    language: lang,
    failure_reason: session.failureReason,
    completed_at: session.completedAt?.toISOString() ?? null,
    subscription,
    offer: deps.config.offer ?? null,
  };
}

/** GET session: a `processing` session whose outcome is unknown is re-checked at the provider first. */
export function getSessionForCaller(
  deps: Deps,
  caller: Caller,
  sessionId: string,
): Promise<CheckoutResult<PaymentSessionResponse>> {
  return asResult(async () => {
    let view = await loadSession(deps, caller, sessionId);
    if (view.session.status === "expired") refuseExpired();
    if (view.session.status === "processing") {
      const payment = await getSessionPayment(deps.db, sessionId);
      const stale = deps.clock().getTime() - view.session.updatedAt.getTime() > STALE_PROCESSING_MS;
      if (payment?.status === "unknown" || stale) {
        await reconcileSession(deps, sessionId);
        view = (await getSessionView(deps.db, sessionId))!;
      }
    }
    return describeSession(deps, view);
  });
}

/** The confirm answer for a session, from the stored state (used for repeats and concurrent calls). */
export async function applyResult(deps: Deps, sessionId: string): Promise<AtmosApplyResponse> {
  const view = (await getSessionView(deps.db, sessionId))!;
  const { session, plan } = view;
  if (session.status === "failed") {
    refuse("SESSION_FAILED", `This session has failed (${session.failureReason ?? "declined"})`);
  }
  const payment = await getSessionPayment(deps.db, sessionId);
  if (session.status !== "completed" || !payment || payment.status !== "success") {
    return {
      session_id: sessionId,
      status: "processing",
      payment_id: payment?.id ?? null,
      amount: session.amount,
      card_masked: session.cardMasked,
      card_saved: false,
      subscription: null,
    };
  }
  const sub = payment.subscriptionId ? await getSubscriptionById(deps.db, payment.subscriptionId) : null;
  return {
    session_id: sessionId,
    status: "completed",
    payment_id: payment.id,
    amount: payment.amount,
    card_masked: payment.cardMasked,
    card_saved: payment.boundCardId !== null,
    subscription: sub
      ? {
          id: sub.id,
          plan_slug: plan.slug as "monthly",
          start_date: (payment.periodStart ?? sub.startDate).toISOString(),
          end_date: (payment.periodEnd ?? sub.endDate).toISOString(),
          auto_renew: sub.autoRenew,
        }
      : null,
  };
}
