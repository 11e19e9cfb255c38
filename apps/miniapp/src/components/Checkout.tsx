import type {
  AtmosApplyResponse,
  AtmosCreateResponse,
  AtmosPreApplyResponse,
  PaymentSessionResponse,
  StarsSessionInvoiceResponse,
  SubscriptionResponse,
} from "@obuna/contracts/http";
import { formatMoney } from "@obuna/contracts/money";
import { useCallback, useEffect, useRef, useState } from "react";
import { formatDate, formatMaskedPan } from "../lib/format";
import {
  callGateway,
  type GatewayError,
  IdempotencyKeys,
  isRetryable,
  sendAction,
} from "../lib/gateway-client";
import { errorMessageKey, errorText, failureReasonKey, type MessageKey } from "../lib/i18n";
import { useLaunch } from "../lib/launch-context";
import { describeTelegramUser, haptic, insideTelegram, openInvoice, telegramWebApp } from "../lib/telegram";
import { useBackButton, useClosingConfirmation, useMainButton } from "../lib/telegram-hooks";
import { CardForm, type CardFormValue } from "./CardForm";
import { OtpForm } from "./OtpForm";
import { Alert, Button, Card, Row, Spinner } from "./ui";

interface PaidResult {
  endDate: string;
  cardMasked: string | null;
  autoRenew: boolean;
  /** Paid with Telegram Stars: `subscription` = Telegram renews it (a native Stars subscription). */
  stars?: { subscription: boolean };
}

type Step =
  | { name: "loading" }
  | { name: "card" }
  | { name: "otp"; preApply: AtmosPreApplyResponse; attemptsLeft: number | null }
  | { name: "polling" }
  | { name: "slow" }
  | { name: "success"; result: PaidResult }
  | { name: "failure"; code: string; canTryAnotherCard: boolean; reasonKey?: MessageKey }
  | { name: "expired" }
  /** The gateway wants launch data from minutes ago to pay: the page must be reopened from the bot. */
  | { name: "reopen" }
  | { name: "load_error"; code: string };

/** Declines the person can fix with another card; anything else needs a new link. */
const CARD_PROBLEMS = new Set([
  "INSUFFICIENT_FUNDS",
  "CARD_EXPIRED",
  "CARD_BLOCKED",
  "CARD_DECLINED",
  "SMS_NOT_CONNECTED",
  "INVALID_CARD",
  "UNSUPPORTED_CARD",
  "OTP_EXPIRED",
]);
const DEAD_SESSION = new Set(["SESSION_FAILED", "OTP_ATTEMPTS_EXCEEDED", "AMOUNT_MISMATCH"]);
const POLL_INTERVAL_MS = 2000;
const POLL_LIMIT = 45;
const CARD_FORM = "card-form";
const OTP_FORM = "otp-form";

function attemptsFrom(error: GatewayError): number | null {
  const left = error.details?.attempts_left;
  return typeof left === "number" ? left : null;
}

function devSuffix(): string {
  const devUser = new URLSearchParams(window.location.search).get("dev_user");
  return devUser ? `?dev_user=${encodeURIComponent(devUser)}` : "";
}

export function Checkout({ sessionId }: { sessionId: string | null }) {
  const { t, auth, ready, user, lang, adoptUserLanguage } = useLaunch();
  const [session, setSession] = useState<PaymentSessionResponse | null>(null);
  const [step, setStep] = useState<Step>({ name: "loading" });
  const [busy, setBusy] = useState(false);
  const [autoRenew, setAutoRenew] = useState(true);
  const [inlineError, setInlineError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [resendAt, setResendAt] = useState(0);
  const [formKey, setFormKey] = useState(0);
  const inFlight = useRef(false);
  const keys = useRef(new IdempotencyKeys());
  const transaction = useRef<{ id: number; autoRenew: boolean } | null>(null);
  const resendCount = useRef(0);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const succeed = useCallback((result: PaidResult) => {
    haptic("success");
    setStep({ name: "success", result });
  }, []);

  const fail = useCallback((code: string, sessionStillOpen = true) => {
    haptic("error");
    if (code === "SESSION_EXPIRED" || code === "SESSION_NOT_FOUND") setStep({ name: "expired" });
    else setStep({ name: "failure", code, canTryAnotherCard: sessionStillOpen && !DEAD_SESSION.has(code) });
  }, []);

  /** After a decline only the gateway knows whether this link can take another card. */
  const failAfterDecline = useCallback(
    async (code: string) => {
      if (!auth || !sessionId) return fail(code);
      const current = await callGateway<PaymentSessionResponse>(auth, "GET", `payment/session/${sessionId}`);
      fail(code, current.ok && (current.data.status === "pending" || current.data.status === "processing"));
    },
    [auth, sessionId, fail],
  );

  /** Shows what the gateway says the session is; the page never decides a payment succeeded. */
  const showSession = useCallback(
    (loaded: PaymentSessionResponse) => {
      setSession(loaded);
      adoptUserLanguage(loaded.language);
      switch (loaded.status) {
        case "completed":
          succeed({
            endDate: loaded.subscription?.end_date ?? loaded.completed_at ?? loaded.expires_at,
            cardMasked: loaded.auto_renew ? loaded.card_masked : null,
            autoRenew: loaded.subscription?.auto_renew ?? loaded.auto_renew,
          });
          return "done" as const;
        case "failed":
          // A failed link cannot take another card: say what really happened and how to get a new link.
          haptic("error");
          setStep({
            name: "failure",
            code: loaded.failure_reason ?? "declined",
            canTryAnotherCard: false,
            reasonKey: failureReasonKey(loaded.failure_reason),
          });
          return "done" as const;
        case "expired":
          setStep({ name: "expired" });
          return "done" as const;
        case "processing":
          return "processing" as const;
        default:
          return "pending" as const;
      }
    },
    [succeed, adoptUserLanguage],
  );

  const poll = useCallback(async () => {
    if (!auth || !sessionId) return;
    setStep({ name: "polling" });
    for (let i = 0; i < POLL_LIMIT && mounted.current; i++) {
      await new Promise((resolve) => window.setTimeout(resolve, POLL_INTERVAL_MS));
      const result = await callGateway<PaymentSessionResponse>(auth, "GET", `payment/session/${sessionId}`);
      if (!result.ok) {
        if (result.error.code === "SESSION_EXPIRED") return setStep({ name: "expired" });
        continue;
      }
      if (showSession(result.data) !== "processing") return;
    }
    setStep({ name: "slow" });
  }, [auth, sessionId, showSession]);

  const loadSession = useCallback(async () => {
    if (!auth || !sessionId) return;
    setStep({ name: "loading" });
    const result = await callGateway<PaymentSessionResponse>(auth, "GET", `payment/session/${sessionId}`);
    if (!result.ok) {
      if (result.error.code === "SESSION_EXPIRED" || result.error.code === "SESSION_NOT_FOUND")
        setStep({ name: "expired" });
      else setStep({ name: "load_error", code: result.error.code });
      return;
    }
    setAutoRenew(result.data.auto_renew);
    const state = showSession(result.data);
    if (state === "pending") setStep({ name: "card" });
    else if (state === "processing") void poll();
  }, [auth, sessionId, showSession, poll]);

  useEffect(() => {
    if (ready) void loadSession();
  }, [ready, loadSession]);

  /** Runs one user action at a time: a double tap while a request is in flight does nothing. */
  async function runAction(action: () => Promise<void>) {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setInlineError(null);
    setNotice(null);
    try {
      await action();
    } finally {
      inFlight.current = false;
      if (mounted.current) setBusy(false);
    }
  }

  async function handleActionError(error: GatewayError, stage: "card" | "otp"): Promise<void> {
    // Paying takes launch data at most TMA_INIT_DATA_PAY_MAX_AGE_S old (gateway 401 `stale`).
    if (
      error.code === "UNAUTHORIZED" &&
      (error.details?.reason === "stale" || error.details?.reason === "expired")
    ) {
      haptic("error");
      return setStep({ name: "reopen" });
    }
    const message = errorText(t, error);
    if (error.code === "SESSION_ALREADY_COMPLETED") return loadSession();
    if (
      error.code === "SESSION_EXPIRED" ||
      error.code === "SESSION_NOT_FOUND" ||
      DEAD_SESSION.has(error.code)
    ) {
      return fail(error.code);
    }
    if (error.code === "INVALID_STATE" || error.code === "TRANSACTION_MISMATCH") transaction.current = null;
    if (stage === "otp" && CARD_PROBLEMS.has(error.code) && error.code !== "OTP_EXPIRED")
      return failAfterDecline(error.code);
    if (stage === "otp" && step.name === "otp" && error.code === "WRONG_OTP") {
      setStep({ ...step, attemptsLeft: attemptsFrom(error) ?? step.attemptsLeft });
    }
    if (!isRetryable(error)) haptic("error");
    setInlineError(message);
  }

  async function payWithCard(card: CardFormValue) {
    if (!auth || !session) return;
    await runAction(async () => {
      if (!transaction.current || transaction.current.autoRenew !== autoRenew) {
        const request = { session_id: session.session_id, amount: session.amount, auto_renew: autoRenew };
        const created = await sendAction<AtmosCreateResponse>(
          auth,
          keys.current,
          "create",
          "POST",
          "atmos/create",
          request,
        );
        if (!created.ok) return await handleActionError(created.error, "card");
        transaction.current = { id: created.data.transaction_id, autoRenew };
      }
      const request = {
        session_id: session.session_id,
        transaction_id: transaction.current.id,
        card_number: card.pan,
        expiry: card.expiry,
        // Paying accepts the public offer shown above the button: the version the payer saw.
        ...(session.offer ? { offer_version: session.offer.version } : {}),
      };
      const preApplied = await sendAction<AtmosPreApplyResponse>(
        auth,
        keys.current,
        "pre-apply",
        "POST",
        "atmos/pre-apply",
        request,
      );
      if (!preApplied.ok) return await handleActionError(preApplied.error, "card");
      resendCount.current = 0;
      setResendAt(Date.parse(preApplied.data.resend_available_at) || 0);
      setStep({ name: "otp", preApply: preApplied.data, attemptsLeft: null });
    });
  }

  /**
   * After Telegram's invoice said `paid` (or `pending`): the money is recorded only when the bot
   * relays Telegram's successful_payment, so the page waits for the gateway to say the session is
   * completed and shows that, never the client's word alone.
   */
  async function waitForStarsPayment(subscription: boolean) {
    if (!auth || !sessionId) return;
    setStep({ name: "polling" });
    for (let i = 0; i < POLL_LIMIT && mounted.current; i++) {
      const result = await callGateway<PaymentSessionResponse>(auth, "GET", `payment/session/${sessionId}`);
      if (result.ok && result.data.status === "completed") {
        setSession(result.data);
        // The session names the subscription a card paid; a Stars payment's is the user's current one.
        const current =
          result.data.subscription === null && user
            ? await callGateway<SubscriptionResponse>(auth, "GET", `user/${user.id}/subscription`)
            : null;
        const endDate =
          result.data.subscription?.end_date ??
          (current?.ok ? current.data.subscription?.end_date : undefined) ??
          result.data.completed_at ??
          result.data.expires_at;
        return succeed({
          endDate,
          cardMasked: null,
          autoRenew: false,
          stars: { subscription },
        });
      }
      if (result.ok && result.data.status !== "pending" && result.data.status !== "processing")
        return void showSession(result.data);
      if (
        !result.ok &&
        (result.error.code === "SESSION_EXPIRED" || result.error.code === "SESSION_NOT_FOUND")
      )
        return setStep({ name: "expired" });
      await new Promise((resolve) => window.setTimeout(resolve, POLL_INTERVAL_MS));
    }
    if (mounted.current) setStep({ name: "slow" });
  }

  /** "Pay with Stars": the session's Stars invoice from the gateway, opened in Telegram (openInvoice). */
  async function payWithStars() {
    if (!auth || !session) return;
    let paid: { subscription: boolean } | null = null;
    await runAction(async () => {
      const link = await callGateway<StarsSessionInvoiceResponse>(
        auth,
        "POST",
        `payment/session/${session.session_id}/stars-invoice`,
      );
      if (!link.ok) return await handleActionError(link.error, "card");
      const status = await openInvoice(link.data.invoice_link);
      if (status === "paid" || status === "pending") {
        paid = { subscription: link.data.subscription };
        return;
      }
      if (status === "cancelled") {
        // Nothing was charged: the session stays payable, by Stars or by card.
        setNotice(t("stars.cancelled"));
        return;
      }
      haptic("error");
      setInlineError(t("stars.failed"));
    });
    if (paid) await waitForStarsPayment((paid as { subscription: boolean }).subscription);
  }

  async function confirmOtp(otp: string) {
    if (!auth || !session || step.name !== "otp") return;
    const { preApply } = step;
    await runAction(async () => {
      const request = { session_id: session.session_id, transaction_id: preApply.transaction_id, otp };
      const applied = await sendAction<AtmosApplyResponse>(
        auth,
        keys.current,
        "apply",
        "POST",
        "atmos/apply",
        request,
      );
      if (!applied.ok) return await handleActionError(applied.error, "otp");
      if (applied.data.status === "completed" && applied.data.subscription) {
        succeed({
          endDate: applied.data.subscription.end_date,
          cardMasked: applied.data.card_saved ? applied.data.card_masked : null,
          autoRenew: applied.data.subscription.auto_renew,
        });
      } else {
        await poll();
      }
    });
  }

  async function resendOtp() {
    if (!auth || !session || step.name !== "otp") return;
    const { preApply } = step;
    await runAction(async () => {
      const request = {
        session_id: session.session_id,
        transaction_id: preApply.transaction_id,
        n: resendCount.current,
      };
      const resent = await sendAction<{ resend_available_at: string }>(
        auth,
        keys.current,
        "resend",
        "POST",
        "atmos/resend-otp",
        { session_id: request.session_id, transaction_id: request.transaction_id },
        request,
      );
      if (!resent.ok) return await handleActionError(resent.error, "otp");
      resendCount.current += 1;
      setResendAt(Date.parse(resent.data.resend_available_at) || 0);
      setNotice(t("otp.resent"));
    });
  }

  function backToCard() {
    setInlineError(null);
    setNotice(null);
    setStep({ name: "card" });
  }

  function tryAnotherCard() {
    transaction.current = null;
    setFormKey((k) => k + 1);
    backToCard();
  }

  const inTelegram = insideTelegram();
  // Telegram Stars are paid only inside a Telegram client (openInvoice).
  const starsAvailable = typeof telegramWebApp()?.openInvoice === "function";
  const price = session ? formatMoney(session.amount, lang) : "";
  const planName = session ? (session.plan.names?.[lang] ?? session.plan.name) : "";
  const mainAction =
    step.name === "card"
      ? { text: t("checkout.pay", { price }), form: CARD_FORM }
      : step.name === "otp"
        ? { text: t("otp.confirm"), form: OTP_FORM }
        : null;
  useMainButton({
    text: mainAction?.text ?? "",
    visible: mainAction !== null,
    enabled: !busy,
    busy,
    onClick: () => {
      if (mainAction) (document.getElementById(mainAction.form) as HTMLFormElement | null)?.requestSubmit();
    },
  });
  useBackButton(step.name === "otp" && !busy ? backToCard : null);
  useClosingConfirmation(busy || step.name === "polling");

  if (!sessionId) {
    return <Alert tone="error">{t("error.SESSION_NOT_FOUND")}</Alert>;
  }
  if (!auth) {
    return <Alert tone="error">{t("app.open_in_telegram")}</Alert>;
  }

  const payer = user && (
    <Card>
      <p data-testid="paying-as" className="font-semibold">
        {t("checkout.paying_as", { who: describeTelegramUser(user) })}
      </p>
      <p className="text-sm text-tg-hint">{t("checkout.paying_as_hint")}</p>
    </Card>
  );

  const planSummary = session && (
    <Card>
      <Row label={t("checkout.plan")} value={<span data-testid="plan-name">{planName}</span>} />
      <Row label={t("checkout.price")} value={<span data-testid="price">{price}</span>} />
      <Row
        label={t("checkout.period")}
        value={t("checkout.period_days", { n: session.plan.duration_days })}
      />
    </Card>
  );

  switch (step.name) {
    case "loading":
      return (
        <p className="flex items-center gap-2 text-tg-hint">
          <Spinner /> {t("app.loading")}
        </p>
      );
    case "load_error":
      return (
        <div className="flex flex-col gap-3">
          <Alert tone="error">{t(errorMessageKey(step.code))}</Alert>
          <Button onClick={() => void loadSession()}>{t("app.retry")}</Button>
        </div>
      );
    case "card": {
      const period = t("checkout.period_days", { n: session?.plan.duration_days ?? 0 });
      return (
        <div className="flex flex-col gap-4" data-step="card">
          {planSummary}
          {payer}
          <CardForm
            key={formKey}
            t={t}
            formId={CARD_FORM}
            disabled={busy}
            busy={busy}
            showSubmit={!inTelegram}
            submitLabel={busy ? t("processing.title") : t("checkout.pay", { price })}
            autoRenew={autoRenew}
            onAutoRenewChange={setAutoRenew}
            autoRenewText={t(autoRenew ? "checkout.autorenew_on" : "checkout.autorenew_off", {
              period,
              price,
            })}
            onSubmit={(card) => void payWithCard(card)}
          />
          {session?.offer && (
            <p className="text-xs text-tg-hint" data-testid="offer">
              {t("checkout.offer_before")}
              <a
                href={session.offer.url}
                target="_blank"
                rel="noopener noreferrer"
                className="text-tg-link underline"
              >
                {t("checkout.offer_link")}
              </a>
              {t("checkout.offer_after")}
            </p>
          )}
          {starsAvailable && (
            <Button
              variant="secondary"
              data-testid="pay-stars"
              disabled={busy}
              onClick={() => void payWithStars()}
            >
              {t("stars.pay")}
            </Button>
          )}
          {notice && (
            <p role="status" data-testid="stars-notice" className="text-sm text-tg-hint">
              {notice}
            </p>
          )}
          {inlineError && <Alert tone="error">{inlineError}</Alert>}
        </div>
      );
    }
    case "otp":
      return (
        <div className="flex flex-col gap-4" data-step="otp">
          {planSummary}
          {payer}
          <OtpForm
            t={t}
            formId={OTP_FORM}
            phoneMasked={step.preApply.phone_masked}
            attemptsLeft={step.attemptsLeft}
            resendAvailableAt={resendAt}
            disabled={busy}
            busy={busy}
            showSubmit={!inTelegram}
            error={inlineError}
            notice={notice}
            onSubmit={(otp) => void confirmOtp(otp)}
            onResend={() => void resendOtp()}
            onBack={backToCard}
          />
          {busy && (
            <p className="flex items-center gap-2 text-sm text-tg-hint">
              <Spinner /> {t("processing.keep_open")}
            </p>
          )}
        </div>
      );
    case "polling":
      return (
        <div
          className="flex flex-col items-center gap-3 py-8 text-center"
          data-step="processing"
          aria-live="polite"
        >
          <Spinner />
          <p className="font-semibold">{t("processing.title")}</p>
          <p className="text-sm text-tg-hint">{t("processing.keep_open")}</p>
        </div>
      );
    case "slow":
      return (
        <Card>
          <p className="font-semibold">{t("processing.slow_title")}</p>
          <p className="text-sm text-tg-hint">{t("processing.slow_text")}</p>
        </Card>
      );
    case "success":
      return (
        <div className="flex flex-col gap-4" data-step="success">
          <Card>
            <h2 className="text-lg font-semibold text-tg-success">{t("result.success_title")}</h2>
            <p data-testid="success-text">
              {t("result.success_text", {
                plan: planName,
                date: formatDate(step.result.endDate),
              })}
            </p>
            {step.result.cardMasked && (
              <p data-testid="saved-card" className="text-sm">
                {t("result.card_saved", { card: formatMaskedPan(step.result.cardMasked) })}
              </p>
            )}
            <p className="text-sm text-tg-hint" data-testid="renewal-note">
              {step.result.stars
                ? t(step.result.stars.subscription ? "stars.paid_subscription" : "stars.paid_once")
                : t(step.result.autoRenew ? "result.autorenew_on" : "result.autorenew_off")}
            </p>
          </Card>
          <a href={`/account${devSuffix()}`} className="text-center text-tg-link">
            {t("result.my_subscription")}
          </a>
          {telegramWebApp()?.close && (
            <Button variant="secondary" onClick={() => telegramWebApp()?.close?.()}>
              {t("result.back_to_bot")}
            </Button>
          )}
        </div>
      );
    case "failure":
      return (
        <div className="flex flex-col gap-4" data-step="failure">
          <Card>
            <h2 className="text-lg font-semibold text-tg-destructive">{t("result.failure_title")}</h2>
            <p role="alert" data-testid="failure-reason">
              {t(step.reasonKey ?? errorMessageKey(step.code))}
            </p>
          </Card>
          {step.canTryAnotherCard ? (
            <Button onClick={tryAnotherCard}>{t("result.try_another_card")}</Button>
          ) : (
            <NewLinkHint t={t} />
          )}
        </div>
      );
    case "reopen":
      return (
        <div className="flex flex-col gap-4" data-step="reopen">
          <Alert tone="error">{t("error.INIT_DATA_STALE")}</Alert>
          {telegramWebApp()?.close && (
            <Button variant="secondary" onClick={() => telegramWebApp()?.close?.()}>
              {t("result.back_to_bot")}
            </Button>
          )}
        </div>
      );
    case "expired":
      return (
        <Card>
          <div data-step="expired" className="flex flex-col gap-3">
            <h2 className="text-lg font-semibold">{t("result.expired_title")}</h2>
            <NewLinkHint t={t} />
          </div>
        </Card>
      );
  }
}

/** A dead link: how to get a new one (/premium in the bot), with a button back to the bot in Telegram. */
function NewLinkHint({ t }: { t: ReturnType<typeof useLaunch>["t"] }) {
  const close = telegramWebApp()?.close;
  return (
    <div className="flex flex-col gap-3" data-testid="new-link-hint">
      <p className="text-sm">{t("reason.new_link")}</p>
      {close && (
        <Button variant="secondary" onClick={() => telegramWebApp()?.close?.()}>
          {t("reason.open_bot")}
        </Button>
      )}
    </div>
  );
}
