/**
 * `@obuna/grammy`: Obuna premium inside any grammY bot.
 *
 *     const bot = new Bot<Context & ObunaFlavor>(token);
 *     bot.use(obuna({ gatewayUrl: "https://pay.example.uz", token: process.env.OBUNA_TOKEN }));
 *     bot.command("ask", requirePremium(), (ctx) => ctx.reply("…"));
 *
 * It adds `ctx.premium` (the sender's entitlement, cached) and the /premium, /status, /payments,
 * /cancel, /resume and /paysupport features in Uzbek, Russian and English. docs/integration.md.
 */
export type { Entitlement } from "@obuna/contracts/http";
export { HOST_BOT_SCOPES } from "@obuna/contracts/scopes";
export { CALLBACK_PATTERNS, callbackData, parseId, parsePlanSlug } from "./callback-data";
export { containsCardNumber } from "./card-numbers";
export type { ObunaContext, ObunaFlavor, ObunaLogger, ObunaState, SupportOptions } from "./context";
export {
  DEFAULT_SIGNATURE_TOLERANCE_S,
  OBUNA_SIGNATURE_HEADER,
  type ObunaEventRefusal,
  type ObunaEventsHandlerOptions,
  ObunaEventVerificationError,
  obunaEventsHandler,
  PREMIUM_EVENT_TYPES,
  type PremiumEvent,
  type PremiumEventType,
  type PremiumInvalidator,
  toNodeListener,
  type VerifyObunaEventOptions,
  verifyObunaEvent,
} from "./events";
export { accountFeature, loadSubscription } from "./features/account";
export { autoRenewFeature, turnAutoRenewOff } from "./features/auto-renew";
export { premiumFeature, sendPaymentLink, showPlans } from "./features/premium";
export { ACCOUNT_COMMANDS, privateOnlyFeature } from "./features/private-only";
export { supportFeature } from "./features/support";
export {
  createGatewayClient,
  type EntitlementRead,
  type GatewayClient,
  type GatewayClientOptions,
  GatewayError,
  newRequestId,
  withRequestId,
} from "./gateway-client";
export { formatDay, formatDayTime, LANGUAGES, type Language, type Messages, pickLanguage, t } from "./i18n";
export { type ObunaLocale, type ObunaOptions, ObunaPlugin, obuna, requirePremium } from "./plugin";
export { PremiumCache, type PremiumCacheOptions } from "./premium-cache";
export {
  createRedisSupportStore,
  type SupportRedis,
  type SupportRelayTarget,
  type SupportSession,
  type SupportStore,
} from "./support-store";
