import { run } from "@grammyjs/runner";
import { notificationJobId } from "@obuna/contracts/jobs";
import { testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { Api } from "grammy";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createBot } from "../src/bot/index";
import { createRedisLanguageStore } from "../src/language-store";
import { createBotMetrics, POLL_STALE_MS, pollingHealth } from "../src/metrics";
import { createNotificationWorker } from "../src/notifications/worker";
import { createOpsApp } from "../src/server";
import { startEmulator } from "./emulator";
import { createPayingUser, openTestDb } from "./fixtures";
import {
  BOT_TOKEN,
  botInfo,
  commandUpdate,
  FakeGateway,
  recordApiCalls,
  silentLogger,
  user,
  waitFor,
} from "./helpers";

const METRICS_TOKEN = "bot-test-metrics-token-0123456789";
const dbHandle = openTestDb();
const redis = new Redis(testRedisUrl(3));
const connection = new Redis(testRedisUrl(3), { maxRetriesPerRequest: null });
const languages = createRedisLanguageStore(redis, `bot:lang:obs:${Date.now()}:`);

afterAll(async () => {
  await dbHandle.close();
  redis.disconnect();
  connection.disconnect();
});

const RATE_LIMITED_CHAT = 6_100_002;
const REFUSED_CHAT = 6_100_003;

describe("bot /metrics (Prometheus, Bearer METRICS_TOKEN)", () => {
  it("answers 401 without the token, with a wrong one, and when METRICS_TOKEN is not set", async () => {
    const metrics = createBotMetrics();
    const health = () => ({ ok: true });
    const app = createOpsApp({ health, registry: metrics.registry, metricsToken: METRICS_TOKEN });
    for (const authorization of [undefined, "Bearer wrong-metrics-token-0123456789", METRICS_TOKEN]) {
      const res = await app.request("/metrics", authorization ? { headers: { authorization } } : {});
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
    }
    const off = createOpsApp({ health, registry: metrics.registry });
    const res = await off.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(401);
    const ok = await app.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it("counts updates, failed updates, Bot API errors and 429s, and notifications by outcome", async () => {
    const metrics = createBotMetrics();
    const bot = createBot(
      BOT_TOKEN,
      {
        gateway: new FakeGateway(),
        languages,
        logger: silentLogger,
        enqueueRetryNow: async () => {},
        observeUpdate: metrics.observeUpdate,
      },
      { botInfo },
    );
    // Telegram as it answers: 429 for one chat (retry_after over the replies' wait bound, so the reply
    // is not retried and the test does not wait), 400 for another.
    recordApiCalls(bot.api, (method, payload) => {
      if (method !== "sendMessage") return undefined;
      if (payload.chat_id === RATE_LIMITED_CHAT)
        return {
          ok: false,
          error_code: 429,
          description: "Too Many Requests: retry after 60",
          parameters: { retry_after: 60 },
        };
      if (payload.chat_id === REFUSED_CHAT)
        return { ok: false, error_code: 400, description: "Bad Request: chat not found" };
      return undefined;
    });
    metrics.instrumentApi(bot.api);

    await bot.handleUpdate(commandUpdate("/help", user(6_100_001)));
    await bot.handleUpdate(commandUpdate("/help", user(RATE_LIMITED_CHAT)));
    await bot.handleUpdate(commandUpdate("/help", user(REFUSED_CHAT)));

    // Notifications: a real worker on its own queue, through a Bot API that delivers.
    const queueName = `notifications-obs-${Date.now()}`;
    const queue = new Queue(queueName, { connection });
    const api = new Api(BOT_TOKEN);
    recordApiCalls(api);
    metrics.instrumentApi(api);
    const worker = createNotificationWorker({
      connection,
      redis,
      db: dbHandle.db,
      api,
      languages,
      adminChatId: null,
      logger: silentLogger,
      queueName,
      sentMarkerPrefix: `bot:ntf-sent:${queueName}:`,
      rateLimit: { keyPrefix: `bot:rate:${queueName}:` },
    });
    metrics.observeNotifications(worker);
    try {
      const paid = await createPayingUser(dbHandle.db);
      const job = {
        kind: "payment_succeeded" as const,
        userId: paid.user.id,
        paymentId: paid.payment.id,
        subscriptionId: paid.subscription.id,
      };
      await queue.add(job.kind, job, { jobId: notificationJobId(job, 1) });
      // Not a notification at all: refused as invalid, never retried.
      await queue.add("payment_succeeded", { kind: "nonsense" }, { jobId: "bad-1", attempts: 1 });
      const app = createOpsApp({
        health: () => ({ ok: true }),
        registry: metrics.registry,
        metricsToken: METRICS_TOKEN,
      });
      const scrape = async () =>
        (await app.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      const text = await waitFor(
        async () => {
          const body = await scrape();
          return body.includes('bot_notifications_total{outcome="sent"} 1') &&
            body.includes('bot_notifications_total{outcome="failed"} 1')
            ? body
            : null;
        },
        15_000,
        "notification counts",
      );
      expect(text).toContain('bot_updates_total{type="message"} 3');
      expect(text).toContain('bot_updates_failed_total{type="message"} 2');
      // Each failing chat saw two sends: the handler's reply, then the error boundary's apology.
      expect(text).toContain('bot_telegram_rate_limited_total{method="sendMessage"} 2');
      expect(text).toContain('bot_telegram_api_errors_total{method="sendMessage",code="429"} 2');
      expect(text).toContain('bot_telegram_api_errors_total{method="sendMessage",code="400"} 2');
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe("bot /healthz in polling mode", () => {
  it("is 200 while the runner polls successfully, 503 once polling is stale or stopped", async () => {
    const emulator = await startEmulator();
    const metrics = createBotMetrics();
    const bot = createBot(
      BOT_TOKEN,
      { gateway: new FakeGateway(), languages, logger: silentLogger, enqueueRetryNow: async () => {} },
      { apiRoot: emulator.apiRoot },
    );
    metrics.instrumentApi(bot.api);
    const startedAt = Date.now();
    let runner: ReturnType<typeof run> | null = null;
    const app = createOpsApp({
      health: () =>
        pollingHealth({
          running: runner?.isRunning() ?? false,
          last: metrics.last,
          startedAt,
          now: Date.now(),
        }),
      registry: metrics.registry,
    });
    try {
      // Not polling yet: unhealthy.
      expect((await app.request("/healthz")).status).toBe(503);
      await bot.init();
      expect(metrics.last.getMe).not.toBeNull();
      runner = run(bot);
      await waitFor(() => metrics.last.getUpdates, 10_000, "a successful getUpdates");
      const res = await app.request("/healthz");
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ ok: true, mode: "polling", running: true });
      expect(typeof body.lastGetUpdatesAt).toBe("string");
      expect(typeof body.lastGetMeAt).toBe("string");

      // Polling that stopped succeeding (Telegram unreachable, token revoked) goes stale.
      const last = { ...metrics.last };
      expect(
        pollingHealth({ running: true, last, startedAt, now: last.getUpdates! + POLL_STALE_MS - 1 }).ok,
      ).toBe(true);
      expect(
        pollingHealth({ running: true, last, startedAt, now: last.getUpdates! + POLL_STALE_MS }).ok,
      ).toBe(false);
      // A poller that never got an answer is unhealthy once the grace after start is over.
      const never = { getUpdates: null, getMe: null };
      expect(
        pollingHealth({ running: true, last: never, startedAt, now: startedAt + POLL_STALE_MS }).ok,
      ).toBe(false);

      await runner.stop();
      const stopped = await app.request("/healthz");
      expect(stopped.status).toBe(503);
      expect(await stopped.json()).toMatchObject({ ok: false, running: false });
    } finally {
      if (runner?.isRunning()) await runner.stop();
      await emulator.stop();
    }
  });
});
