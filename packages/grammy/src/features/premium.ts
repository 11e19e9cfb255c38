import type { CreateLinkResponse, PlanSlug } from "@obuna/contracts/http";
import { formatMoney } from "@obuna/contracts/money";
import { Composer, InlineKeyboard } from "grammy";
import { CALLBACK_PATTERNS, callbackData, parsePlanSlug } from "../callback-data";
import type { ObunaContext } from "../context";
import { GatewayError } from "../gateway-client";
import { formatDay, formatDayTime } from "../i18n";
import { starsFeature } from "./stars";

/**
 * Asks the gateway for a payment session and answers with the Mini App (`web_app`) button; when
 * the user asked for too many links (429 RATE_LIMITED) it says how long to wait instead.
 */
export async function sendPaymentLink(
  ctx: ObunaContext,
  slug: PlanSlug,
): Promise<"sent" | "stale" | "rate_limited"> {
  const from = ctx.from!;
  let link: CreateLinkResponse;
  try {
    link = await ctx.obuna.gateway.createLink({
      telegram_id: from.id,
      plan_slug: slug,
      username: from.username ?? null,
      first_name: from.first_name,
      language_code: ctx.obuna.lang,
      // The choice made in /start, so the gateway stores it (choices made before it did live in Redis only).
      ...(ctx.obuna.chosenLang ? { language: ctx.obuna.chosenLang } : {}),
    });
  } catch (error) {
    if (error instanceof GatewayError && error.code === "PLAN_NOT_FOUND") return "stale";
    if (error instanceof GatewayError && error.code === "RATE_LIMITED") {
      await ctx.reply(ctx.obuna.t.tooManyLinks(error.retryAfterS));
      return "rate_limited";
    }
    throw error;
  }
  ctx.obuna.logger.info(
    { telegramId: from.id, plan: slug, sessionId: link.session_id },
    "payment link created",
  );
  // Until the link expires, "not premium" is re-checked: the user may pay any moment now.
  ctx.obuna.noteCheckout(from.id, new Date(link.expires_at));
  const keyboard = new InlineKeyboard().webApp(ctx.obuna.t.payButton, link.payment_url);
  // The second rail: a Stars invoice for the same session (payload = its id), when the plan is sold for Stars.
  const stars = await starsInvoiceFor(ctx, link.session_id);
  if (stars)
    keyboard
      .row()
      .url(ctx.obuna.t.payStarsButton(stars.stars_amount, stars.subscription), stars.invoice_link);
  await ctx.reply(
    ctx.obuna.t.paymentLink(
      link.plan.names?.[ctx.obuna.lang] ?? link.plan.name,
      formatMoney(link.plan.price_raw, ctx.obuna.lang),
      formatDayTime(link.expires_at),
    ),
    { reply_markup: keyboard },
  );
  return "sent";
}

/** The session's Stars invoice link, or null (Stars off at the gateway, plan not sold for Stars, old gateway). */
async function starsInvoiceFor(ctx: ObunaContext, sessionId: string) {
  if (!ctx.obuna.gateway.createStarsInvoiceLink) return null;
  try {
    return await ctx.obuna.gateway.createStarsInvoiceLink(sessionId);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    ctx.obuna.logger.warn({ sessionId, code: error.code }, "no Stars invoice for the session: card only");
    return null;
  }
}

/**
 * The /premium offer: the active plans as buttons (and "you have premium until …" for a subscriber).
 * `title` replaces the heading for a non-subscriber (requirePremium's "this is a Premium feature").
 */
export async function showPlans(ctx: ObunaContext, title?: string): Promise<void> {
  const telegramId = ctx.from!.id;
  const [{ plans }, current] = await Promise.all([
    ctx.obuna.gateway.listPlans(),
    ctx.obuna.gateway.getSubscription(telegramId).catch((error: unknown) => {
      // A user the gateway has never seen simply has no subscription.
      if (error instanceof GatewayError && error.code === "USER_NOT_FOUND") return { subscription: null };
      throw error;
    }),
  ]);
  if (plans.length === 0) {
    await ctx.reply(ctx.obuna.t.noPlans);
    return;
  }
  const keyboard = new InlineKeyboard();
  for (const plan of plans) {
    keyboard
      .text(
        ctx.obuna.t.planButton(
          plan.names[ctx.obuna.lang],
          formatMoney(plan.price_raw, ctx.obuna.lang),
          plan.duration_days,
        ),
        callbackData.plan(plan.slug),
      )
      .row();
  }
  const subscription = current.subscription;
  const heading =
    subscription?.is_active === true
      ? ctx.obuna.t.alreadyPremium(formatDay(subscription.end_date))
      : (title ?? ctx.obuna.t.plansTitle);
  await ctx.reply(heading, { reply_markup: keyboard });
}

/** /premium: the active plans as buttons; a plan button opens a fresh payment link. */
export function premiumFeature(): Composer<ObunaContext> {
  const feature = new Composer<ObunaContext>();

  feature.command("premium", (ctx) => showPlans(ctx));

  feature.callbackQuery(CALLBACK_PATTERNS.premium, async (ctx) => {
    await ctx.answerCallbackQuery();
    await showPlans(ctx);
  });

  feature.callbackQuery(CALLBACK_PATTERNS.plan, async (ctx) => {
    const slug = parsePlanSlug(ctx.match[1]);
    if (!slug) {
      await ctx.answerCallbackQuery({ text: ctx.obuna.t.staleButton, show_alert: true });
      return;
    }
    // Answer first: Telegram shows a spinner until the query is answered, and create-link may take a moment.
    await ctx.answerCallbackQuery();
    if ((await sendPaymentLink(ctx, slug)) === "stale") await ctx.reply(ctx.obuna.t.staleButton);
  });

  feature.use(starsFeature());

  return feature;
}
