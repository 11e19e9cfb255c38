import { RenewalRetryNowJobSchema } from "@obuna/contracts/jobs";
import { loadSubscription, sendPaymentLink, turnAutoRenewOff } from "@obuna/grammy";
import { CALLBACK_PATTERNS, parseId } from "@obuna/grammy/callback-data";
import { formatDay } from "@obuna/grammy/i18n";
import { Composer } from "grammy";
import type { BotContext } from "../context";

/** The buttons under a "renewal failed" notification: retry now, pay with another card, auto-renew off. */
export function recoveryFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  feature.callbackQuery(CALLBACK_PATTERNS.recovery, async (ctx) => {
    const action = ctx.match[1] as "retry" | "pay" | "off";
    const subscriptionId = parseId(ctx.match[2])!;

    if (action === "off") {
      const outcome = await turnAutoRenewOff(ctx, subscriptionId);
      if (outcome === "stale") {
        await ctx.answerCallbackQuery({ text: ctx.t.staleButton, show_alert: true });
        return;
      }
      const subscription = await loadSubscription(ctx);
      const endDate = subscription ? formatDay(subscription.end_date) : "";
      await ctx.answerCallbackQuery();
      await ctx.reply(outcome === "done" ? ctx.t.cancelDone(endDate) : ctx.t.cancelAlreadyOff(endDate));
      return;
    }

    const subscription = await loadSubscription(ctx);
    if (!subscription || subscription.id !== subscriptionId) {
      await ctx.answerCallbackQuery({ text: ctx.t.staleButton, show_alert: true });
      return;
    }

    if (action === "pay") {
      await ctx.answerCallbackQuery();
      if ((await sendPaymentLink(ctx, subscription.plan.slug)) === "stale")
        await ctx.reply(ctx.t.staleButton);
      return;
    }

    // retry: only a past-due subscription with a saved card has anything to retry.
    if (subscription.status !== "past_due" || !subscription.card?.is_active) {
      await ctx.answerCallbackQuery({ text: ctx.t.retryNotPossible, show_alert: true });
      return;
    }
    const job = RenewalRetryNowJobSchema.parse({ subscriptionId, requestedByTelegramId: ctx.from.id });
    // One retry per notification message, however often the button is tapped.
    const messageId = ctx.callbackQuery.message?.message_id ?? 0;
    await ctx.deps.enqueueRetryNow(job, `retry-now-${subscriptionId}-${messageId}`);
    ctx.logger.info({ telegramId: ctx.from.id, subscriptionId }, "renewal retry requested");
    await ctx.answerCallbackQuery({ text: ctx.t.retryQueued });
    await ctx.reply(ctx.t.retryQueued);
  });

  return feature;
}
