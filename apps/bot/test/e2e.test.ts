import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run } from "@grammyjs/runner";
import { type RunningSandbox, SANDBOX_CARDS, SANDBOX_OTP, startSandbox } from "@obuna/atmos/sandbox";
import { findCardNumbers } from "@obuna/contracts/card";
import { QUEUES } from "@obuna/contracts/jobs";
import { signInitData } from "@obuna/contracts/testing";
import { schema } from "@obuna/db";
import { getUserByTelegramId } from "@obuna/db/queries";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { createGatewayClient } from "@obuna/grammy/gateway-client";
import { formatDay } from "@obuna/grammy/i18n";
import type { Worker } from "bullmq";
import { eq } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBot } from "../src/bot/index";
import { createRedisLanguageStore, createUserLanguageStore } from "../src/language-store";
import { createNotificationWorker } from "../src/notifications/worker";
import { buttonsOf, startEmulator } from "./emulator";
import { openTestDb } from "./fixtures";
import { BOT_TOKEN, waitFor } from "./helpers";

/**
 * The whole path with real pieces: telegram-test-api ⇄ bot (runner) ⇄ the real gateway process
 * (`apps/gateway/src/index.ts`, spawned) ⇄ the ATMOS sandbox in-process, Postgres and Redis.
 * The Mini App's part (create → pre-apply → apply) is played over HTTP with signed initData.
 */
const gatewayDir = fileURLToPath(new URL("../../gateway/", import.meta.url));
const INTERNAL_TOKEN = "internal-token-for-the-e2e-test";
const TELEGRAM_ID = 4_300_001;

let sandbox: RunningSandbox;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let gatewayProcess: ChildProcess;
let gatewayUrl = "";
let runner: ReturnType<typeof run> | null = null;
let worker: Worker;
const dbHandle = openTestDb();
const redis = new Redis(testRedisUrl(3));
const workerConnection = new Redis(testRedisUrl(3), { maxRetriesPerRequest: null });
/** Everything the bot logs during the test, to check no card number or secret ever reaches a log line. */
const botLogLines: string[] = [];
const botLogger = pino({ level: "debug" }, { write: (line: string) => void botLogLines.push(line) });
/** The gateway process's stdout and stderr (its JSON log lines). */
let gatewayOutput = "";

function startGateway(atmosUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    gatewayProcess = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: gatewayDir,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: testDatabaseUrl("bot"),
        REDIS_URL: testRedisUrl(3),
        LOG_LEVEL: "info",
        GATEWAY_PORT: "0",
        // Every log line at once: the test reads the output as it goes.
        LOG_BUFFER_BYTES: "0",
        INTERNAL_API_TOKEN: INTERNAL_TOKEN,
        BOT_TOKEN,
        CARD_TOKEN_KEY: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        MINIAPP_URL: "https://miniapp.example",
        ATMOS_BASE_URL: atmosUrl,
        ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
        ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
        ATMOS_STORE_ID: "11054",
        ATMOS_CALLBACK_API_KEY: "sandbox_callback_api_key",
        ATMOS_TIMEOUT_MS: "5000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      gatewayOutput += chunk.toString();
      const match = /gateway listening on (\d+)/.exec(gatewayOutput);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    };
    gatewayProcess.stdout!.on("data", onData);
    gatewayProcess.stderr!.on("data", onData);
    gatewayProcess.once("exit", (code) =>
      reject(new Error(`gateway exited (${code}) before listening:\n${gatewayOutput}`)),
    );
  });
}

async function miniApp<T>(path: string, body: unknown): Promise<T> {
  const initData = signInitData({ id: TELEGRAM_ID, first_name: "Dilnoza", language_code: "uz" }, BOT_TOKEN);
  const response = await fetch(`${gatewayUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `tma ${initData}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { success: boolean; data: T };
  if (!response.ok || !json.success) throw new Error(`${path} → ${response.status} ${JSON.stringify(json)}`);
  return json.data;
}

beforeAll(async () => {
  sandbox = await startSandbox({ storeId: "11054" });
  emulator = await startEmulator();
  gatewayUrl = await startGateway(sandbox.url);
  sandbox.configure({ callbackUrl: `${gatewayUrl}/api/v1/checkout/callback` });

  const gateway = createGatewayClient({ baseUrl: gatewayUrl, internalToken: INTERNAL_TOKEN });
  // As main.ts wires it: the choice is stored on the user through the gateway, Redis keeps a copy.
  const languages = createUserLanguageStore({
    cache: createRedisLanguageStore(redis, `bot:lang:e2e:${Date.now()}:`),
    readStored: async (telegramId) => (await getUserByTelegramId(dbHandle.db, telegramId))?.language ?? null,
    persist: (telegramId, language) => gateway.setLanguage(telegramId, { language }),
  });
  const bot = createBot(
    BOT_TOKEN,
    {
      gateway,
      languages,
      logger: botLogger,
      enqueueRetryNow: async () => {},
    },
    { apiRoot: emulator.apiRoot },
  );
  await bot.init();
  worker = createNotificationWorker({
    connection: workerConnection,
    redis,
    db: dbHandle.db,
    api: bot.api,
    languages,
    adminChatId: null,
    logger: botLogger,
    queueName: QUEUES.notifications,
  });
  runner = run(bot);
}, 60_000);

afterAll(async () => {
  if (runner?.isRunning()) await runner.stop();
  await worker?.close();
  if (gatewayProcess && gatewayProcess.exitCode === null) {
    const exited = new Promise((resolve) => gatewayProcess.once("exit", resolve));
    gatewayProcess.kill("SIGTERM");
    await exited;
  }
  await emulator?.stop();
  await sandbox?.close();
  await dbHandle.close();
  redis.disconnect();
  workerConnection.disconnect();
});

describe("end to end: bot + real gateway + ATMOS sandbox + Postgres", () => {
  it("/premium → plan → pay the session → notified → /status and /payments show it → /cancel turns auto-renew off", async () => {
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: TELEGRAM_ID,
      chatId: TELEGRAM_ID,
      firstName: "Dilnoza",
      timeout: 5_000,
    });
    const messages = () => emulator.botMessages(TELEGRAM_ID);
    const nth = (n: number, what: string) => waitFor(() => messages()[n], 15_000, what);

    await client.sendCommand(client.makeCommand("/premium"));
    const plans = await nth(0, "plans");
    expect(buttonsOf(plans).map((b) => b.callback_data)).toEqual([
      "plan:monthly",
      "plan:quarterly",
      "plan:yearly",
    ]);

    await client.sendCallback(
      client.makeCallbackQuery("plan:monthly", { message: { message_id: plans.messageId } }),
    );
    const link = await nth(1, "payment link");
    const [payButton] = buttonsOf(link);
    expect(payButton?.text).toBe("💳 Kartani ulash va to'lash");
    const sessionId = new URL(payButton!.web_app!.url).searchParams.get("session_id")!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);

    // The gateway knows the session.
    const session = await fetch(`${gatewayUrl}/api/v1/payment/session/${sessionId}`, {
      headers: { authorization: `Bearer ${INTERNAL_TOKEN}` },
    }).then((r) => r.json() as Promise<{ data: { status: string; amount: number } }>);
    expect(session.data.status).toBe("pending");
    expect(session.data.amount).toBe(2_900_000);

    // Pay it as the Mini App would.
    const card = SANDBOX_CARDS.humo1;
    const created = await miniApp<{ transaction_id: number }>("/api/v1/checkout/create", {
      session_id: sessionId,
      amount: 2_900_000,
      auto_renew: true,
    });
    await miniApp("/api/v1/checkout/pre-apply", {
      session_id: sessionId,
      transaction_id: created.transaction_id,
      card_number: card.pan,
      expiry: card.expiry,
    });
    const applied = await miniApp<{ status: string }>("/api/v1/checkout/apply", {
      session_id: sessionId,
      transaction_id: created.transaction_id,
      otp: SANDBOX_OTP,
    });
    expect(applied.status).toBe("completed");

    // The gateway's payment_succeeded job reaches the chat through the bot's worker.
    const receipt = await nth(2, "payment notification");
    expect(receipt.message.text).toContain("To'lov qabul qilindi: 29\u00a0000\u00a0soʻm");
    // The fiscal receipt ATMOS issued for this charge is linked in the message and in /payments.
    const receiptUrl = sandbox.ledger().find((t) => t.transactionId === created.transaction_id)!.ofdUrl!;
    expect(receiptUrl).toMatch(/^https:\/\//);
    expect(receipt.message.text).toContain(`🧾 Chek: ${receiptUrl}`);

    await client.sendCommand(client.makeCommand("/status"));
    const status = await nth(3, "status");
    expect(status.message.text).toContain("Holat: faol");
    expect(status.message.text).toContain("Avtomatik yangilash: yoqilgan");
    expect(status.message.text).toContain(`${card.pan.slice(0, 6)}******${card.pan.slice(-4)}`);

    await client.sendCommand(client.makeCommand("/payments"));
    const history = await nth(4, "payments");
    expect(history.message.text).toContain("29\u00a0000\u00a0soʻm · muvaffaqiyatli");
    expect(history.message.text).toContain(`🧾 Chek: ${receiptUrl}`);

    await client.sendCommand(client.makeCommand("/cancel"));
    const confirm = await nth(5, "cancel confirmation");
    const yes = buttonsOf(confirm).find((b) => b.callback_data?.startsWith("cancel:yes:"));
    await client.sendCallback(
      client.makeCallbackQuery(yes!.callback_data!, { message: { message_id: confirm.messageId } }),
    );
    await waitFor(() => messages()[5]?.message.text.includes("o'chirildi"), 15_000, "cancel done");

    const user = await getUserByTelegramId(dbHandle.db, TELEGRAM_ID);
    const [subscription] = await dbHandle.db
      .select()
      .from(schema.subscriptions)
      .where(eq(schema.subscriptions.userId, user!.id));
    expect(subscription!.autoRenew).toBe(false);
    expect(subscription!.status).toBe("active");
    expect(subscription!.cancelledAt).toBeInstanceOf(Date);

    const logs = botLogLines.join("\n");
    expect(logs).toContain("payment link created");
    expect(logs).toContain("notification sent");
    expect(findCardNumbers(logs)).toEqual([]);
    expect(logs).not.toContain(INTERNAL_TOKEN);
    expect(logs).not.toContain(BOT_TOKEN.split(":")[1]);

    // One request id per update travels from the bot to the gateway: the bot's log line of the
    // update that created the link and the gateway's line of that create-link request share it.
    const linkLine = botLogLines.find((line) => line.includes("payment link created"))!;
    const requestId = (JSON.parse(linkLine) as { requestId?: string }).requestId;
    expect(requestId).toMatch(/^bot-\d+-[0-9a-f]{8}$/);
    const gatewayLines = gatewayOutput
      .split("\n")
      .filter((line) => line.includes(`"requestId":"${requestId}"`));
    expect(gatewayLines.some((line) => line.includes('"path":"/api/v1/payment/create-link"'))).toBe(true);
  }, 60_000);

  it("a language chosen in the bot is stored on the user: the payment link, the Mini App session, the receipt and /status speak it; next charge is a day before the end", async () => {
    const telegramId = 4_300_002;
    const NBSP = "\u00a0";
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: telegramId,
      chatId: telegramId,
      firstName: "Olga",
      timeout: 5_000,
    });
    const messages = () => emulator.botMessages(telegramId);
    const find = (what: string, match: (text: string) => boolean) =>
      waitFor(() => messages().find((m) => match(m.message.text ?? "")), 15_000, what);

    await client.sendCallback(client.makeCallbackQuery("lang:ru", { message: { message_id: 1 } }));
    await find("language set", (t) => t.includes("Язык изменён"));
    const stored = await waitFor(
      async () => (await getUserByTelegramId(dbHandle.db, telegramId))?.language,
      10_000,
      "users.language",
    );
    expect(stored).toBe("ru");

    await client.sendCommand(client.makeCommand("/premium"));
    const plans = await find("plans", (t) => t.includes("Тарифы"));
    expect(buttonsOf(plans)[0]?.text).toBe(`1 месяц — 29${NBSP}000${NBSP}сум / 30 дн.`);
    await client.sendCallback(
      client.makeCallbackQuery("plan:monthly", { message: { message_id: plans.messageId } }),
    );
    const link = await find("payment link", (t) => t.includes("Тариф: 1 месяц"));
    expect(link.message.text).toContain(`Цена: 29${NBSP}000${NBSP}сум`);
    const sessionId = new URL(buttonsOf(link)[0]!.web_app!.url).searchParams.get("session_id")!;

    // The Mini App: Telegram's language_code says English, the session says Russian.
    const initData = signInitData({ id: telegramId, first_name: "Olga", language_code: "en" }, BOT_TOKEN);
    const asUser = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${gatewayUrl}${path}`, {
        method,
        headers: { "content-type": "application/json", authorization: `tma ${initData}` },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: checked by the assertions below
      return ((await response.json()) as { data: any }).data;
    };
    const session = await asUser("GET", `/api/v1/payment/session/${sessionId}`);
    expect(session.language).toBe("ru");
    expect(session.plan.name).toBe("1 месяц");
    const card = SANDBOX_CARDS.uzcard1;
    const created = await asUser("POST", "/api/v1/checkout/create", {
      session_id: sessionId,
      amount: 2_900_000,
      auto_renew: true,
    });
    await asUser("POST", "/api/v1/checkout/pre-apply", {
      session_id: sessionId,
      transaction_id: created.transaction_id,
      card_number: card.pan,
      expiry: card.expiry,
    });
    const applied = await asUser("POST", "/api/v1/checkout/apply", {
      session_id: sessionId,
      transaction_id: created.transaction_id,
      otp: SANDBOX_OTP,
    });
    expect(applied.status).toBe("completed");
    await find("receipt", (t) => t.includes(`Оплата получена: 29${NBSP}000${NBSP}сум`));

    const account = await asUser("GET", `/api/v1/user/${telegramId}/subscription`);
    expect(account.language).toBe("ru");
    const endMs = Date.parse(account.subscription.end_date);
    // RENEWAL_LEAD_HOURS defaults to 24 in the gateway, as in the renewals worker.
    expect(Date.parse(account.subscription.next_charge_at)).toBe(endMs - 24 * 3_600_000);
    await client.sendCommand(client.makeCommand("/status"));
    const status = await find("status", (t) => t.includes("Следующее списание"));
    expect(status.message.text).toContain(
      `Следующее списание: ${formatDay(account.subscription.next_charge_at)}, 29${NBSP}000${NBSP}сум`,
    );
    expect(formatDay(account.subscription.next_charge_at)).not.toBe(formatDay(account.subscription.end_date));
  }, 60_000);
});
