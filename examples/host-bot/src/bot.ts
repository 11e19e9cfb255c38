import { type ObunaFlavor, type ObunaPlugin, obuna, requirePremium } from "@obuna/grammy";
import { Bot, type Context } from "grammy";

/** The assistant's own context: grammY's plus the plugin's `ctx.obuna` and `ctx.premium`. */
export type AssistantContext = Context & ObunaFlavor;

export interface AssistantOptions {
  gatewayUrl: string;
  obunaToken: string;
  premiumTtlMs?: number;
  apiRoot?: string;
}

/** The assistant's one skill: a (very) small answer engine. Premium-only. */
export function answer(question: string): string {
  const words = question.trim().split(/\s+/).filter(Boolean).length;
  return words === 0
    ? "Ask me something after /ask."
    : `🤖 Your question has ${words} word(s). A premium answer!`;
}

/**
 * A minimal "assistant" bot that sells premium through Obuna: /start and /help are free, /ask is
 * premium-only. /premium, /status, /payments, /cancel, /resume and /paysupport come from the plugin.
 */
export function createAssistantBot(
  token: string,
  options: AssistantOptions,
): { bot: Bot<AssistantContext>; plugin: ObunaPlugin<AssistantContext> } {
  const bot = new Bot<AssistantContext>(
    token,
    options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {},
  );
  const plugin = obuna<AssistantContext>({
    gatewayUrl: options.gatewayUrl,
    token: options.obunaToken,
    ...(options.premiumTtlMs !== undefined ? { premiumTtlMs: options.premiumTtlMs } : {}),
  });
  bot.use(plugin);

  bot.command("start", (ctx) =>
    ctx.reply("Hi! I am an assistant. /ask <question> is for Premium users (see /premium)."),
  );
  bot.command("ask", requirePremium(), (ctx) => ctx.reply(answer(ctx.match)));
  bot.command("whoami", async (ctx) => {
    const premium = await ctx.premium;
    await ctx.reply(premium.active ? `Premium until ${premium.until}` : "No premium yet: /premium");
  });
  bot.catch((error) => console.error("assistant: update failed", error.error));
  return { bot, plugin };
}
