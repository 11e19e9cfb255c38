import { Composer } from "grammy";
import type { BotContext } from "../context";

/** Last in the chain: every callback query gets an answer, and stray private messages get a hint. */
export function unhandledFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  feature.on("callback_query", (ctx) =>
    ctx.answerCallbackQuery({ text: ctx.t.staleButton, show_alert: true }),
  );
  feature.chatType("private").on("message", (ctx) => ctx.reply(ctx.t.unknownCommand));
  return feature;
}
