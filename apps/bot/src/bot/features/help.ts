import { Composer } from "grammy";
import type { BotContext } from "../context";

/** /help and /terms; /paysupport (which Telegram also asks for) is features/support.ts. */
export function helpFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  feature.command("help", (ctx) => ctx.reply(ctx.t.help));
  feature.command("terms", (ctx) => ctx.reply(ctx.t.terms));
  return feature;
}
