import { Composer } from "grammy";
import type { BotContext } from "../context";

/** /help, and /terms + /paysupport, which Telegram asks every bot that takes payments to answer. */
export function helpFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  feature.command("help", (ctx) => ctx.reply(ctx.t.help));
  feature.command("terms", (ctx) => ctx.reply(ctx.t.terms));
  feature.command("paysupport", (ctx) => ctx.reply(ctx.t.paySupport));
  return feature;
}
