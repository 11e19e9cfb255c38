import { autoRetry } from "@grammyjs/auto-retry";
import type { Api, MiddlewareFn } from "grammy";
import type { Logger } from "pino";
import type { BotContext } from "./context";

/**
 * Command replies survive Telegram's 429 "Too Many Requests" (issue 16): the reply waits `retry_after`
 * and is sent again, at most `maxRetryAttempts` times and only when Telegram asks for at most
 * `maxDelaySeconds`, so a handler never hangs for long. Only 429s are retried: a network error or a
 * 5xx may mean Telegram did get the message, and sending it again would show it twice.
 *
 * Installed per update on `ctx.api`, not on `bot.api`: the notification worker shares `bot.api` and has
 * its own 429 handling (the job is delayed by `retry_after`, freeing the worker slot).
 */
export const REPLY_RETRY = { maxRetryAttempts: 3, maxDelaySeconds: 10 } as const;

export function retryRepliesOn429(options: Partial<typeof REPLY_RETRY> = {}): MiddlewareFn<BotContext> {
  const transformer = autoRetry({
    ...REPLY_RETRY,
    ...options,
    rethrowHttpErrors: true,
    rethrowInternalServerErrors: true,
  });
  return (ctx, next) => {
    ctx.api.config.use(transformer);
    return next();
  };
}

/**
 * The chat menu button (next to the message field in every private chat) opens the Mini App's account
 * page. Tolerant: an emulator without setChatMenuButton, or Telegram refusing it, is logged, not fatal.
 */
export async function setAccountMenuButton(
  api: Api,
  accountUrl: string | null,
  text: string,
  logger: Logger,
): Promise<boolean> {
  if (!accountUrl) {
    logger.warn("MINIAPP_URL is unset or not https: no menu button to the account page");
    return false;
  }
  try {
    await api.setChatMenuButton({ menu_button: { type: "web_app", text, web_app: { url: accountUrl } } });
    return true;
  } catch (error) {
    logger.warn({ err: { message: (error as Error).message } }, "setChatMenuButton failed; continuing");
    return false;
  }
}
