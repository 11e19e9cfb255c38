import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../context";

/**
 * Commands that show or change one person's account (plan, masked card, next charge, payments,
 * auto-renew). In a group every member would see the answer, so outside the private chat they
 * only get "open me in private".
 */
export const ACCOUNT_COMMANDS = ["start", "premium", "status", "payments", "cancel", "resume"] as const;

/**
 * First in the chain: outside a private chat, account commands answer "open me in private" (with a
 * link to the private chat) and every button press is refused the same way; nothing reaches the
 * account features. /help, /terms and /paysupport stay available everywhere.
 */
export function privateOnlyFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  const outside = feature.drop((ctx) => ctx.chat?.type === "private");

  outside.command([...ACCOUNT_COMMANDS], async (ctx) => {
    const username = ctx.me.username;
    await ctx.reply(ctx.t.openInPrivate, {
      reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true },
      ...(username
        ? { reply_markup: new InlineKeyboard().url(ctx.t.openInPrivateButton, `https://t.me/${username}`) }
        : {}),
    });
  });
  outside.on("callback_query", (ctx) =>
    ctx.answerCallbackQuery({ text: ctx.t.openInPrivate, show_alert: true }),
  );
  return feature;
}
