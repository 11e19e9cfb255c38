import { formatMoney } from "@obuna/contracts/money";
import { Composer, InlineKeyboard } from "grammy";
import { CALLBACK_PATTERNS, callbackData, parseId } from "../callback-data";
import type { ObunaContext } from "../context";
import { GatewayError } from "../gateway-client";
import { formatDay } from "../i18n";
import { loadSubscription } from "./account";

/**
 * Turns auto-renew off for the caller's own live subscription `subscriptionId`.
 * The id comes from a button, so it is checked against what the gateway says the caller owns:
 * a button from an old subscription (or someone else's id) is "stale", never acted on.
 */
export async function turnAutoRenewOff(
  ctx: ObunaContext,
  subscriptionId: number,
): Promise<"done" | "already_off" | "stale"> {
  const subscription = await loadSubscription(ctx);
  if (!subscription || subscription.id !== subscriptionId || !subscription.is_active) return "stale";
  if (!subscription.auto_renew) return "already_off";
  try {
    await ctx.obuna.gateway.cancelSubscription(subscriptionId);
  } catch (error) {
    if (error instanceof GatewayError && error.isStale) return "stale";
    throw error;
  }
  ctx.obuna.logger.info({ telegramId: ctx.from!.id, subscriptionId }, "auto-renew turned off");
  return "done";
}

/** /cancel (with a confirmation) and /resume. */
export function autoRenewFeature(): Composer<ObunaContext> {
  const feature = new Composer<ObunaContext>();

  feature.command("cancel", async (ctx) => {
    const subscription = await loadSubscription(ctx);
    if (!subscription?.is_active) {
      await ctx.reply(ctx.obuna.t.cancelNothing);
      return;
    }
    const endDate = formatDay(subscription.end_date);
    if (!subscription.auto_renew) {
      await ctx.reply(ctx.obuna.t.cancelAlreadyOff(endDate));
      return;
    }
    await ctx.reply(ctx.obuna.t.cancelConfirm(endDate), {
      reply_markup: new InlineKeyboard()
        .text(ctx.obuna.t.cancelYes, callbackData.cancelYes(subscription.id))
        .text(ctx.obuna.t.cancelNo, callbackData.cancelNo()),
    });
  });

  feature.callbackQuery(CALLBACK_PATTERNS.cancelYes, async (ctx) => {
    const subscriptionId = parseId(ctx.match[1])!;
    const outcome = await turnAutoRenewOff(ctx, subscriptionId);
    if (outcome === "stale") {
      await ctx.answerCallbackQuery({ text: ctx.obuna.t.staleButton, show_alert: true });
      return;
    }
    const subscription = await loadSubscription(ctx);
    const endDate = subscription ? formatDay(subscription.end_date) : "";
    const text = outcome === "done" ? ctx.obuna.t.cancelDone(endDate) : ctx.obuna.t.cancelAlreadyOff(endDate);
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(text).catch(() => ctx.reply(text));
  });

  feature.callbackQuery(CALLBACK_PATTERNS.cancelNo, async (ctx) => {
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(ctx.obuna.t.cancelKept).catch(() => ctx.reply(ctx.obuna.t.cancelKept));
  });

  feature.command("resume", async (ctx) => {
    const subscription = await loadSubscription(ctx);
    if (!subscription?.is_active) {
      await ctx.reply(ctx.obuna.t.resumeNothing);
      return;
    }
    if (subscription.auto_renew) {
      await ctx.reply(ctx.obuna.t.resumeAlreadyOn);
      return;
    }
    if (!subscription.card?.is_active) {
      await ctx.reply(ctx.obuna.t.resumeNoCard);
      return;
    }
    try {
      await ctx.obuna.gateway.resumeSubscription(subscription.id);
    } catch (error) {
      // The gateway refuses when the saved card cannot be charged any more.
      if (
        error instanceof GatewayError &&
        (error.code === "CARD_NOT_FOUND" || error.code === "INVALID_STATE")
      ) {
        await ctx.reply(ctx.obuna.t.resumeNoCard);
        return;
      }
      throw error;
    }
    const after = await loadSubscription(ctx);
    const next = after?.next_charge
      ? `${formatDay(after.next_charge_at ?? after.next_charge.date)}, ${formatMoney(after.next_charge.amount, ctx.obuna.lang)}`
      : formatDay(subscription.end_date);
    ctx.obuna.logger.info(
      { telegramId: ctx.from?.id, subscriptionId: subscription.id },
      "auto-renew turned on",
    );
    await ctx.reply(ctx.obuna.t.resumeDone(next));
  });

  return feature;
}
