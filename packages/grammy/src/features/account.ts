import { formatMoney } from "@obuna/contracts/money";
import { Composer, InlineKeyboard } from "grammy";
import type { ObunaContext } from "../context";
import { GatewayError } from "../gateway-client";
import { formatDay } from "../i18n";

/** The gateway answers USER_NOT_FOUND for someone who never opened a payment link: nothing to show. */
function orEmpty<T>(fallback: T) {
  return (error: unknown): T => {
    if (error instanceof GatewayError && error.code === "USER_NOT_FOUND") return fallback;
    throw error;
  };
}

export async function loadSubscription(ctx: ObunaContext) {
  const { subscription } = await ctx.obuna.gateway
    .getSubscription(ctx.from!.id)
    .catch(orEmpty({ subscription: null }));
  return subscription;
}

/** /status and /payments. */
export function accountFeature(): Composer<ObunaContext> {
  const feature = new Composer<ObunaContext>();

  feature.command("status", async (ctx) => {
    const subscription = await loadSubscription(ctx);
    if (!subscription) {
      await ctx.reply(ctx.obuna.t.statusNone);
      return;
    }
    const names =
      subscription.plan.names ??
      (await ctx.obuna.gateway.listPlans().catch(() => null))?.plans.find(
        (plan) => plan.slug === subscription.plan.slug,
      )?.names;
    const planName = names?.[ctx.obuna.lang] ?? subscription.plan.name;
    await ctx.reply(
      ctx.obuna.t.status({
        plan: planName,
        status: subscription.status,
        endDate: formatDay(subscription.end_date),
        autoRenew: subscription.auto_renew,
        card: subscription.card?.pan_masked ?? null,
        // When the charge will be tried (RENEWAL_LEAD_HOURS before the end date), as in the Mini App.
        nextCharge: subscription.next_charge
          ? {
              date: formatDay(subscription.next_charge_at ?? subscription.next_charge.date),
              amount: formatMoney(subscription.next_charge.amount, ctx.obuna.lang),
            }
          : null,
      }),
      // The Mini App's account page (issue 16): card, history, auto-renew in one place.
      ctx.obuna.accountUrl
        ? { reply_markup: new InlineKeyboard().webApp(ctx.obuna.t.accountButton, ctx.obuna.accountUrl) }
        : {},
    );
  });

  feature.command("payments", async (ctx) => {
    const { payments } = await ctx.obuna.gateway.listPayments(ctx.from!.id).catch(orEmpty({ payments: [] }));
    if (payments.length === 0) {
      await ctx.reply(ctx.obuna.t.paymentsNone);
      return;
    }
    const lines = payments
      .slice(0, 10)
      .map(
        (payment) =>
          ctx.obuna.t.paymentLine(
            formatDay(payment.created_at),
            formatMoney(payment.amount, ctx.obuna.lang),
            ctx.obuna.t.paymentStatus[payment.status],
            payment.card_masked,
          ) + (payment.receipt_url ? `\n${ctx.obuna.t.receiptLink(payment.receipt_url)}` : ""),
      );
    await ctx.reply([ctx.obuna.t.paymentsTitle, ...lines].join("\n"));
  });

  return feature;
}
