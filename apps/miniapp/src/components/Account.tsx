import type {
  BoundCard,
  CardsResponse,
  PaymentHistoryResponse,
  SubscriptionResponse,
} from "@obuna/contracts/http";
import { formatMoney } from "@obuna/contracts/money";
import { useCallback, useEffect, useRef, useState } from "react";
import { formatCardExpiry, formatDate, formatMaskedPan } from "../lib/format";
import { callGateway, type GatewayAuth, IdempotencyKeys, sendAction } from "../lib/gateway-client";
import { errorMessageKey } from "../lib/i18n";
import { useLaunch } from "../lib/launch-context";
import { haptic } from "../lib/telegram";
import { Alert, Button, Card, Row, Spinner } from "./ui";

interface AccountData {
  subscription: SubscriptionResponse["subscription"];
  /** The language chosen in the bot, if any. */
  language: SubscriptionResponse["language"];
  cards: BoundCard[];
  payments: PaymentHistoryResponse["payments"];
}

async function loadAccount(auth: GatewayAuth, telegramId: number) {
  const [subscription, cards, payments] = await Promise.all([
    callGateway<SubscriptionResponse>(auth, "GET", `user/${telegramId}/subscription`),
    callGateway<CardsResponse>(auth, "GET", `user/${telegramId}/cards`),
    callGateway<PaymentHistoryResponse>(auth, "GET", `user/${telegramId}/payments`),
  ]);
  if (!subscription.ok) return subscription;
  if (!cards.ok) return cards;
  if (!payments.ok) return payments;
  return {
    ok: true as const,
    data: {
      subscription: subscription.data.subscription,
      language: subscription.data.language,
      cards: cards.data.cards,
      payments: payments.data.payments,
    },
  };
}

export function Account() {
  const { t, auth, telegramId, lang, adoptUserLanguage } = useLaunch();
  const [data, setData] = useState<AccountData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const inFlight = useRef(false);
  const keys = useRef(new IdempotencyKeys());

  const refresh = useCallback(async () => {
    if (!auth || !telegramId) return;
    const result = await loadAccount(auth, telegramId);
    if (result.ok) {
      setData(result.data);
      adoptUserLanguage(result.data.language);
    } else setError(t(errorMessageKey(result.error.code)));
  }, [auth, telegramId, t, adoptUserLanguage]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  async function mutate(name: string, method: "POST" | "DELETE", path: string, doneText?: string) {
    if (!auth || inFlight.current) return;
    inFlight.current = true;
    setBusy(name);
    setError(null);
    setNotice(null);
    try {
      const result = await sendAction<unknown>(
        auth,
        keys.current,
        name,
        method,
        path,
        method === "POST" ? {} : undefined,
        path,
      );
      if (!result.ok) {
        haptic("error");
        setError(t(errorMessageKey(result.error.code)));
        return;
      }
      haptic("success");
      await refresh();
      if (doneText) setNotice(doneText);
    } finally {
      inFlight.current = false;
      setBusy(null);
    }
  }

  if (!auth || !telegramId) return <Alert tone="error">{t("app.open_in_telegram")}</Alert>;
  if (!data) {
    return error ? (
      <div className="flex flex-col gap-3">
        <Alert tone="error">{error}</Alert>
        <Button onClick={() => void refresh()}>{t("app.retry")}</Button>
      </div>
    ) : (
      <p className="flex items-center gap-2 text-tg-hint">
        <Spinner /> {t("app.loading")}
      </p>
    );
  }

  const sub = data.subscription;
  const activeCards = data.cards.filter((card) => card.is_active);
  return (
    <div className="flex flex-col gap-4" data-page="account">
      {error && <Alert tone="error">{error}</Alert>}
      {notice && <Alert tone="success">{notice}</Alert>}
      {sub ? (
        <Card>
          <h2 className="text-base font-semibold" data-testid="account-plan">
            {sub.plan.names?.[lang] ?? sub.plan.name}
          </h2>
          <Row
            label={t("account.status")}
            value={<span data-testid="account-status">{t(`account.status.${sub.status}`)}</span>}
          />
          <p className="text-sm">
            {t(sub.is_active ? "account.until" : "account.ended", { date: formatDate(sub.end_date) })}
          </p>
          <p className="text-sm text-tg-hint" data-testid="next-charge">
            {sub.next_charge
              ? t("account.next_charge", {
                  // When the charge will be tried (RENEWAL_LEAD_HOURS before the end), as in the bot.
                  date: formatDate(sub.next_charge_at ?? sub.next_charge.date),
                  amount: formatMoney(sub.next_charge.amount, lang),
                  card: formatMaskedPan(sub.next_charge.card_masked),
                })
              : t("account.no_next_charge")}
          </p>
          {sub.is_active && (
            <div className="mt-3 flex flex-col gap-2">
              <div className="flex items-center justify-between">
                <span className="font-medium">{t("account.autorenew")}</span>
                <span data-testid="autorenew-state">
                  {t(sub.auto_renew ? "result.autorenew_on" : "result.autorenew_off")}
                </span>
              </div>
              {sub.auto_renew && (
                <p className="text-xs text-tg-hint">
                  {t("account.cancel_note", { date: formatDate(sub.end_date) })}
                </p>
              )}
              <Button
                variant={sub.auto_renew ? "danger" : "primary"}
                disabled={busy !== null}
                busy={busy === "renew"}
                onClick={() =>
                  void mutate(
                    "renew",
                    "POST",
                    `subscription/${sub.id}/${sub.auto_renew ? "cancel" : "resume"}`,
                  )
                }
              >
                {t(sub.auto_renew ? "account.turn_off" : "account.turn_on")}
              </Button>
            </div>
          )}
        </Card>
      ) : (
        <Card>
          <p>{t("account.none")}</p>
        </Card>
      )}
      <Card>
        <h2 className="mb-2 text-base font-semibold">{t("account.cards")}</h2>
        {activeCards.length === 0 && <p className="text-sm text-tg-hint">{t("account.no_cards")}</p>}
        <ul className="flex flex-col gap-2">
          {activeCards.map((card) => (
            <li
              key={card.id}
              className="flex items-center justify-between gap-2"
              data-testid="saved-card-row"
            >
              <span>
                <span className="font-mono">{formatMaskedPan(card.pan_masked)}</span>{" "}
                <span className="text-xs text-tg-hint">
                  {card.card_type === "humo" ? t("card.humo") : t("card.uzcard")} ·{" "}
                  {t("account.card_expiry", { expiry: formatCardExpiry(card.expiry) })}
                </span>
              </span>
              {confirming === card.id ? (
                <span className="flex flex-col items-end gap-1 text-sm">
                  <span>{t("account.remove_confirm")}</span>
                  <span className="flex gap-3">
                    <button type="button" className="text-tg-link" onClick={() => setConfirming(null)}>
                      {t("account.keep")}
                    </button>
                    <button
                      type="button"
                      className="font-semibold text-tg-destructive disabled:opacity-50"
                      disabled={busy !== null}
                      onClick={() =>
                        void mutate(
                          `card-${card.id}`,
                          "DELETE",
                          `user/${telegramId}/cards/${card.id}`,
                          t("account.removed"),
                        ).then(() => setConfirming(null))
                      }
                    >
                      {t("account.remove_yes")}
                    </button>
                  </span>
                </span>
              ) : (
                <button
                  type="button"
                  className="text-sm text-tg-destructive disabled:opacity-50"
                  disabled={busy !== null}
                  onClick={() => setConfirming(card.id)}
                >
                  {t("account.remove")}
                </button>
              )}
            </li>
          ))}
        </ul>
      </Card>
      <Card>
        <h2 className="mb-2 text-base font-semibold">{t("account.history")}</h2>
        {data.payments.length === 0 && <p className="text-sm text-tg-hint">{t("account.no_payments")}</p>}
        <ul className="flex flex-col gap-2">
          {data.payments.map((payment) => (
            <li key={payment.id} className="flex justify-between gap-2 text-sm" data-testid="payment-row">
              <span>
                {formatDate(payment.created_at)} · {t(`account.kind.${payment.kind}`)}
                {payment.card_masked ? ` · ${formatMaskedPan(payment.card_masked)}` : ""}
              </span>
              <span className="text-right whitespace-nowrap">
                {formatMoney(payment.amount, lang)}
                <br />
                <span className={payment.status === "success" ? "text-tg-success" : "text-tg-hint"}>
                  {t(`account.payment.${payment.status}`)}
                </span>
                {payment.receipt_url && (
                  <>
                    <br />
                    <a
                      href={payment.receipt_url}
                      target="_blank"
                      rel="noopener noreferrer"
                      className="text-tg-link underline"
                      data-testid="payment-receipt"
                    >
                      {t("account.receipt")}
                    </a>
                  </>
                )}
              </span>
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}
