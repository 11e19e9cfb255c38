import type { ErrorReporter } from "@obuna/contracts/error-reporting";
import type { RenewalRetryNowJob } from "@obuna/contracts/jobs";
import type { ObunaFlavor, SupportOptions } from "@obuna/grammy";
import type { GatewayClient } from "@obuna/grammy/gateway-client";
import type { Language, Messages } from "@obuna/grammy/i18n";
import type { Context } from "grammy";
import type { Update } from "grammy/types";
import type { Logger } from "pino";
import type { LanguageStore } from "../language-store";

/** What the bot's handlers may use. Injected by `createBot`, so tests pass real or in-memory pieces. */
export interface BotDeps {
  gateway: GatewayClient;
  languages: LanguageStore;
  logger: Logger;
  /**
   * Puts a "retry the renewal now" job on the renewals queue (consumed by apps/renewals).
   * `jobId` makes a double tap on the same button enqueue once.
   */
  enqueueRetryNow(job: RenewalRetryNowJob, jobId: string): Promise<void>;
  /** Called for every update with a sender (e.g. to clear a "blocked the bot" mark). Errors are ignored. */
  onUserSeen?(telegramId: number): Promise<void>;
  /** Optional Sentry (SENTRY_DSN): errors in updates are reported there too. */
  errorReporter?: ErrorReporter;
  /** Optional metrics: every update as it arrives (`received`) and those whose handler failed. */
  observeUpdate?(update: Update, outcome: "received" | "failed"): void;
  /** /paysupport (issue 16): where support conversations go; unset = /paysupport shows no contact. */
  support?: SupportDeps;
  /** The Mini App's /account page (MINIAPP_URL + "/account"): /status links to it when set. */
  accountUrl?: string | null;
}

/** SUPPORT_CHAT_ID (null = /paysupport only shows `contact`), SUPPORT_CONTACT, the Redis store. */
export type SupportDeps = SupportOptions;

export interface BotContextFlavor {
  lang: Language;
  /** The language the user chose in /start (null = never chose; `lang` then follows Telegram). */
  chosenLang: Language | null;
  t: Messages;
  logger: Logger;
  deps: BotDeps;
  /** Sent to the gateway as `x-request-id` on every call this update makes, and logged with the update. */
  requestId: string;
}

/** Our own bot's context: its own fields, and the @obuna/grammy plugin's (`ctx.obuna`, `ctx.premium`). */
export type BotContext = Context & BotContextFlavor & ObunaFlavor;
