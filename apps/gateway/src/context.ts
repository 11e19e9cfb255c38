import type { AtmosClient } from "@obuna/atmos";
import type { ErrorReporter } from "@obuna/contracts/error-reporting";
import type { CardTokenKey, Database } from "@obuna/db";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { GatewayMetrics } from "./metrics";
import type { AbuseLimits, AbuseLimitsConfig } from "./middleware/rate-limit";

export interface GatewayConfig {
  internalApiToken: string;
  botToken: string;
  cardTokenKey: CardTokenKey;
  /** HMAC key of the stored Idempotency-Key request hashes (IDEMPOTENCY_HASH_KEY). */
  idempotencyHashKey: string;
  initDataMaxAgeS: number;
  /**
   * Max age of the initData that may start or continue a payment (atmos create / pre-apply), far
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
  atmos: AtmosClient;
  /** BullMQ Queue for QUEUES.notifications, created with enableOfflineQueue: false. */
  notificationsQueue: Queue;
  /** Used by /readyz; the queue's own connection is used when absent. */
  redis?: Redis;
  config: GatewayConfig;
  logger: Logger;
  clock: () => Date;
  metrics?: GatewayMetrics;
  /** Optional Sentry (SENTRY_DSN): unexpected errors are reported there too. */
  errorReporter?: ErrorReporter;
}

/** Who is calling: the bot (internal token, acts for anyone within its scopes) or one Mini App user. */
export type Caller =
  | { kind: "internal"; scopes?: ReadonlySet<InternalScope> }
  | { kind: "user"; telegramId: number; firstName?: string; username?: string };

/**
 * What the internal token (the bot) may do, named per endpoint family. Everything else (paying:
 * `/atmos/*`; removing a card) needs the user's own Telegram identity.
 */
export type InternalScope =
  | "links:create"
  | "session:read"
  | "subscription:read"
  | "subscription:manage"
  | "payments:read"
  | "cards:read"
  /** PUT /user/{id}/language: the language chosen in the bot. */
  | "user:language"
  /** Not granted to the internal token: paying (`/atmos/*`) and card removal. */
  | "checkout"
  | "cards:remove";

export interface HonoEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    deps: GatewayDeps & { metrics: GatewayMetrics; limits: AbuseLimits };
    caller: Caller;
    /** Set by a handler whose answer is provisional (apply → `processing`): not stored for replay. */
    idempotencyProvisional?: boolean;
  };
}
