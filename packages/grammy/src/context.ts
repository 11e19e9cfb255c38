import type { Entitlement } from "@obuna/contracts/http";
import type { Context } from "grammy";
import type { GatewayClient } from "./gateway-client";
import type { Language, Messages } from "./i18n";
import type { SupportStore } from "./support-store";

/** What the plugin logs with: a pino logger fits; the default logs nothing. */
export interface ObunaLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** /paysupport: where support conversations go. Without `chatId` it only shows `contact`. */
export interface SupportOptions {
  /** A chat (group) where operators answer; null = /paysupport only shows `contact`. */
  chatId: number | null;
  /** "@obuna_support" or a phone/e-mail, shown when there is no support chat or it is unreachable. */
  contact: string | null;
  /** How long an open conversation waits for the user's next message (seconds). */
  sessionTtlS: number;
  store: SupportStore;
}

/** Per update, under `ctx.obuna`: namespaced so it never clashes with a host bot's own `ctx.t` or `ctx.lang`. */
export interface ObunaState {
  /** The language the plugin answers in. */
  lang: Language;
  /** The language the user chose in the host bot, when it knows one (sent with payment links). */
  chosenLang: Language | null;
  t: Messages;
  gateway: GatewayClient;
  logger: ObunaLogger;
  support: SupportOptions | null;
  /** The Mini App's account page: /status links to it when set. */
  accountUrl: string | null;
  /** Answers a user without premium: the /premium offer (or the host's own upsell). */
  upsell(): Promise<void>;
  /** Forget the cached entitlement of this update's user (e.g. after the host learns of a payment). */
  invalidatePremium(): void;
  /** Internal: tells the cache a payment link was sent (so "not premium" is re-checked until it expires). */
  noteCheckout(telegramId: number, expiresAt: Date): void;
}

/**
 * The plugin's context flavor: `bot = new Bot<Context & ObunaFlavor>(token)`.
 * `await ctx.premium` is the sender's entitlement, fetched on first use in the update and cached per
 * user for a short TTL (see `obuna({ premiumTtlMs })`).
 */
export interface ObunaFlavor {
  obuna: ObunaState;
  readonly premium: Promise<Entitlement>;
}

export type ObunaContext = Context & ObunaFlavor;
