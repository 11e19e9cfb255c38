import { formatMoney } from "@obuna/contracts/money";
import { Composer, InlineKeyboard } from "grammy";
import { GatewayError } from "../../gateway-client";
import { formatDay } from "../../i18n";
import type { BotContext } from "../context";

/** The gateway answers USER_NOT_FOUND for someone who never opened a payment link: nothing to show. */
function orEmpty<T>(fallback: T) {
  return (error: unknown): T => {
    if (error instanceof GatewayError && error.code === "USER_NOT_FOUND") return fallback;
    throw error;
  };
}

export async function loadSubscription(ctx: BotContext) {
  const { subscription } = await ctx.deps.gateway
    .getSubscription(ctx.from!.id)
    .catch(orEmpty({ subscription: null }));
  return subscription;
}

/** /status and /payments. */
export function accountFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  feature.command("status", async (ctx) => {
    const subscription = await loadSubscription(ctx);
    if (!subscription) {
      await ctx.reply(ctx.t.statusNone);
      return;
    }
    const names =
      subscription.plan.names ??
      (await ctx.deps.gateway.listPlans().catch(() => null))?.plans.find(
        (plan) => plan.slug === subscription.plan.slug,
      )?.names;
    const planName = names?.[ctx.lang] ?? subscription.plan.name;
    await ctx.reply(
      ctx.t.status({
        plan: planName,
        status: subscription.status,
        endDate: formatDay(subscription.end_date),
        autoRenew: subscription.auto_renew,
        card: subscription.card?.pan_masked ?? null,
        // When the charge will be tried (RENEWAL_LEAD_HOURS before the end date), as in the Mini App.
        nextCharge: subscription.next_charge
          ? {
              date: formatDay(subscription.next_charge_at ?? subscription.next_charge.date),
              amount: formatMoney(subscription.next_charge.amount, ctx.lang),
            }
          : null,
      }),
      // The Mini App's account page (issue 16): card, history, auto-renew in one place.
      ctx.deps.accountUrl
        ? { reply_markup: new InlineKeyboard().webApp(ctx.t.accountButton, ctx.deps.accountUrl) }
        : {},
    );
  });

  feature.command("payments", async (ctx) => {
    const { payments } = await ctx.deps.gateway.listPayments(ctx.from!.id).catch(orEmpty({ payments: [] }));
    if (payments.length === 0) {
      await ctx.reply(ctx.t.paymentsNone);
      return;
    }
    const lines = payments
      .slice(0, 10)
      .map(
        (payment) =>
          ctx.t.paymentLine(
            formatDay(payment.created_at),
            formatMoney(payment.amount, ctx.lang),
            ctx.t.paymentStatus[payment.status],
            payment.card_masked,
          ) + (payment.receipt_url ? `\n${ctx.t.receiptLink(payment.receipt_url)}` : ""),
      );
    await ctx.reply([ctx.t.paymentsTitle, ...lines].join("\n"));
  });

  return feature;
}
