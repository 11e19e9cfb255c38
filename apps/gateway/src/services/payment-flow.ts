import { randomInt } from "node:crypto";
import { type AtmosError, type AtmosTransaction, isAtmosError, TOKEN_PAYMENT_OTP } from "@obuna/atmos";
import {
  chargedCardIs,
  failSessionPayment,
  markSessionPaymentUnknown,
  resolveSessionCharge,
  settleConfirmedSession,
} from "@obuna/billing";
import {
  checkPan,
  detectCardType,
  isExpired,
  isLocalCardType,
  maskPan,
  parseExpiry,
  toAtmosExpiry,
} from "@obuna/contracts/card";
import type {
  AtmosApplyResponse,
  AtmosPreApplyResponse,
  PaymentSessionResponse,
} from "@obuna/contracts/http";
import { pickLanguage } from "@obuna/contracts/http";
import { formatPeriod, formatSom } from "@obuna/contracts/money";
import type { PaymentSession, Plan } from "@obuna/db";
import { decryptCardToken, encryptCardToken } from "@obuna/db/crypto";
import { getSubscriptionById, planName, planReceiptItems } from "@obuna/db/queries";
import type { Caller, GatewayDeps } from "../context";
import { ApiError } from "../errors";
import { assertOwner } from "../middleware/auth";
import {
  attachTransaction,
  claimSessionForApply,
  endCardEntry,
  ensurePendingPayment,
  expireSession,
  failSession,
  getSessionPayment,
  getSessionView,
  NO_PENDING_BINDING,
  type PendingCardBinding,
  releaseSession,
  type SessionView,
  setProcessingBinding,
  startCardEntry,
  updatePendingSession,
} from "../queries/payment-sessions";
import { atmosChargeReading } from "./atmos-charge";
import { atmosErrorCode, isTerminalDecline } from "./atmos-errors";
import { flushNotifications } from "./notifications";
import { afterCardPayment } from "./stars-handover";

export const MAX_OTP_ATTEMPTS = 5;
export const DEFAULT_SESSION_TTL_MS = 30 * 60 * 1000;
export const DEFAULT_OTP_RESEND_COOLDOWN_MS = 60 * 1000;
/** A `processing` session whose apply request vanished is re-checked at ATMOS after this long. */
const STALE_PROCESSING_MS = 2 * 60 * 1000;
/** A card entry (pre-apply) holds its session at most this long (bind-card/init + pre-apply at ATMOS). */
const CARD_ENTRY_HOLD_MS = 3 * 60 * 1000;

type Deps = GatewayDeps & { metrics: NonNullable<GatewayDeps["metrics"]> };

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

/** Loads a session the caller may reach; a pending session past its time becomes `expired` (410). */
export async function loadSession(deps: Deps, caller: Caller, sessionId: string): Promise<SessionView> {
  const view = await getSessionView(deps.db, sessionId);
  const notFound = { code: "SESSION_NOT_FOUND", message: "Payment session not found" } as const;
  if (!view) throw new ApiError(notFound.code, notFound.message);
  assertOwner(caller, view.telegramId, notFound);
  const now = deps.clock();
  if (view.session.status === "pending" && view.session.expiresAt <= now) {
    await expireSession(
      deps.db,
      sessionId,
      new Date(Math.max(now.getTime(), view.session.expiresAt.getTime() + 1)),
    );
    view.session.status = "expired";
  }
  return view;
}

function assertPayable(session: PaymentSession): void {
  switch (session.status) {
    case "pending":
      return;
    case "expired":
      throw new ApiError("SESSION_EXPIRED", "The payment session has expired; ask the bot for a new link");
    case "completed":
      throw new ApiError("SESSION_ALREADY_COMPLETED", "This session is already paid");
    case "failed":
      throw new ApiError(
        "SESSION_FAILED",
        `This session has failed (${session.failureReason ?? "declined"}); ask the bot for a new link`,
      );
    case "processing":
      throw new ApiError("INVALID_STATE", "The payment is being processed");
  }
}

/** The session's ATMOS transaction id, as the ATMOS client takes it (the row keeps it as text). */
function assertTransaction(session: PaymentSession, transactionId: number): number {
  if (session.externalId === null) {
    throw new ApiError("INVALID_STATE", "No ATMOS transaction yet: call /api/v1/atmos/create first");
  }
  if (session.externalId !== String(transactionId)) {
    throw new ApiError("TRANSACTION_MISMATCH", "transaction_id does not belong to this session", {
      field: "transaction_id",
    });
  }
  return Number(session.externalId);
}

/** A digit-only, unique ATMOS `account` (callbacks are matched by it). */
function newAtmosAccount(now: Date): string {
  return `${now.getTime()}${String(randomInt(0, 1_000_000)).padStart(6, "0")}`;
}

// ------------------------------------------------------------------ GET session

export async function describeSession(deps: Deps, view: SessionView): Promise<PaymentSessionResponse> {
  const { session, plan } = view;
  const lang = view.language ?? pickLanguage(view.languageCode);
  let subscription: PaymentSessionResponse["subscription"] = null;
  if (session.status === "completed") {
    const payment = await getSessionPayment(deps.db, session.id);
    if (payment?.subscriptionId) {
      const sub = await getSubscriptionById(deps.db, payment.subscriptionId);
      if (sub) subscription = { id: sub.id, end_date: sub.endDate.toISOString(), auto_renew: sub.autoRenew };
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

/** GET session: a `processing` session whose outcome is unknown is re-checked at ATMOS first. */
export async function getSessionForCaller(deps: Deps, caller: Caller, sessionId: string) {
  let view = await loadSession(deps, caller, sessionId);
  if (view.session.status === "expired") {
    throw new ApiError("SESSION_EXPIRED", "The payment session has expired; ask the bot for a new link");
  }
  if (view.session.status === "processing") {
    const payment = await getSessionPayment(deps.db, sessionId);
    const stale = deps.clock().getTime() - view.session.updatedAt.getTime() > STALE_PROCESSING_MS;
    if (payment?.status === "unknown" || stale) {
      await reconcileSession(deps, sessionId);
      view = (await getSessionView(deps.db, sessionId))!;
    }
  }
  return describeSession(deps, view);
}

// ------------------------------------------------------------------ create

export async function createAtmosTransaction(
  deps: Deps,
  caller: Caller,
  input: { session_id: string; amount: number; auto_renew: boolean },
) {
  const view = await loadSession(deps, caller, input.session_id);
  const { session } = view;
  assertPayable(session);
  if (input.amount !== session.amount) {
    deps.logger.warn(
      { sessionId: session.id, expected: session.amount, given: input.amount },
      "amount mismatch refused",
    );
    throw new ApiError("AMOUNT_MISMATCH", "amount does not match the plan price", {
      field: "amount",
      details: { expected: session.amount },
    });
  }
  const now = deps.clock();
  let current: PaymentSession | null = session;
  if (session.externalId === null) {
    // A fresh account per try: a transaction a faulted create left at ATMOS matches no session.
    const { transaction, account } = await callAtmos(() =>
      retryPreMoney(deps, "create", async () => {
        const account = newAtmosAccount(deps.clock());
        const transaction = await deps.atmos.createTransaction({
          amount: session.amount,
          account,
          lang: view.language ?? pickLanguage(view.languageCode),
        });
        return { transaction, account };
      }),
    );
    current = await attachTransaction(deps.db, session.id, {
      externalId: String(transaction.transactionId),
      providerReference: account,
      autoRenew: input.auto_renew,
      now,
    });
    // Lost a race with a concurrent create: the other transaction is the session's (ours is never charged).
    if (!current) current = (await getSessionView(deps.db, session.id))!.session;
  } else if (session.autoRenew !== input.auto_renew) {
    // The choice can change until a card is entered.
    if (session.otpSentAt !== null) {
      throw new ApiError("INVALID_STATE", "auto_renew cannot change after the card was entered", {
        field: "auto_renew",
      });
    }
    current =
      (await updatePendingSession(deps.db, session.id, { autoRenew: input.auto_renew, now })) ?? session;
  }
  return {
    session_id: current.id,
    transaction_id: Number(current.externalId!),
    amount: current.amount,
    auto_renew: current.autoRenew,
    status: current.status,
  };
}

/** Runs an ATMOS call whose failure leaves nothing changed; maps its error to the envelope. */
async function callAtmos<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAtmosError(error)) {
      const mapped = atmosErrorCode(error);
      throw new ApiError(mapped.code, mapped.message, { cause: error });
    }
    throw error;
  }
}

/** One step before money moves is sent at most this often after passing faults (1 + retries)... */
export const PRE_MONEY_ATTEMPTS = 3;
/** ...and is not sent again once this much time went by (a timeout of tens of seconds is not retried). */
const PRE_MONEY_BUDGET_MS = 8_000;

/**
 * A passing ATMOS fault, not a refusal: a 5xx, no or an unreadable answer, a dropped connection,
 * ERR-001 or a result code we do not know. The card and the request may well be fine.
 */
function isPassingFault(error: unknown): error is AtmosError {
  return isAtmosError(error) && (error.retryable || error.outcomeUnknown);
}

/**
 * Sends one ATMOS step that moves no money again after a passing fault (short backoff, at most
 * PRE_MONEY_ATTEMPTS within PRE_MONEY_BUDGET_MS). Only for steps whose repeat is harmless even when
 * the faulted call took effect: create (a second transaction; the first is never pre-applied or
 * charged), bind-card init and pre-apply by card (a new SMS code, as a resend), pre-apply with a
 * token (arms the same transaction again). Never for apply: an unclear apply is resolved with
 * `get` (resolveUnknown), and bind-card confirm is resolved in `confirmBinding`.
 */
async function retryPreMoney<T>(deps: Deps, step: string, call: (attempt: number) => Promise<T>): Promise<T> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const spent = performance.now() - started;
      if (!isPassingFault(error) || attempt >= PRE_MONEY_ATTEMPTS || spent >= PRE_MONEY_BUDGET_MS)
        throw error;
      deps.logger.warn(
        { step, attempt, kind: error.kind },
        "passing ATMOS fault before money moves: sending again",
      );
      await new Promise((resolve) => setTimeout(resolve, 150 * attempt));
    }
  }
}

// ------------------------------------------------------------------ pre-apply

export async function preApply(
  deps: Deps,
  caller: Caller,
  input: {
    session_id: string;
    transaction_id: number;
    card_number: string;
    expiry: string;
    offer_version?: string | undefined;
  },
): Promise<AtmosPreApplyResponse> {
  const view = await loadSession(deps, caller, input.session_id);
  const { session } = view;
  assertPayable(session);
  // The payer accepts the public offer by paying: the version they saw must be the current one.
  const offer = deps.config.offer;
  if (offer && input.offer_version !== undefined && input.offer_version !== offer.version) {
    throw new ApiError("INVALID_STATE", "The public offer has changed; reload the page to read it", {
      field: "offer_version",
      details: { current_version: offer.version },
    });
  }
  const transactionId = assertTransaction(session, input.transaction_id);
  if (session.otpAttempts >= MAX_OTP_ATTEMPTS) {
    throw new ApiError("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes for this session");
  }
  const card = checkPan(input.card_number);
  if (!card.ok) {
    if (card.problem === "unsupported_card") {
      throw new ApiError("UNSUPPORTED_CARD", "Only UzCard and Humo cards are accepted", {
        field: "card_number",
      });
    }
    throw new ApiError("INVALID_CARD", "The card number is not valid", { field: "card_number" });
  }
  const expiry = parseExpiry(input.expiry);
  if (!expiry) throw new ApiError("VALIDATION_ERROR", "expiry must be MM/YY or YYMM", { field: "expiry" });
  const now = deps.clock();
  if (isExpired(expiry, now)) throw new ApiError("CARD_EXPIRED", "The card has expired", { field: "expiry" });
  const atmosExpiry = toAtmosExpiry(expiry);
  const cardMasked = maskPan(card.pan);

  // One card entry at a time: two concurrent entries could leave ATMOS pre-applied with one card
  // while the session records the other's binding.
  const entryUntil = new Date(now.getTime() + CARD_ENTRY_HOLD_MS);
  if (!(await startCardEntry(deps.db, session.id, now, entryUntil))) {
    throw new ApiError("INVALID_STATE", "A card is already being checked for this session; try again");
  }
  try {
    const accepted = offer && input.offer_version !== undefined ? offer.version : null;
    return await enterCard(deps, session, transactionId, card, atmosExpiry, cardMasked, now, accepted);
  } finally {
    await endCardEntry(deps.db, session.id, entryUntil);
  }
}

async function enterCard(
  deps: Deps,
  session: PaymentSession,
  transactionId: number,
  card: { pan: string; type: "uzcard" | "humo" },
  atmosExpiry: string,
  cardMasked: string,
  now: Date,
  offerVersion: string | null = null,
): Promise<AtmosPreApplyResponse> {
  let phone: string | null = null;
  let bindTransactionId: number | null = null;
  // Each card entry replaces the session's pending binding: which card this flow bound is decided
  // by the last entry, and success activates only that card (and only if ATMOS charged it).
  let binding: PendingCardBinding = NO_PENDING_BINDING;
  if (session.autoRenew) {
    const bind = await callAtmos(() =>
      retryPreMoney(deps, "bind-card-init", () =>
        deps.atmos.bindCardInit({ cardNumber: card.pan, expiry: atmosExpiry }),
      ),
    );
    if (bind.status === "otp_sent") {
      bindTransactionId = bind.transactionId;
      phone = bind.phone;
    } else {
      // ERR-133: ATMOS already holds this card for the merchant (bound by whoever typed it first,
      // maybe another user) and hands back its token. The token proves nothing about the payer: it
      // stays on this session only (encrypted, no card row for anyone), the merchant pre-apply sends
      // the SMS code to the cardholder, and only a success that charged this very card makes it the
      // user's card.
      binding = {
        bindCardRef: String(bind.card.cardId),
        bindCardToken: encryptCardToken(bind.card.cardToken, deps.config.cardTokenKey),
        bindCardMasked: bind.card.panMasked || cardMasked,
        bindCardExpiry: bind.card.expiry || atmosExpiry,
        bindCardType: card.type,
      };
      const pre = await callAtmos(() =>
        retryPreMoney(deps, "pre-apply", () =>
          deps.atmos.preApplyCard({ transactionId, cardNumber: card.pan, expiry: atmosExpiry }),
        ),
      );
      phone = pre.phone;
    }
  } else {
    const pre = await callAtmos(() =>
      retryPreMoney(deps, "pre-apply", () =>
        deps.atmos.preApplyCard({ transactionId, cardNumber: card.pan, expiry: atmosExpiry }),
      ),
    );
    phone = pre.phone;
  }
  const updated = await updatePendingSession(deps.db, session.id, {
    cardMasked,
    bindingId: bindTransactionId === null ? null : String(bindTransactionId),
    ...binding,
    otpSentAt: now,
    cardEntryUntil: null,
    // The offer accepted with this card entry (the last entry before apply is the one that pays).
    offerVersion,
    offerAcceptedAt: offerVersion === null ? null : now,
    now,
  });
  if (!updated) throw new ApiError("INVALID_STATE", "The session changed while the card was being checked");
  return {
    session_id: session.id,
    transaction_id: transactionId,
    card_masked: cardMasked,
    card_type: card.type,
    phone_masked: maskPhone(phone),
    otp_length: 6,
    otp_attempts_left: Math.max(0, MAX_OTP_ATTEMPTS - updated.otpAttempts),
    resend_available_at: new Date(now.getTime() + cooldownMs(deps)).toISOString(),
  };
}

function cooldownMs(deps: Deps) {
  return deps.config.otpResendCooldownMs ?? DEFAULT_OTP_RESEND_COOLDOWN_MS;
}

export function maskPhone(phone: string | null): string | null {
  if (!phone) return null;
  const digits = phone.replace(/\D/g, "");
  if (digits.length < 4) return null;
  if (phone.includes("*")) return phone;
  return `${"*".repeat(Math.max(0, digits.length - 4))}${digits.slice(-4)}`;
}

// ------------------------------------------------------------------ resend OTP

export async function resendOtp(
  deps: Deps,
  caller: Caller,
  input: { session_id: string; transaction_id: number },
) {
  const view = await loadSession(deps, caller, input.session_id);
  const { session } = view;
  assertPayable(session);
  const transactionId = assertTransaction(session, input.transaction_id);
  if (session.otpSentAt === null)
    throw new ApiError("INVALID_STATE", "No SMS code was sent yet: enter the card first");
  const now = deps.clock();
  const availableAt = new Date(session.otpSentAt.getTime() + cooldownMs(deps));
  if (now < availableAt) {
    throw new ApiError("OTP_RESEND_TOO_SOON", "Wait before asking for a new SMS code", {
      details: {
        resend_available_at: availableAt.toISOString(),
        retry_after_s: Math.ceil((availableAt.getTime() - now.getTime()) / 1000),
      },
    });
  }
  if (session.bindingId !== null) {
    // The AtmosClient port has no resend for a card binding: a fresh pre-apply sends a new code.
    throw new ApiError("INVALID_STATE", "Enter the card again to receive a new SMS code", {
      details: { action: "pre_apply_again" },
    });
  }
  await callAtmos(() => deps.atmos.resendOtp(transactionId));
  await updatePendingSession(deps.db, session.id, { otpSentAt: now, now });
  return {
    session_id: session.id,
    resend_available_at: new Date(now.getTime() + cooldownMs(deps)).toISOString(),
  };
}

// ------------------------------------------------------------------ apply

export async function applyPayment(
  deps: Deps,
  caller: Caller,
  input: { session_id: string; transaction_id: number; otp: string },
): Promise<AtmosApplyResponse> {
  const view = await loadSession(deps, caller, input.session_id);
  const { session } = view;
  if (session.status === "completed" || session.status === "processing") {
    if (session.externalId !== String(input.transaction_id)) assertTransaction(session, input.transaction_id);
    return applyResult(deps, session.id);
  }
  assertPayable(session);
  const transactionId = assertTransaction(session, input.transaction_id);
  if (session.otpSentAt === null) throw new ApiError("INVALID_STATE", "Enter the card first (pre-apply)");
  if (session.otpAttempts >= MAX_OTP_ATTEMPTS) {
    await failSession(deps.db, session.id, { reason: "otp_attempts_exceeded", now: deps.clock() });
    throw new ApiError("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes for this session");
  }

  const claimed = await claimSessionForApply(deps.db, session.id, deps.clock());
  if (!claimed) {
    // A concurrent apply won, or the session just expired/changed: answer from the stored state.
    const again = await loadSession(deps, caller, session.id);
    if (again.session.status === "completed" || again.session.status === "processing")
      return applyResult(deps, session.id);
    assertPayable(again.session);
    throw new ApiError("INVALID_STATE", "The session changed; try again");
  }
  const log = deps.logger.child({ sessionId: session.id, transactionId });

  let chargeOtp: string;
  try {
    chargeOtp = await prepareCharge(deps, claimed, transactionId, input.otp);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // An unexpected failure before any money moved: the session stays payable.
    await releaseSession(deps.db, claimed.id, { now: deps.clock() });
    throw error;
  }

  // Step 2: the money moves.
  let transaction: AtmosTransaction;
  try {
    // The fiscal apply: the charge and its receipt with the plan's IKPU/package code/VAT.
    transaction = await deps.atmos.apply({
      transactionId,
      otp: chargeOtp,
      ofdItems: planReceiptItems(view.plan, claimed.amount).map(({ code, ...line }) => ({
        ofdCode: code,
        ...line,
      })),
    });
  } catch (error) {
    // "Closed" may mean "already paid" (an earlier apply went through): ask before failing.
    const unclear = ["timeout", "server_error", "bad_response", "transaction_closed"];
    if (isAtmosError(error) && (error.outcomeUnknown || unclear.includes(error.kind))) {
      log.warn({ kind: error.kind }, "apply outcome unknown: asking ATMOS");
      return resolveUnknown(deps, claimed);
    }
    return handleApplyError(deps, claimed, error, "apply");
  }
  if (transaction.state !== "confirmed") {
    log.warn({ state: transaction.state }, "apply answered without confirmation: asking ATMOS");
    return resolveUnknown(deps, claimed);
  }
  await finalizeSuccess(deps, claimed.id, transaction, "apply");
  return applyResult(deps, claimed.id);
}

/**
 * Everything before the charge: records the pending payment and, for a fresh card binding,
 * confirms it with the user's code, records the binding on the session and pre-applies its token.
 * Returns the OTP the merchant apply needs.
 */
async function prepareCharge(
  deps: Deps,
  claimed: PaymentSession,
  transactionId: number,
  otp: string,
): Promise<string> {
  await ensurePendingPayment(deps.db, {
    sessionId: claimed.id,
    userId: claimed.userId,
    amount: claimed.amount,
    externalId: String(transactionId),
    cardMasked: claimed.cardMasked,
    offerVersion: claimed.offerVersion,
    offerAcceptedAt: claimed.offerAcceptedAt,
  });
  if (!claimed.autoRenew || claimed.bindingId === null) return otp;

  // A binding an earlier apply confirmed stays on the session when the token pre-apply after it met
  // a passing fault: its code is spent, so only the pre-apply is sent again.
  const cardToken =
    claimed.bindCardRef !== null && claimed.bindCardToken !== null
      ? decryptCardToken(claimed.bindCardToken, deps.config.cardTokenKey)
      : await confirmBinding(deps, claimed, Number(claimed.bindingId), otp);
  try {
    await retryPreMoney(deps, "pre-apply-token", () =>
      deps.atmos.preApplyToken({ transactionId, cardToken }),
    );
  } catch (error) {
    if (isPassingFault(error)) {
      // No money moved and the binding is recorded: the session stays payable; the next apply
      // pre-applies the token again.
      await releaseSession(deps.db, claimed.id, { now: deps.clock() });
      const mapped = atmosErrorCode(error);
      throw new ApiError(mapped.code, mapped.message);
    }
    // ATMOS refused the token (card blocked, expired...): the attempt ends cleanly, nothing charged.
    return handleApplyError(deps, claimed, error, "pre-apply-token", { terminal: true });
  }
  return TOKEN_PAYMENT_OTP;
}

/**
 * Confirms the session's card binding with the user's code and records it on the session (no card
 * row yet: success makes it the user's card only if ATMOS charged this card). Returns the token.
 * A passing fault is resolved by asking again: a confirm that did not arrive is confirmed now; one
 * that did take effect is answered "closed", and then the card is bound at ATMOS but its token never
 * reached us — the session goes back to payable without a card entry, and entering the card again
 * gets the bound card with its token (ERR-133).
 */
async function confirmBinding(
  deps: Deps,
  claimed: PaymentSession,
  bindTransactionId: number,
  otp: string,
): Promise<string> {
  let bound: Awaited<ReturnType<typeof deps.atmos.bindCardConfirm>> | null = null;
  for (let attempt = 1; bound === null; attempt++) {
    try {
      bound = await deps.atmos.bindCardConfirm({ transactionId: bindTransactionId, otp });
    } catch (error) {
      if (attempt > 1 && isAtmosError(error) && error.kind === "transaction_closed") {
        deps.logger.warn(
          { sessionId: claimed.id },
          "card binding confirmed under a fault: card entry needed again",
        );
        await releaseSession(deps.db, claimed.id, { now: deps.clock(), clearCardEntry: true });
        throw new ApiError("INVALID_STATE", "Enter the card again to finish the payment", {
          details: { action: "pre_apply_again" },
        });
      }
      if (isPassingFault(error) && attempt < PRE_MONEY_ATTEMPTS) {
        deps.logger.warn(
          { step: "bind-confirm", attempt, kind: error.kind },
          "passing ATMOS fault: asking again",
        );
        await new Promise((resolve) => setTimeout(resolve, 150 * attempt));
        continue;
      }
      return handleApplyError(deps, claimed, error, "bind-confirm");
    }
  }
  const detected = detectCardType(bound.panMasked);
  const recorded = await setProcessingBinding(deps.db, claimed.id, {
    bindCardRef: String(bound.cardId),
    bindCardToken: encryptCardToken(bound.cardToken, deps.config.cardTokenKey),
    bindCardMasked: bound.panMasked || claimed.cardMasked,
    bindCardExpiry: bound.expiry,
    bindCardType: isLocalCardType(detected) ? detected : "uzcard",
    now: deps.clock(),
  });
  if (!recorded) {
    // The session left `processing` under us (nothing charged yet): stop before the charge.
    throw new ApiError("INVALID_STATE", "The session changed; try again");
  }
  return bound.cardToken;
}

/** After a lost/unclear apply answer: ask ATMOS; record `unknown` if it still cannot tell. */
async function resolveUnknown(deps: Deps, session: PaymentSession): Promise<AtmosApplyResponse> {
  const outcome = await reconcileSession(deps, session.id, { recordUnknown: true });
  if (outcome === "failed") {
    const failed = (await getSessionView(deps.db, session.id))!.session;
    throw new ApiError(
      "CARD_DECLINED",
      `The payment did not go through (${failed.failureReason ?? "closed"})`,
    );
  }
  return applyResult(deps, session.id);
}

/**
 * Asks ATMOS for the session's transaction and finishes the session accordingly: confirmed →
 * success (exactly once), closed or reversed → failed (a reversed payment is never a success), otherwise unchanged (payment `unknown` when
 * `recordUnknown`). Serves apply, the callback and GET session.
 */
export async function reconcileSession(
  deps: Deps,
  sessionId: string,
  options: { recordUnknown?: boolean } = {},
): Promise<"completed" | "failed" | "unknown"> {
  const view = await getSessionView(deps.db, sessionId);
  if (!view || view.session.externalId === null) return "unknown";
  if (view.session.status === "completed") return "completed";
  if (view.session.status !== "processing") return view.session.status === "failed" ? "failed" : "unknown";
  let transaction: AtmosTransaction | null = null;
  try {
    transaction = await deps.atmos.getTransaction(Number(view.session.externalId));
  } catch (error) {
    deps.logger.warn(
      { sessionId, kind: isAtmosError(error) ? error.kind : "error" },
      "could not read the ATMOS transaction",
    );
  }
  const resolution = resolveSessionCharge(transaction?.state ?? null);
  if (resolution.next === "complete") {
    await finalizeSuccess(deps, sessionId, transaction!, "reconcile");
    return "completed";
  }
  if (resolution.next === "fail") {
    // A reversed payment was paid once, then reversed by ATMOS (e.g. after a lost apply answer): the
    // money went back, so the session fails — no subscription, no premium.
    await failPayment(deps, sessionId, resolution.reason, resolution.message);
    return "failed";
  }
  if (options.recordUnknown) {
    await markSessionPaymentUnknown(deps.db, deps, { sessionId });
    deps.metrics.payments.inc({ outcome: "unknown" });
  }
  return "unknown";
}

async function failPayment(
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

async function handleApplyError(
  deps: Deps,
  session: PaymentSession,
  error: unknown,
  step: string,
  options: { terminal?: boolean } = {},
): Promise<never> {
  const now = deps.clock();
  if (!isAtmosError(error)) {
    await releaseSession(deps.db, session.id, { now });
    throw error;
  }
  deps.logger.info({ sessionId: session.id, step, kind: error.kind, code: error.code }, "ATMOS refused");
  const mapped = atmosErrorCode(error);
  if (error.kind === "wrong_otp" && !options.terminal) {
    const attempts = session.otpAttempts + 1;
    if (attempts >= MAX_OTP_ATTEMPTS) {
      await failPayment(deps, session.id, "otp_attempts_exceeded", "Too many wrong SMS codes", attempts);
      throw new ApiError("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes; the session has failed", {
        details: { attempts_left: 0 },
      });
    }
    await releaseSession(deps.db, session.id, { otpAttempts: attempts, now });
    throw new ApiError("WRONG_OTP", "Wrong SMS code", {
      field: "otp",
      details: { attempts_left: MAX_OTP_ATTEMPTS - attempts },
    });
  }
  if (error.kind === "otp_attempts_exceeded" && !options.terminal) {
    // ATMOS closed the transaction after its own limit of wrong codes: this one counts too.
    const attempts = Math.max(session.otpAttempts + 1, MAX_OTP_ATTEMPTS);
    await failPayment(deps, session.id, "otp_attempts_exceeded", "Too many wrong SMS codes", attempts);
    throw new ApiError("OTP_ATTEMPTS_EXCEEDED", "Too many wrong SMS codes; the session has failed", {
      details: { attempts_left: 0 },
    });
  }
  if (error.kind === "otp_expired" && !options.terminal) {
    await releaseSession(deps.db, session.id, { now });
    throw new ApiError("OTP_EXPIRED", mapped.message, { field: "otp" });
  }
  if (options.terminal || isTerminalDecline(error)) {
    await failPayment(deps, session.id, error.kind, mapped.message);
    const code =
      options.terminal && mapped.code === "PAYMENT_PROVIDER_UNAVAILABLE" ? "CARD_DECLINED" : mapped.code;
    throw new ApiError(
      code,
      options.terminal && code === "CARD_DECLINED"
        ? "The payment could not be started; ask the bot for a new link"
        : mapped.message,
    );
  }
  // Nothing happened at ATMOS (e.g. a refused connection): the session stays payable.
  await releaseSession(deps.db, session.id, { now });
  throw new ApiError(mapped.code, mapped.message);
}

/**
 * The one place a first payment succeeds: the money core's `completeSessionPayment` in one database
 * transaction (payment success, the subscription started or extended, the session's card made the
 * user's only if ATMOS charged that card: `activateSessionCard`, the user premium, the session
 * completed, an audit row, the user's notification in the outbox). Runs at most once per session
 * (the locked session row decides); the notification is handed to the queue after the commit.
 */
export async function finalizeSuccess(
  deps: Deps,
  sessionId: string,
  transaction: AtmosTransaction,
  source: string,
) {
  // Only a transaction ATMOS reports confirmed grants anything (a reversed one was refunded).
  if (transaction.state !== "confirmed") {
    throw new Error(`finalizeSuccess: transaction ${transaction.transactionId} is ${transaction.state}`);
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
      charge: atmosChargeReading(transaction),
      source,
      actor: "gateway",
    },
  );
  if (done?.status !== "completed") return;
  if (transaction.ofdUrl === null) {
    deps.logger.warn(
      { sessionId, paymentId: done.paymentId, transactionId: transaction.transactionId, source },
      "charged without a fiscal receipt: shown in admin (no receipt) and in reconcile",
    );
  }
  deps.metrics.payments.inc({ outcome: "success" });
  await flushNotifications(deps, done.notificationIds);
  await afterCardPayment(deps, done.subscriptionId);
}

/** The card rule's check, kept importable from here. */
export { chargedCardIs };

/** The apply answer for a session, from the stored state (used for repeats and concurrent calls). */
export async function applyResult(deps: Deps, sessionId: string): Promise<AtmosApplyResponse> {
  const view = (await getSessionView(deps.db, sessionId))!;
  const { session, plan } = view;
  if (session.status === "failed") {
    throw new ApiError("SESSION_FAILED", `This session has failed (${session.failureReason ?? "declined"})`);
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
