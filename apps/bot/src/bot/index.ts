import { obuna } from "@obuna/grammy";
import { GatewayError, newRequestId, withRequestId } from "@obuna/grammy/gateway-client";
import { LANGUAGES, pickLanguage, t } from "@obuna/grammy/i18n";
import { Bot, type BotError, type BotConfig as GrammyBotConfig } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { BotContext, BotDeps } from "./context";
import { helpFeature } from "./features/help";
import { privateOnlyFeature } from "./features/private-only";
import { recoveryFeature } from "./features/recovery";
import { startFeature } from "./features/start";
import { unhandledFeature } from "./features/unhandled";
import { retryRepliesOn429 } from "./telegram-api";

export interface CreateBotOptions {
  /** Bot API root, e.g. a local emulator. Default: Telegram's. */
  apiRoot?: string;
  /** Skips getMe at start (tests). */
  botInfo?: UserFromGetMe;
}

export const COMMANDS = [
  "start",
  "premium",
  "status",
  "payments",
  "cancel",
  "resume",
  "help",
  "terms",
  "paysupport",
] as const;

const COMMAND_DESCRIPTIONS = {
  uz: [
    "Boshlash",
    "Premium olish",
    "Obuna holati",
    "To'lovlar",
    "Avto-yangilashni o'chirish",
    "Avto-yangilashni yoqish",
    "Yordam",
    "Shartlar",
    "To'lov bo'yicha yordam",
  ],
  ru: [
    "Начать",
    "Оформить Premium",
    "Статус подписки",
    "Платежи",
    "Выключить автопродление",
    "Включить автопродление",
    "Помощь",
    "Условия",
    "Помощь с оплатой",
  ],
  en: [
    "Start",
    "Get Premium",
    "Subscription status",
    "Payments",
    "Turn auto-renew off",
    "Turn auto-renew on",
    "Help",
    "Terms",
    "Payment support",
  ],
} as const;

/**
 * Builds the bot: context, error boundary, features. No network at construction time
 * (grammY calls getMe on start unless `botInfo` is given).
 */
export function createBot(token: string, deps: BotDeps, options: CreateBotOptions = {}): Bot<BotContext> {
  const config: GrammyBotConfig<BotContext> = {};
  if (options.apiRoot) config.client = { apiRoot: options.apiRoot };
  if (options.botInfo) config.botInfo = options.botInfo;
  const bot = new Bot<BotContext>(token, config);
  // Replies wait out a 429 instead of failing (issue 16).
  bot.use(retryRepliesOn429());

  bot.use(async (ctx, next) => {
    ctx.deps = deps;
    deps.observeUpdate?.(ctx.update, "received");
    ctx.requestId = newRequestId(ctx.update.update_id);
    ctx.logger = deps.logger.child({ updateId: ctx.update.update_id, requestId: ctx.requestId });
    const chosen = ctx.from ? await deps.languages.get(ctx.from.id).catch(() => null) : null;
    ctx.chosenLang = chosen;
    ctx.lang = chosen ?? pickLanguage(ctx.from?.language_code);
    ctx.t = t(ctx.lang);
    if (ctx.from && deps.onUserSeen) {
      await deps
        .onUserSeen(ctx.from.id)
        .catch((error: Error) => ctx.logger.warn({ err: { message: error.message } }, "onUserSeen failed"));
    }
    // Every gateway call made while handling this update carries its request id.
    await withRequestId(ctx.requestId, next);
  });

  // An error in one update is logged and answered; it never reaches the runner, so the bot keeps going.
  const guarded = bot.errorBoundary(async (error) => {
    const ctx = error.ctx;
    const cause = error.error;
    const unavailable = cause instanceof GatewayError && (cause.code === null || (cause.status ?? 0) >= 500);
    deps.errorReporter?.capture(cause, { updateId: ctx.update.update_id });
    deps.observeUpdate?.(ctx.update, "failed");
    ctx.logger.error(
      {
        err: { name: (cause as Error)?.name, message: (cause as Error)?.message },
        gatewayCode: cause instanceof GatewayError ? cause.code : undefined,
      },
      "update failed",
    );
    const text = unavailable ? ctx.t.gatewayUnavailable : ctx.t.somethingWrong;
    // The handler may already have answered the callback query (Telegram allows one answer), so the
    // explanation goes to the chat; answering again is only to stop the button's spinner.
    if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {});
    if (ctx.chat) {
      await ctx.reply(text).catch(() => {
        // The user could not be told (blocked bot, network): logged above, nothing more to do.
      });
    }
  });

  // Account commands and buttons only in the private chat (a group would see the answer).
  guarded.use(privateOnlyFeature());
  guarded.use(startFeature());
  // /premium, /status, /payments, /cancel, /resume, /paysupport: the same plugin any grammY bot mounts
  // (@obuna/grammy), speaking the language chosen in /start, logging with the update's logger, and
  // leaving its errors to the boundary above.
  guarded.use(
    obuna<BotContext>({
      gateway: deps.gateway,
      locale: (ctx) => ({ lang: ctx.lang, chosen: ctx.chosenLang }),
      logger: (ctx) => ctx.logger,
      support: deps.support ?? null,
      accountUrl: deps.accountUrl ?? null,
      handleErrors: false,
    }),
  );
  guarded.use(recoveryFeature());
  guarded.use(helpFeature());
  guarded.use(unhandledFeature());

  // Last resort (errors outside the boundary, e.g. in the context middleware).
  bot.catch((error: BotError<BotContext>) => {
    deps.errorReporter?.capture(error.error, { updateId: error.ctx.update.update_id });
    deps.logger.error(
      { err: { message: (error.error as Error)?.message }, updateId: error.ctx.update.update_id },
      "unhandled bot error",
    );
  });

  return bot;
}

/** Registers the command menu in every language. Tolerant: emulators (telegram-test-api) lack setMyCommands. */
export async function registerCommands(bot: Bot<BotContext>, logger: BotDeps["logger"]): Promise<void> {
  for (const lang of LANGUAGES) {
    const commands = COMMANDS.map((command, i) => ({ command, description: COMMAND_DESCRIPTIONS[lang][i]! }));
    try {
      await bot.api.setMyCommands(commands, lang === "uz" ? {} : { language_code: lang });
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, "setMyCommands failed; continuing");
      return;
    }
  }
}
