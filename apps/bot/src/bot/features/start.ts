import { CALLBACK_PATTERNS, callbackData } from "@obuna/grammy/callback-data";
import { LANGUAGES, t } from "@obuna/grammy/i18n";
import { Composer, InlineKeyboard } from "grammy";
import type { BotContext } from "../context";

export function languageKeyboard(): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  for (const lang of LANGUAGES) keyboard.text(t(lang).languageName, callbackData.language(lang));
  return keyboard;
}

/** /start: welcome, what premium gives, and the language choice. */
export function startFeature(): Composer<BotContext> {
  const feature = new Composer<BotContext>();
  const privateChat = feature.chatType("private");

  privateChat.command("start", async (ctx) => {
    await ctx.reply(ctx.t.welcome(ctx.from.first_name), {
      reply_markup: new InlineKeyboard().text(ctx.t.buyPremiumButton, callbackData.premium()),
    });
    await ctx.reply(ctx.t.chooseLanguage, { reply_markup: languageKeyboard() });
  });

  feature.callbackQuery(CALLBACK_PATTERNS.language, async (ctx) => {
    const lang = ctx.match[1] as (typeof LANGUAGES)[number];
    await ctx.deps.languages.set(ctx.from.id, lang);
    ctx.lang = lang;
    ctx.chosenLang = lang;
    ctx.t = t(lang);
    await ctx.answerCallbackQuery({ text: ctx.t.languageSet });
    await ctx.reply(ctx.t.languageSet);
  });

  return feature;
}
