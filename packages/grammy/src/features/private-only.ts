import { Composer, InlineKeyboard } from "grammy";
import { CALLBACK_PATTERNS } from "../callback-data";
import type { ObunaContext } from "../context";

/** The plugin's commands that show or change one person's account (plan, card, payments, auto-renew). */
export const ACCOUNT_COMMANDS = ["premium", "status", "payments", "cancel", "resume"] as const;

const ACCOUNT_BUTTONS = [
  CALLBACK_PATTERNS.premium,
  CALLBACK_PATTERNS.plan,
  CALLBACK_PATTERNS.cancelYes,
  CALLBACK_PATTERNS.cancelNo,
];

/**
 * First in the plugin: outside a private chat, its account commands answer "open me in private"
 * (with a link to the private chat) and its buttons are refused the same way, because a group would
 * see the answer. Only the plugin's own commands and buttons: a host bot's group features pass by.
 */
export function privateOnlyFeature(): Composer<ObunaContext> {
  const feature = new Composer<ObunaContext>();
  const outside = feature.drop((ctx) => ctx.chat?.type === "private");

  outside.command([...ACCOUNT_COMMANDS], async (ctx) => {
    const username = ctx.me.username;
    await ctx.reply(ctx.obuna.t.openInPrivate, {
      reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true },
      ...(username
        ? {
            reply_markup: new InlineKeyboard().url(
              ctx.obuna.t.openInPrivateButton,
              `https://t.me/${username}`,
            ),
          }
        : {}),
    });
  });
  outside.callbackQuery(ACCOUNT_BUTTONS, (ctx) =>
    ctx.answerCallbackQuery({ text: ctx.obuna.t.openInPrivate, show_alert: true }),
  );
  return feature;
}
