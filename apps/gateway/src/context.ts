import type { PaymentProvider, StarsBotApi } from "@obuna/billing";
import type { ErrorReporter } from "@obuna/contracts/error-reporting";
import type { TokenScope } from "@obuna/contracts/scopes";
import type { CardTokenKey, Database } from "@obuna/db";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { GatewayMetrics } from "./metrics";
import type { AbuseLimits, AbuseLimitsConfig } from "./middleware/rate-limit";

/** A token another service (a host bot, a CRM) calls the gateway with, holding only `scopes` (SERVICE_TOKENS). */
export interface ServiceToken {
  /** Who holds it, for logs and the idempotency scope: `assistant-bot`. */
  name: string;
  token: string;
  scopes: ReadonlySet<InternalScope>;
}

export interface GatewayConfig {
  internalApiToken: string;
  /** SERVICE_TOKENS: scoped tokens for other services (entitlements, a host bot's plugin). */
  serviceTokens?: readonly ServiceToken[];
  botToken: string;
  cardTokenKey: CardTokenKey;
  /** HMAC key of the stored Idempotency-Key request hashes (IDEMPOTENCY_HASH_KEY). */
  idempotencyHashKey: string;
  initDataMaxAgeS: number;
  /**
   * Max age of the initData that may start or continue a payment (checkout create / pre-apply), far
   * shorter than `initDataMaxAgeS` for reading (default 900 s). Older: 401 `stale`, "reopen from the bot".
   */
  initDataPayMaxAgeS?: number;
  /** Also check initData's `signature` with Telegram's Ed25519 key (validate3rd). Default off. */
  initDataThirdPartyCheck?: boolean;
  devAllowUnsignedInitData: boolean;
  miniappUrl: string;
  atmosStoreId: string;
  atmosCallbackApiKey: string;
  atmosCallbackHash: "md5" | "sha256";
  /** Payment sessions live this long (default 30 minutes). */
  sessionTtlMs?: number;
  /** RENEWAL_LEAD_HOURS in ms: how long before end_date a renewal is charged (default 24 h). */
  renewalLeadMs?: number;
  /** Minimum time between two OTP sends for one session (default 60 s). */
  otpResendCooldownMs?: number;
  /** Largest accepted request body (default 64 KiB). */
  bodyLimitBytes?: number;
  /** METRICS_TOKEN: `GET /metrics` needs `Authorization: Bearer <it>`; unset = /metrics answers 401. */
  metricsToken?: string;
  /** Abuse limits (RATE_LIMIT_*); unset ones take DEFAULT_ABUSE_LIMITS. */
  rateLimits?: Partial<AbuseLimitsConfig>;
  /** TCP peers (the Mini App server) whose `x-obuna-client-ip` header names the client (TRUSTED_PROXY_IPS). */
  trustedProxyIps?: string[];
  /** OFFER_URL + OFFER_VERSION: the public offer the checkout links and records acceptance of. */
  offer?: { url: string; version: string };
  /** PRICE_CHANGE_NOTICE_DAYS (shown in the admin plans page; the renewals worker applies it). */
  priceChangeNoticeDays?: number;
}

export interface GatewayDeps {
  db: Database;
  /** The card rail behind the PaymentProvider port (ATMOS adapter, built in the composition root). */
  provider: PaymentProvider;
  /** BullMQ Queue for QUEUES.notifications, created with enableOfflineQueue: false. */
  notificationsQueue: Queue;
  /** Used by /readyz; the queue's own connection is used when absent. */
  redis?: Redis;
  config: GatewayConfig;
  logger: Logger;
  clock: () => Date;
  metrics?: GatewayMetrics;
  /** The Bot API's Stars methods (Telegram adapter from the composition root); absent = Stars off (503). */
  stars?: StarsBotApi;
  /** Optional Sentry (SENTRY_DSN): unexpected errors are reported there too. */
  errorReporter?: ErrorReporter;
}

/** Who is calling: the bot (internal token, acts for anyone within its scopes) or one Mini App user. */
export type Caller =
  | {
      kind: "internal";
      scopes?: ReadonlySet<InternalScope>;
      /** Set for a SERVICE_TOKENS token (its name); absent for INTERNAL_API_TOKEN (our bot). */
      service?: string;
    }
  | { kind: "user"; telegramId: number; firstName?: string; username?: string };

/**
 * What a bearer token may do: the token scopes of `@obuna/contracts/scopes` (our bot's
 * INTERNAL_API_TOKEN holds them all, a SERVICE_TOKENS token the ones listed for it), plus two no
 * token is granted: paying (`/checkout/*`) and card removal need the user's own Telegram identity.
 */
export type InternalScope = TokenScope | "checkout" | "cards:remove";

export interface HonoEnv {
  Variables: {
    requestId: string;
    /** Made on first use: `requestLogger(c)` (middleware/init.ts). */
    logger?: Logger;
    deps: GatewayDeps & { metrics: GatewayMetrics; limits: AbuseLimits };
    caller: Caller;
    /** Set by a handler whose answer is provisional (apply → `processing`): not stored for replay. */
    idempotencyProvisional?: boolean;
  };
}
