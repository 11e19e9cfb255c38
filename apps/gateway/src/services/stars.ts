import {
  checkStarsPreCheckout,
  compareStarTransactions,
  isUniqueViolation,
  prepareStarsInvoice,
  recordStarsPayment,
  recordStarsRefund,
  type StarsBotApi,
  type StarTransaction,
} from "@obuna/billing";
import type {
  StarsInvoiceLinkResponse,
  StarsPreCheckoutRequest,
  StarsPreCheckoutResponse,
  StarsRefundedPaymentRequest,
  StarsRefundedPaymentResponse,
  StarsSuccessfulPaymentRequest,
  StarsSuccessfulPaymentResponse,
} from "@obuna/contracts/http";
import { pickLanguage } from "@obuna/contracts/http";
import { getStarsSessionView, listStarsPayments } from "@obuna/db/queries";
import type { Caller, GatewayDeps } from "../context";
import { BotApiError } from "../telegram-bot-api";
import { flushNotifications } from "./notifications";
import { asResult, refuse, refuseUnlessOwner } from "./outcome";
import { retryOwedStarsCancels } from "./stars-handover";

/**
 * Telegram Stars at the gateway (docs/stars.md): the money rules are in @obuna/billing (stars.ts);
 * this maps their outcomes to the error envelope and calls the Bot API through `deps.stars`.
 */

function starsApi(deps: Pick<GatewayDeps, "stars">): StarsBotApi {
  if (!deps.stars) refuse("SERVICE_UNAVAILABLE", "Telegram Stars is not configured");
  return deps.stars;
}

const TITLES = {
  uz: (plan: string) => `Obuna Premium — ${plan}`,
  ru: (plan: string) => `Obuna Premium — ${plan}`,
  en: (plan: string) => `Obuna Premium — ${plan}`,
} as const;
const DESCRIPTIONS = {
  uz: (days: number, sub: boolean) =>
    sub
      ? `Premium ${days} kun, har ${days} kunda Telegram Stars bilan yangilanadi.`
      : `Premium ${days} kunga.`,
  ru: (days: number, sub: boolean) =>
    sub
      ? `Premium на ${days} дней, продлевается Telegram Stars каждые ${days} дней.`
      : `Premium на ${days} дней.`,
  en: (days: number, sub: boolean) =>
    sub
      ? `Premium for ${days} days, renewed with Telegram Stars every ${days} days.`
      : `Premium for ${days} days.`,
} as const;

/** A Stars invoice link for a pending session (createInvoiceLink: XTR, empty provider token, one price). */
async function createStarsInvoiceLinkStep(
  deps: GatewayDeps,
  sessionId: string,
  /** A Mini App user reaches only their own session (another's answers as a missing one). */
  caller?: Caller,
): Promise<StarsInvoiceLinkResponse> {
  const api = starsApi(deps);
  const view = await getStarsSessionView(deps.db, sessionId);
  if (!view) refuse("SESSION_NOT_FOUND", "No such payment session");
  if (caller)
    refuseUnlessOwner(caller, view.telegramId, {
      code: "SESSION_NOT_FOUND",
      message: "No such payment session",
    });
  const lang = view.language ?? pickLanguage(view.languageCode);
  const planName = { uz: view.plan.nameUz, ru: view.plan.nameRu, en: view.plan.nameEn }[lang];
  const subscription = view.plan.durationDays === 30;
  const prepared = await prepareStarsInvoice(deps.db, deps, {
    sessionId,
    title: TITLES[lang](planName),
    description: DESCRIPTIONS[lang](view.plan.durationDays, subscription),
  });
  if (prepared.status === "not_found") refuse("SESSION_NOT_FOUND", "No such payment session");
  if (prepared.status === "not_payable") {
    if (prepared.reason === "session_expired") refuse("SESSION_EXPIRED", "The session expired");
    if (prepared.reason === "not_sold_for_stars")
      refuse("INVALID_STATE", "This plan is not sold for Telegram Stars");
    refuse("SESSION_ALREADY_COMPLETED", "The session is no longer payable");
  }
  let link: string;
  try {
    link = await api.createInvoiceLink(prepared.invoice);
  } catch (error) {
    if (error instanceof BotApiError) {
      deps.logger.warn({ sessionId, err: error.message }, "createInvoiceLink failed");
      refuse("PAYMENT_PROVIDER_UNAVAILABLE", "Telegram did not make the invoice link");
    }
    throw error;
  }
  return { invoice_link: link, stars_amount: prepared.starsAmount, subscription: prepared.subscription };
}

/** The pre-checkout check (the bot answers Telegram with it, within 10 s). */
async function checkPreCheckoutStep(
  deps: GatewayDeps,
  input: StarsPreCheckoutRequest,
): Promise<StarsPreCheckoutResponse> {
  const query = input.pre_checkout_query;
  const verdict = await checkStarsPreCheckout(deps.db, deps, {
    payload: query.invoice_payload,
    telegramId: query.from.id,
    currency: query.currency,
    totalAmount: query.total_amount,
  });
  if (!verdict.ok)
    deps.logger.info({ queryId: query.id, reason: verdict.reason }, "stars pre-checkout refused");
  return { ok: verdict.ok, reason: verdict.ok ? null : verdict.reason };
}

/** A successful_payment: one payment per Telegram charge, in one transaction (retried once on a race). */
async function recordSuccessfulPaymentStep(
  deps: GatewayDeps,
  input: StarsSuccessfulPaymentRequest,
): Promise<StarsSuccessfulPaymentResponse> {
  const p = input.successful_payment;
  const run = () =>
    deps.db.transaction((tx) =>
      recordStarsPayment(tx, deps, {
        telegramId: input.telegram_id,
        currency: p.currency,
        totalAmount: p.total_amount,
        payload: p.invoice_payload,
        telegramPaymentChargeId: p.telegram_payment_charge_id,
        isRecurring: p.is_recurring ?? false,
        isFirstRecurring: p.is_first_recurring ?? false,
        subscriptionExpiresAt: p.subscription_expiration_date
          ? new Date(p.subscription_expiration_date * 1000)
          : null,
        actor: "bot",
      }),
    );
  let outcome: Awaited<ReturnType<typeof run>>;
  try {
    outcome = await run();
  } catch (error) {
    // The same charge delivered twice at once, or two first payments of one user: once more sees it.
    if (!isUniqueViolation(error)) throw error;
    outcome = await run();
  }
  if (outcome.status === "duplicate") {
    deps.logger.info({ chargeId: p.telegram_payment_charge_id }, "stars payment already recorded");
    return { status: "duplicate", payment_id: outcome.paymentId, subscription_id: null, end_date: null };
  }
  await flushNotifications(deps, outcome.notificationIds);
  if (outcome.status === "unmatched") {
    deps.logger.error(
      { chargeId: p.telegram_payment_charge_id, reason: outcome.reason },
      "stars payment unmatched",
    );
    return { status: "unmatched", payment_id: null, subscription_id: null, end_date: null };
  }
  deps.logger.info(
    {
      paymentId: outcome.paymentId,
      subscriptionId: outcome.subscriptionId,
      recurring: p.is_recurring ?? false,
    },
    "stars payment recorded",
  );
  return {
    status: "recorded",
    payment_id: outcome.paymentId,
    subscription_id: outcome.subscriptionId,
    end_date: outcome.period.end.toISOString(),
  };
}

/** A refunded_payment: the payment reversed and its period taken back, once. */
async function recordRefundedPaymentStep(
  deps: GatewayDeps,
  input: StarsRefundedPaymentRequest,
): Promise<StarsRefundedPaymentResponse> {
  const outcome = await deps.db.transaction((tx) =>
    recordStarsRefund(tx, deps, {
      telegramPaymentChargeId: input.refunded_payment.telegram_payment_charge_id,
      actor: "bot",
      reason: "telegram refunded_payment",
    }),
  );
  if (outcome.status === "refunded") await flushNotifications(deps, outcome.notificationIds);
  return {
    status: outcome.status,
    payment_id: outcome.status === "not_found" ? null : outcome.paymentId,
  };
}

/**
 * Stars reconcile: our telegram_stars payments since `since` against Telegram's getStarTransactions
 * (paged, 100 at a time, newest Telegram keeps). Differences are for an operator (docs/stars.md).
 */
export async function reconcileStars(
  deps: Pick<GatewayDeps, "db" | "stars" | "clock" | "logger"> &
    Partial<Pick<GatewayDeps, "notificationsQueue">>,
  since: Date,
) {
  const api = starsApi(deps);
  const theirs: StarTransaction[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api.getStarTransactions({ offset, limit: 100 });
    theirs.push(...page.transactions.filter((t) => t.date * 1000 >= since.getTime()));
    if (page.transactions.length < 100) break;
  }
  const ours = await listStarsPayments(deps.db, since);
  // Stars renewals a card took over and Telegram never confirmed canceling: tried again, reported if still not.
  const owed = await retryOwedStarsCancels(deps);
  return {
    checkedPayments: ours.length,
    checkedTransactions: theirs.length,
    discrepancies: [
      ...compareStarTransactions(ours, theirs),
      ...owed.left.map((o) => ({ kind: "stars_renewal_not_canceled" as const, ...o })),
    ],
  };
}

/** The use cases, each answering a ServiceResult (the route maps a refusal to ApiError). */
export const createStarsInvoiceLink = (...args: Parameters<typeof createStarsInvoiceLinkStep>) =>
  asResult(() => createStarsInvoiceLinkStep(...args));
export const checkPreCheckout = (...args: Parameters<typeof checkPreCheckoutStep>) =>
  asResult(() => checkPreCheckoutStep(...args));
export const recordSuccessfulPayment = (...args: Parameters<typeof recordSuccessfulPaymentStep>) =>
  asResult(() => recordSuccessfulPaymentStep(...args));
export const recordRefundedPayment = (...args: Parameters<typeof recordRefundedPaymentStep>) =>
  asResult(() => recordRefundedPaymentStep(...args));
