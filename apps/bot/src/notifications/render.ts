import type { NotificationJob } from "@obuna/contracts/jobs";
import { formatMoney } from "@obuna/contracts/money";
import type { DbOrTx } from "@obuna/db";
import { getPlanById, getSubscriptionById, getUserById, planName, renewalAmount } from "@obuna/db/queries";
import { callbackData } from "@obuna/grammy/callback-data";
import {
  formatCardExpiry,
  formatDay,
  formatDayTime,
  type Language,
  pickLanguage,
  t,
} from "@obuna/grammy/i18n";
import { InlineKeyboard } from "grammy";
import type { LanguageStore } from "../language-store";
import { getBoundCardSummary, getPaymentForNotification } from "./queries";

export interface RenderDeps {
  db: DbOrTx;
  languages: LanguageStore;
  adminChatId: number | null;
}

export type RenderedNotification =
  | {
      send: true;
      chatId: number;
      /** Our users.id, to mark the user when Telegram says they blocked the bot; null for the admin chat. */
      userId: number | null;
      text: string;
      replyMarkup?: InlineKeyboard;
    }
  | { send: false; reason: string };

const ALERT_TITLES = {
  failed_payments: "🚨 Failed payments",
  unknown_outcomes: "❓ Unknown payment outcomes",
  reconciliation: "🧮 Reconciliation",
  other: "ℹ️ Operator alert",
} as const;

/**
 * Turns a notification job (ids only) into one Telegram message in the user's language, loading what
 * it needs from the database. Returns `send: false` when there is nothing to send (unknown ids,
 * blocked bot, no admin chat) — such jobs complete without retrying.
 */
export async function renderNotification(
  job: NotificationJob,
  deps: RenderDeps,
): Promise<RenderedNotification> {
  if (job.kind === "admin_alert") {
    if (deps.adminChatId === null) return { send: false, reason: "ADMIN_CHAT_ID not set" };
    return {
      send: true,
      chatId: deps.adminChatId,
      userId: null,
      text: `${ALERT_TITLES[job.alert]}\n\n${job.text}`,
    };
  }

  const user = await getUserById(deps.db, job.userId);
  if (!user) return { send: false, reason: "user not found" };
  if (user.botBlockedAt) return { send: false, reason: "user blocked the bot" };
  // The language chosen in the bot (stored on the user), else the bot's cached choice, else Telegram's.
  const lang: Language =
    user.language ??
    (await deps.languages.get(user.telegramId).catch(() => null)) ??
    pickLanguage(user.languageCode);
  const money = (tiyin: number) => formatMoney(tiyin, lang);
  const m = t(lang);
  const to = (text: string, replyMarkup?: InlineKeyboard): RenderedNotification => ({
    send: true,
    chatId: user.telegramId,
    userId: user.id,
    text,
    replyMarkup,
  });

  async function subscriptionWithPlan(subscriptionId: number) {
    const subscription = await getSubscriptionById(deps.db, subscriptionId);
    if (!subscription || subscription.userId !== user!.id) return null;
    const plan = await getPlanById(deps.db, subscription.planId);
    if (!plan) return null;
    return { subscription, plan, planName: planName(plan, lang) };
  }

  switch (job.kind) {
    case "payment_succeeded":
    case "renewal_succeeded":
    case "renewal_charged_after_cancel": {
      const payment = await getPaymentForNotification(deps.db, job.paymentId);
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!payment || payment.userId !== user.id || !loaded)
        return { send: false, reason: "payment or subscription not found" };
      const render =
        job.kind === "payment_succeeded"
          ? m.paymentSucceeded
          : job.kind === "renewal_succeeded"
            ? m.renewalSucceeded
            : m.renewalChargedAfterCancel;
      const text = render(
        // A Telegram Stars payment is counted in Stars (its `amount` in tiyin is 0).
        payment.starsAmount !== null ? `${payment.starsAmount} ⭐` : money(payment.amount),
        loaded.planName,
        formatDay(loaded.subscription.endDate),
        payment.cardMasked,
      );
      // The fiscal receipt of the charge, when ATMOS issued one.
      return to(payment.receiptUrl ? `${text}\n\n${m.receiptLink(payment.receiptUrl)}` : text);
    }
    case "renewal_failed": {
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!loaded) return { send: false, reason: "subscription not found" };
      const { subscription } = loaded;
      const accessUntil = formatDay(subscription.graceUntil ?? subscription.endDate);
      const keyboard = new InlineKeyboard();
      if (!job.hardDecline && subscription.boundCardId !== null) {
        keyboard.text(m.retryNowButton, callbackData.retryNow(subscription.id)).row();
      }
      keyboard.text(m.otherCardButton, callbackData.otherCard(subscription.id)).row();
      if (subscription.autoRenew)
        keyboard.text(m.autoRenewOffButton, callbackData.autoRenewOff(subscription.id));
      const next = job.nextAttemptAt ? formatDayTime(job.nextAttemptAt) : null;
      return to(m.renewalFailed(loaded.planName, accessUntil, job.hardDecline, next), keyboard);
    }
    case "renewal_reminder": {
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!loaded) return { send: false, reason: "subscription not found" };
      if (!loaded.subscription.autoRenew) return { send: false, reason: "auto-renew is off" };
      const card = loaded.subscription.boundCardId
        ? await getBoundCardSummary(deps.db, loaded.subscription.boundCardId)
        : null;
      return to(
        m.renewalReminder(
          loaded.planName,
          // What this subscription's renewal charges (a plan price change applies only after notice).
          money(renewalAmount(loaded.subscription, loaded.plan)),
          formatDay(job.chargeAt),
          card?.panMasked ?? null,
        ),
      );
    }
    // ---- i16-admin: plan price changes
    case "price_change_notice": {
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!loaded) return { send: false, reason: "subscription not found" };
      return to(
        m.priceChangeNotice(
          loaded.planName,
          money(job.oldAmount),
          money(job.newAmount),
          formatDay(job.effectiveAt),
        ),
      );
    }
    // ---- end i16-admin
    case "subscription_expired": {
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!loaded) return { send: false, reason: "subscription not found" };
      return to(
        m.subscriptionExpired(loaded.planName),
        new InlineKeyboard().text(m.buyPremiumButton, callbackData.premium()),
      );
    }
    case "card_expiring": {
      const card = await getBoundCardSummary(deps.db, job.boundCardId);
      if (!card || card.userId !== user.id) return { send: false, reason: "card not found" };
      return to(m.cardExpiring(card.panMasked, formatCardExpiry(card.expiry)));
    }
    // Money changes made by an operator in admin.
    case "payment_refunded": {
      const payment = await getPaymentForNotification(deps.db, job.paymentId);
      if (!payment || payment.userId !== user.id) return { send: false, reason: "payment not found" };
      const loaded = job.subscriptionId ? await subscriptionWithPlan(job.subscriptionId) : null;
      return to(
        m.paymentRefunded(
          payment.starsAmount !== null ? `${payment.starsAmount} ⭐` : money(payment.amount),
          loaded?.planName ?? null,
          payment.cardMasked,
          job.endDate ? formatDay(job.endDate) : null,
          job.accessEnded,
        ),
        job.accessEnded ? new InlineKeyboard().text(m.buyPremiumButton, callbackData.premium()) : undefined,
      );
    }
    case "subscription_canceled_by_admin": {
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!loaded) return { send: false, reason: "subscription not found" };
      return to(m.subscriptionCanceledByAdmin(loaded.planName));
    }
    case "subscription_extended": {
      const loaded = await subscriptionWithPlan(job.subscriptionId);
      if (!loaded) return { send: false, reason: "subscription not found" };
      return to(m.subscriptionExtended(loaded.planName, job.days, formatDay(job.endDate)));
    }
    case "card_deactivated": {
      const card = await getBoundCardSummary(deps.db, job.boundCardId);
      if (!card || card.userId !== user.id) return { send: false, reason: "card not found" };
      return to(m.cardDeactivated(card.panMasked));
    }
  }
}
