import type { Entitlement } from "@obuna/contracts/http";
import { Composer, type Context, InlineKeyboard, type MiddlewareFn } from "grammy";
import type { ObunaContext, ObunaFlavor, ObunaLogger, ObunaState, SupportOptions } from "./context";
import { type ObunaEventsHandlerOptions, obunaEventsHandler } from "./events";
import { accountFeature } from "./features/account";
import { autoRenewFeature } from "./features/auto-renew";
import { premiumFeature, showPlans } from "./features/premium";
import { privateOnlyFeature } from "./features/private-only";
import { supportFeature } from "./features/support";
import {
  createGatewayClient,
  currentRequestId,
  type GatewayClient,
  GatewayError,
  newRequestId,
  withRequestId,
} from "./gateway-client";
import { type Language, pickLanguage, t } from "./i18n";
import { PremiumCache, type PremiumCacheOptions } from "./premium-cache";

/** A language, or the one to answer in plus the one the user chose in the host bot (if any). */
export type ObunaLocale = Language | { lang: Language; chosen: Language | null };

export interface ObunaOptions<C extends Context = Context> {
  /** The Obuna gateway, e.g. `https://pay.example.uz` (with `token`), or a ready `gateway` client. */
  gatewayUrl?: string;
  /**
   * A bearer token the operator issued for this bot (SERVICE_TOKENS in the gateway). The features
   * need `entitlements:read`, `links:create`, `subscription:read`, `subscription:manage`,
   * `payments:read` (HOST_BOT_SCOPES); ctx.premium alone needs only `entitlements:read`.
   */
  token?: string;
  /** Instead of `gatewayUrl` + `token` (our own bot, tests). */
  gateway?: GatewayClient;
  /** Per gateway call (ms), default 10 s. */
  timeoutMs?: number;
  /** How long `ctx.premium` answers from memory (ms), default 60 s; then it re-asks with the ETag. */
  premiumTtlMs?: number;
  /** A cached entitlement still used this long (ms) while the gateway is unreachable, default 10 min. */
  staleIfErrorMs?: number;
  /**
   * The user's language. Default: Telegram's `language_code` (uz, ru, en; anything else → uz).
   * Return `{ lang, chosen }` when the host bot knows a language the user picked (sent with links).
   */
  locale?: (ctx: C) => ObunaLocale | Promise<ObunaLocale>;
  /** A logger (pino fits), or one per update. Default: silent. */
  logger?: ObunaLogger | ((ctx: C) => ObunaLogger);
  /** /paysupport. Default: no support chat and no contact (it says to write to the bot's owner). */
  support?: SupportOptions | null;
  /** The Mini App's account page (https://…/account): /status shows a button to it. */
  accountUrl?: string | null;
  /**
   * The plugin answers its own failures ("service unavailable, try later") and logs them (default).
   * `false`: errors go on to the host bot's own error handling (our bot has a boundary around all).
   */
  handleErrors?: boolean;
  /** Called with every error the plugin answered (handleErrors): report it to Sentry, count it. */
  onError?: (error: unknown, ctx: C & ObunaFlavor) => void;
  /** Replaces the upsell requirePremium() sends (default: "a Premium feature" + the plans). */
  upsell?: (ctx: C & ObunaFlavor) => Promise<unknown>;
}

const silentLogger: ObunaLogger = { info() {}, warn() {}, error() {} };

/** The default upsell: the /premium offer in the private chat; elsewhere, a link to the private chat. */
async function defaultUpsell(ctx: ObunaContext): Promise<void> {
  if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {});
  if (!ctx.chat) return;
  if (ctx.chat.type === "private") {
    await showPlans(ctx, ctx.obuna.t.premiumRequired);
    return;
  }
  const username = ctx.me.username;
  await ctx.reply(
    ctx.obuna.t.premiumRequiredInPrivate,
    username
      ? {
          reply_markup: new InlineKeyboard().url(ctx.obuna.t.openInPrivateButton, `https://t.me/${username}`),
        }
      : {},
  );
}

/**
 * The plugin: `bot.use(obuna({ gatewayUrl, token }))`. Mount it before the host's own handlers that
 * read `ctx.premium` or use {@link requirePremium}. It is a grammY Composer with two more methods:
 * `invalidate(telegramId)` drops a cached entitlement (the signed events will call it) and
 * `premiumOf(telegramId)` reads one outside an update.
 */
export class ObunaPlugin<C extends Context = Context> extends Composer<C & ObunaFlavor> {
  readonly gateway: GatewayClient;
  private readonly cache: PremiumCache;

  constructor(options: ObunaOptions<C>) {
    super();
    const gateway =
      options.gateway ??
      (options.gatewayUrl && options.token
        ? createGatewayClient({
            baseUrl: options.gatewayUrl,
            internalToken: options.token,
            ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          })
        : null);
    if (!gateway) throw new Error("obuna(): pass gatewayUrl and token (or a gateway client)");
    this.gateway = gateway;
    const cacheOptions: PremiumCacheOptions = {};
    if (options.premiumTtlMs !== undefined) cacheOptions.ttlMs = options.premiumTtlMs;
    if (options.staleIfErrorMs !== undefined) cacheOptions.staleIfErrorMs = options.staleIfErrorMs;
    const cache = new PremiumCache((id, etag) => gateway.getEntitlement(id, etag), cacheOptions);
    this.cache = cache;

    this.use(async (ctx, next) => {
      const locale = options.locale ? await options.locale(ctx) : pickLanguage(ctx.from?.language_code);
      const { lang, chosen } = typeof locale === "string" ? { lang: locale, chosen: null } : locale;
      const logger =
        typeof options.logger === "function" ? options.logger(ctx) : (options.logger ?? silentLogger);
      const state: ObunaState = {
        lang,
        chosenLang: chosen,
        t: t(lang),
        gateway,
        logger,
        support: options.support ?? null,
        accountUrl: options.accountUrl ?? null,
        upsell: async () => {
          await (options.upsell ? options.upsell(ctx) : defaultUpsell(ctx));
        },
        invalidatePremium: () => {
          if (ctx.from) cache.invalidate(ctx.from.id);
          premium = undefined;
        },
        noteCheckout: (telegramId, expiresAt) => cache.noteCheckout(telegramId, expiresAt),
      };
      ctx.obuna = state;
      // Lazy: the gateway is asked only when a handler reads ctx.premium, once per update.
      let premium: Promise<Entitlement> | undefined;
      Object.defineProperty(ctx, "premium", {
        configurable: true,
        enumerable: false,
        get: () => {
          premium ??= ctx.from
            ? cache.get(ctx.from.id)
            : Promise.reject(new Error("ctx.premium needs an update with a sender (ctx.from)"));
          return premium;
        },
      });
      // Every gateway call of this update carries one request id (our bot sets its own first).
      if (currentRequestId()) await next();
      else await withRequestId(newRequestId(ctx.update.update_id), next);
    });

    const features =
      options.handleErrors === false
        ? this
        : this.errorBoundary(async (error) => {
            const ctx = error.ctx as C & ObunaFlavor;
            const cause = error.error;
            const unavailable =
              cause instanceof GatewayError && (cause.code === null || (cause.status ?? 0) >= 500);
            ctx.obuna.logger.error(
              {
                err: { name: (cause as Error)?.name, message: (cause as Error)?.message },
                gatewayCode: cause instanceof GatewayError ? cause.code : undefined,
                updateId: ctx.update.update_id,
              },
              "obuna: update failed",
            );
            options.onError?.(cause, ctx);
            if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {});
            if (ctx.chat) {
              const text = unavailable ? ctx.obuna.t.gatewayUnavailable : ctx.obuna.t.somethingWrong;
              await ctx.reply(text).catch(() => {});
            }
          });
    features.use(
      privateOnlyFeature(),
      premiumFeature(),
      accountFeature(),
      autoRenewFeature(),
      supportFeature(),
    );
  }

  /** Drops the cached entitlement of a user: the next `ctx.premium` asks the gateway. */
  invalidate(telegramId: number): void {
    this.cache.invalidate(telegramId);
  }

  /**
   * The signed-events webhook for this plugin (docs/integration.md "Signed events"): verifies each
   * event and drops the user's cached entitlement, so premium shows at once, not after the TTL.
   * A web-standard handler; `toNodeListener(...)` mounts it on node:http.
   */
  eventsHandler(options: ObunaEventsHandlerOptions): (request: Request) => Promise<Response> {
    return obunaEventsHandler(this, options);
  }

  /** A user's entitlement outside an update (cached like ctx.premium). */
  premiumOf(telegramId: number): Promise<Entitlement> {
    return this.cache.get(telegramId);
  }
}

/** `bot.use(obuna({ gatewayUrl, token }))`. */
export function obuna<C extends Context = Context>(options: ObunaOptions<C>): ObunaPlugin<C> {
  return new ObunaPlugin<C>(options);
}

/**
 * Lets only premium users through: a user without premium gets the upsell (the /premium offer) and
 * the handlers after it do not run. Needs the plugin mounted earlier in the chain.
 *
 *     bot.command("ask", requirePremium(), (ctx) => answerQuestion(ctx));
 */
export function requirePremium<C extends ObunaContext>(): MiddlewareFn<C> {
  return async (ctx, next) => {
    if (!ctx.from) return;
    if (!ctx.obuna) throw new Error("requirePremium(): mount obuna() before it (bot.use(obuna({...})))");
    let entitlement: Entitlement;
    try {
      entitlement = await ctx.premium;
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      ctx.obuna.logger.warn(
        { err: { message: error.message }, telegramId: ctx.from.id },
        "obuna: premium could not be checked",
      );
      if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {});
      if (ctx.chat) await ctx.reply(ctx.obuna.t.gatewayUnavailable);
      return;
    }
    if (entitlement.active) return next();
    await ctx.obuna.upsell();
  };
}
