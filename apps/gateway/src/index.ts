import { serve } from "@hono/node-server";
import { createAtmosProvider } from "@obuna/atmos/provider";
import { exitOnEnvError } from "@obuna/contracts/env";
import { createErrorReporter } from "@obuna/contracts/error-reporting";
import { QUEUES } from "@obuna/contracts/jobs";
import { createDb, parseCardTokenKey } from "@obuna/db";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { createApp } from "./app";
import { atmosClientFromEnv } from "./atmos-client";
import { type GatewayEnv, loadGatewayEnv } from "./env";
import { createMetrics } from "./metrics";
import { createTelegramBotApi } from "./telegram-bot-api";

async function main(env: GatewayEnv) {
  const logDestination = pino.destination({
    dest: 1,
    sync: true,
    ...(env.LOG_BUFFER_BYTES > 0 ? { minLength: env.LOG_BUFFER_BYTES, periodicFlush: 250 } : {}),
  });
  // Lines still in the batch are written before the process exits, however it exits.
  process.on("exit", () => {
    try {
      logDestination.flushSync();
    } catch {
      // Nothing more can be done about a log write at exit.
    }
  });
  const logger = pino(
    {
      level: env.LOG_LEVEL,
      base: { app: "gateway" },
      redact: {
        paths: ["req.headers.authorization", "*.card_number", "*.otp", "*.cardToken"],
        censor: "[redacted]",
      },
    },
    // The same lines, written in batches: a write goes out once LOG_BUFFER_BYTES (4 KiB) of lines
    // wait, or within 250 ms at the latest (sonic-boom's own unref'd flush timer, not periodic work).
    // Synchronous, as pino's default stdout is, but one write per ~20 lines: one write per line was
    // ~9 % of create-link's CPU under load, an asynchronous write per line (a thread-pool hop each)
    // ~4 % (docs/benchmarks.md). The exit handler above writes what is left; a SIGKILL loses at most
    // the last 250 ms of lines (audit rows are in the database).
    logDestination,
  );
  const dbHandle = createDb(env.DATABASE_URL, { applicationName: "obuna-gateway" });
  const redis = new Redis(env.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    // The abuse limits send one command per request; commands issued in the same tick go out in one
    // socket write (a loopback write cost as much CPU as the rest of create-link's Redis work).
    enableAutoPipelining: true,
  });
  redis.on("error", (error) => logger.warn({ err: error.message }, "redis error"));
  const notificationsQueue = new Queue(QUEUES.notifications, {
    connection: new Redis(env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
  });
  notificationsQueue.on("error", (error) => logger.warn({ err: error.message }, "notifications queue error"));
  const atmos = atmosClientFromEnv(env, logger);
  const deps = {
    db: dbHandle.db,
    provider: createAtmosProvider({
      client: atmos,
      storeId: env.ATMOS_STORE_ID,
      callbackApiKey: env.ATMOS_CALLBACK_API_KEY,
      callbackHash: env.ATMOS_CALLBACK_HASH,
    }),
    notificationsQueue,
    redis,
    logger,
    clock: () => new Date(),
    metrics: createMetrics({ defaultMetrics: true }),
    stars: createTelegramBotApi({ botToken: env.BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT }),
    errorReporter: await createErrorReporter({ dsn: env.SENTRY_DSN, app: "gateway" }),
    config: {
      internalApiToken: env.INTERNAL_API_TOKEN,
      serviceTokens: Object.entries(env.SERVICE_TOKENS).map(([name, { token, scopes }]) => ({
        name,
        token,
        scopes: new Set(scopes),
      })),
      botToken: env.BOT_TOKEN,
      cardTokenKey: parseCardTokenKey(env.CARD_TOKEN_KEY),
      idempotencyHashKey: env.IDEMPOTENCY_HASH_KEY,
      initDataMaxAgeS: env.TMA_INIT_DATA_MAX_AGE_S,
      initDataPayMaxAgeS: env.TMA_INIT_DATA_PAY_MAX_AGE_S,
      initDataThirdPartyCheck: env.TMA_INIT_DATA_THIRD_PARTY_CHECK,
      devAllowUnsignedInitData: env.DEV_ALLOW_UNSIGNED_INIT_DATA,
      miniappUrl: env.MINIAPP_URL,
      atmosStoreId: env.ATMOS_STORE_ID,
      atmosCallbackApiKey: env.ATMOS_CALLBACK_API_KEY,
      atmosCallbackHash: env.ATMOS_CALLBACK_HASH,
      otpResendCooldownMs: env.OTP_RESEND_COOLDOWN_S * 1000,
      renewalLeadMs: env.RENEWAL_LEAD_HOURS * 3_600_000,
      metricsToken: env.METRICS_TOKEN,
      rateLimits: {
        smsPerSessionPerHour: env.RATE_LIMIT_SMS_PER_SESSION_PER_HOUR,
        smsPerUserPerHour: env.RATE_LIMIT_SMS_PER_USER_PER_HOUR,
        linksPerUserPerHour: env.RATE_LIMIT_LINKS_PER_USER_PER_HOUR,
        applyPerSessionPerHour: env.RATE_LIMIT_APPLY_PER_SESSION_PER_HOUR,
        adminSignInPerIpPer15Min: env.RATE_LIMIT_ADMIN_SIGN_IN_PER_IP_PER_15_MIN,
      },
      trustedProxyIps: env.TRUSTED_PROXY_IPS,
      ...(env.OFFER_URL ? { offer: { url: env.OFFER_URL, version: env.OFFER_VERSION } } : {}),
      priceChangeNoticeDays: env.PRICE_CHANGE_NOTICE_DAYS,
    },
  };
  const app = createApp(deps, {
    ...(env.ADMIN_TOKEN
      ? {
          admin: {
            adminToken: env.ADMIN_TOKEN,
            sessionTtlS: env.ADMIN_SESSION_TTL_S,
            telegramIds: env.ADMIN_TELEGRAM_IDS,
            telegramInitDataMaxAgeS: env.ADMIN_INIT_DATA_MAX_AGE_S,
          },
        }
      : {}),
  });
  if (env.DEV_ALLOW_UNSIGNED_INIT_DATA)
    logger.warn("DEV_ALLOW_UNSIGNED_INIT_DATA is on: never in production");

  const server = serve({ fetch: app.fetch, port: env.GATEWAY_PORT, hostname: "0.0.0.0" }, (info) => {
    logger.info({ port: info.port }, `gateway listening on ${info.port}`);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "gateway shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.allSettled([
      notificationsQueue.close(),
      redis.quit(),
      dbHandle.close(),
      deps.errorReporter.flush(),
    ]);
    logger.info("gateway stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

let env: GatewayEnv;
try {
  env = loadGatewayEnv();
} catch (error) {
  exitOnEnvError(error);
}
main(env).catch((error: Error) => {
  process.stderr.write(`gateway failed to start: ${error.message}\n`);
  process.exit(1);
});
