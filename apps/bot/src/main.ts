import { run } from "@grammyjs/runner";
import { exitOnEnvError } from "@obuna/contracts/env";
import { createErrorReporter } from "@obuna/contracts/error-reporting";
import { QUEUES, RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { createDb } from "@obuna/db";
import { getUserByTelegramId } from "@obuna/db/queries";
import { createGatewayClient } from "@obuna/grammy/gateway-client";
import { t } from "@obuna/grammy/i18n";
import { createRedisSupportStore } from "@obuna/grammy/support-store";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createBot, registerCommands } from "./bot/index";
import { setAccountMenuButton } from "./bot/telegram-api";
import { loadBotConfig } from "./env";
import { createRedisLanguageStore, createUserLanguageStore } from "./language-store";
import { createLogger } from "./logger";
import { createBotMetrics, pollingHealth } from "./metrics";
import { clearBotBlocked } from "./notifications/queries";
import { createNotificationWorker } from "./notifications/worker";
import { createOpsApp, createWebhookApp, type OpsOptions, startWebhookServer, WEBHOOK_PATH } from "./server";
import { initBotWhenReachable, pollingReachability } from "./telegram-reachability";

/**
 * The updates the bot asks Telegram for. `pre_checkout_query` is required for Telegram Stars: without
 * it Telegram never asks, and every Stars checkout times out after 10 s (docs/stars.md).
 */
const ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"] as const;

async function main() {
  let config: ReturnType<typeof loadBotConfig>;
  try {
    config = loadBotConfig();
  } catch (error) {
    exitOnEnvError(error);
  }
  const logger = createLogger(config.logLevel);
  const errorReporter = await createErrorReporter({ dsn: config.sentryDsn ?? undefined, app: "bot" });
  const dbHandle = createDb(config.databaseUrl, { max: 5, applicationName: "obuna-bot" });
  // Workers need maxRetriesPerRequest: null; the producer side fails fast when Redis is down.
  const workerRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const renewalsQueue = new Queue(QUEUES.renewals, {
    connection: new Redis(config.redisUrl, { maxRetriesPerRequest: 3, enableOfflineQueue: false }),
  });
  const gateway = createGatewayClient({ baseUrl: config.gatewayUrl, internalToken: config.internalApiToken });
  const languages = createUserLanguageStore({
    cache: createRedisLanguageStore(redis),
    readStored: async (telegramId) => (await getUserByTelegramId(dbHandle.db, telegramId))?.language ?? null,
    persist: (telegramId, language) => gateway.setLanguage(telegramId, { language }),
    onPersistError: (telegramId, error) =>
      logger.warn(
        { telegramId, err: { message: (error as Error).message } },
        "language choice kept in Redis only (gateway did not take it)",
      ),
  });
  const metrics = createBotMetrics({ defaultMetrics: true });

  const bot = createBot(
    config.botToken,
    {
      gateway,
      languages,
      logger,
      errorReporter,
      observeUpdate: metrics.observeUpdate,
      async enqueueRetryNow(job, jobId) {
        await renewalsQueue.add(RENEWAL_JOBS.retryNow, job, {
          jobId,
          attempts: 3,
          backoff: { type: "exponential", delay: 5_000 },
          removeOnComplete: { age: 86_400 },
          removeOnFail: { age: 7 * 86_400 },
        });
      },
      support: { ...config.support, store: createRedisSupportStore(redis) },
      accountUrl: config.accountUrl,
      async onUserSeen(telegramId) {
        if (await clearBotBlocked(dbHandle.db, telegramId))
          logger.info({ telegramId }, "user unblocked the bot");
      },
    },
    { apiRoot: config.telegramApiRoot },
  );

  const worker = createNotificationWorker({
    connection: workerRedis,
    redis,
    db: dbHandle.db,
    api: bot.api,
    languages,
    adminChatId: config.adminChatId,
    logger,
    rateLimit: { globalLimit: config.notificationsPerSecond },
  });
  metrics.observeNotifications(worker);
  // Before bot.init(): its getMe is the first call counted.
  metrics.instrumentApi(bot.api);

  // Polling mode: /healthz and /metrics on BOT_HEALTH_PORT, up before the first Bot API call.
  const startedAt = Date.now();
  let isPolling = () => false;
  const ops = (health: OpsOptions["health"]): OpsOptions => ({
    health,
    registry: metrics.registry,
    metricsToken: config.metricsToken ?? undefined,
  });
  const opsServer =
    config.mode.kind === "polling"
      ? await startWebhookServer(
          createOpsApp(
            ops(() =>
              pollingHealth({ running: isPolling(), last: metrics.last, startedAt, now: Date.now() }),
            ),
          ),
          config.mode.healthPort,
        )
      : null;
  if (opsServer) logger.info({ port: opsServer.port }, `bot health on ${opsServer.port}`);

  // Until getMe answers, a stop signal ends the retries (the handlers below are not installed yet).
  const startup = new AbortController();
  const stopStartup = () => startup.abort();
  process.once("SIGINT", stopStartup);
  process.once("SIGTERM", stopStartup);
  const reachability = { apiRoot: config.telegramApiRoot, logger };
  if (!(await initBotWhenReachable(bot, reachability, startup.signal))) {
    logger.info("stopped before Telegram was reachable");
    await worker.close();
    await renewalsQueue.close();
    await dbHandle.close();
    redis.disconnect();
    workerRedis.disconnect();
    process.exit(0);
  }
  process.off("SIGINT", stopStartup);
  process.off("SIGTERM", stopStartup);
  await registerCommands(bot, logger);
  await setAccountMenuButton(bot.api, config.accountUrl, t("uz").accountButton, logger);
  if (config.support.chatId === null && config.support.contact === null)
    logger.warn("neither SUPPORT_CHAT_ID nor SUPPORT_CONTACT is set: /paysupport has no contact to show");

  let stopReceiving: () => Promise<void>;
  if (config.mode.kind === "webhook") {
    const { server, port } = await startWebhookServer(
      createWebhookApp(
        bot,
        config.mode.secretToken,
        ops(() => ({
          ok: true,
          mode: "webhook",
          lastGetMeAt: metrics.last.getMe === null ? null : new Date(metrics.last.getMe).toISOString(),
        })),
      ),
      config.mode.port,
    );
    await bot.api.setWebhook(`${config.mode.url.replace(/\/+$/, "")}${WEBHOOK_PATH}`, {
      secret_token: config.mode.secretToken,
      allowed_updates: ALLOWED_UPDATES,
    });
    logger.info({ port, mode: "webhook" }, `bot listening on ${port}`);
    stopReceiving = () => new Promise((resolve) => server.close(() => resolve()));
  } else {
    await bot.api
      .deleteWebhook()
      .catch((error: Error) => logger.warn({ err: { message: error.message } }, "deleteWebhook failed"));
    bot.api.config.use(pollingReachability(reachability));
    const runner = run(bot, { runner: { fetch: { allowed_updates: ALLOWED_UPDATES } } });
    isPolling = () => runner.isRunning();
    logger.info({ mode: "polling", username: bot.botInfo.username }, "bot polling");
    stopReceiving = async () => {
      if (runner.isRunning()) await runner.stop();
    };
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, 20_000);
    force.unref();
    try {
      await stopReceiving();
      if (opsServer) await new Promise<void>((resolve) => opsServer.server.close(() => resolve()));
      await worker.close();
      await renewalsQueue.close();
      await dbHandle.close();
      await errorReporter.flush();
      redis.disconnect();
      workerRedis.disconnect();
      clearTimeout(force);
      process.exit(0);
    } catch (error) {
      logger.error({ err: { message: (error as Error).message } }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(`bot failed to start: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
