import type { PlanSlug } from "@obuna/contracts/http";
import { formatMoney } from "@obuna/contracts/money";
import { Composer, InlineKeyboard } from "grammy";
import { GatewayError } from "../../gateway-client";
import { formatDay, formatDayTime } from "../../i18n";
import { CALLBACK_PATTERNS, callbackData, parsePlanSlug } from "../callback-data";
import type { BotContext } from "../context";

/**
 * Asks the gateway for a payment session and answers with the Mini App (`web_app`) button; when
 * the user asked for too many links (429 RATE_LIMITED) it says how long to wait instead.
 */
export async function sendPaymentLink(
  ctx: BotContext,
  slug: PlanSlug,
): Promise<"sent" | "stale" | "rate_limited"> {
  const from = ctx.from!;
  let link: Awaited<ReturnType<BotContext["deps"]["gateway"]["createLink"]>>;
  try {
    link = await ctx.deps.gateway.createLink({
      telegram_id: from.id,
      plan_slug: slug,
      username: from.username ?? null,
      first_name: from.first_name,
      language_code: ctx.lang,
      // The choice made in /start, so the gateway stores it (choices made before it did live in Redis only).
      ...(ctx.chosenLang ? { language: ctx.chosenLang } : {}),
    });
  } catch (error) {
    if (error instanceof GatewayError && error.code === "PLAN_NOT_FOUND") return "stale";
    if (error instanceof GatewayError && error.code === "RATE_LIMITED") {
      await ctx.reply(ctx.t.tooManyLinks(error.retryAfterS));
      return "rate_limited";
    }
    throw error;
  }
  ctx.logger.info({ telegramId: from.id, plan: slug, sessionId: link.session_id }, "payment link created");
  await ctx.reply(
    ctx.t.paymentLink(
      link.plan.names?.[ctx.lang] ?? link.plan.name,
      formatMoney(link.plan.price_raw, ctx.lang),
      formatDayTime(link.expires_at),
    ),
    {
      reply_markup: new InlineKeyboard().webApp(ctx.t.payButton, link.payment_url),
    },
  );
  return "sent";
}

async function showPlans(ctx: BotContext): Promise<void> {
  const telegramId = ctx.from!.id;
  const [{ plans }, current] = await Promise.all([
    ctx.deps.gateway.listPlans(),
    ctx.deps.gateway.getSubscription(telegramId).catch((error: unknown) => {
      // A user the gateway has never seen simply has no subscription.
      if (error instanceof GatewayError && error.code === "USER_NOT_FOUND") return { subscription: null };
      throw error;
    }),
  ]);
  if (plans.length === 0) {
    await ctx.reply(ctx.t.noPlans);
    return;
  }
  const keyboard = new InlineKeyboard();
  for (const plan of plans) {
    keyboard
      .text(
        ctx.t.planButton(plan.names[ctx.lang], formatMoney(plan.price_raw, ctx.lang), plan.duration_days),
        callbackData.plan(plan.slug),
      )
      .row();
  }
  const subscription = current.subscription;
  const title =
    subscription?.is_active === true
      ? ctx.t.alreadyPremium(formatDay(subscription.end_date))
      : ctx.t.plansTitle;
  await ctx.reply(title, { reply_markup: keyboard });
}

/** /premium: the active plans as buttons; a plan button opens a fresh payment link. */
export function premiumFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();

  feature.command("premium", (ctx) => showPlans(ctx));

  feature.callbackQuery(CALLBACK_PATTERNS.premium, async (ctx) => {
    await ctx.answerCallbackQuery();
    await showPlans(ctx);
  });

  feature.callbackQuery(CALLBACK_PATTERNS.plan, async (ctx) => {
    const slug = parsePlanSlug(ctx.match[1]);
    if (!slug) {
      await ctx.answerCallbackQuery({ text: ctx.t.staleButton, show_alert: true });
      return;
    }
    // Answer first: Telegram shows a spinner until the query is answered, and create-link may take a moment.
    await ctx.answerCallbackQuery();
    if ((await sendPaymentLink(ctx, slug)) === "stale") await ctx.reply(ctx.t.staleButton);
  });

  return feature;
}
