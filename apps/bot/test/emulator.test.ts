import { run } from "@grammyjs/runner";
import { testRedisUrl } from "@obuna/db/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBot, registerCommands } from "../src/bot/index";
import { createRedisLanguageStore } from "../src/language-store";
import { createWebhookApp, WEBHOOK_PATH } from "../src/server";
import { buttonsOf, startEmulator } from "./emulator";
import {
  BOT_TOKEN,
  botInfo,
  commandUpdate,
  FakeGateway,
  recordApiCalls,
  silentLogger,
  subscriptionFixture,
  user,
  waitFor,
} from "./helpers";

const redis = new Redis(testRedisUrl(3));
const languages = createRedisLanguageStore(redis, `bot:lang:emulator:${Date.now()}:`);
afterAll(() => redis.disconnect());

describe("against telegram-test-api (long polling through @grammyjs/runner)", () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let runner: ReturnType<typeof run> | null = null;
  const gateway = new FakeGateway();
  const chatId = 4_100_001;

  beforeAll(async () => {
    emulator = await startEmulator();
    const bot = createBot(
      BOT_TOKEN,
      { gateway, languages, logger: silentLogger, enqueueRetryNow: async () => {} },
      { apiRoot: emulator.apiRoot },
    );
    await bot.init(); // getMe through the emulator
    await registerCommands(bot, silentLogger); // the emulator lacks setMyCommands: must not throw
    runner = run(bot);
  });

  afterAll(async () => {
    // The emulator's getUpdates ignores offset/timeout, so the runner spins: stop it first.
    if (runner?.isRunning()) await runner.stop();
    await emulator.stop();
  });

  it("/start → welcome and language buttons; /premium → plan → web_app payment button", async () => {
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: chatId,
      chatId,
      firstName: "Aziz",
      timeout: 5_000,
    });
    await client.sendCommand(client.makeCommand("/start"));
    const [welcome, languagesMessage] = await waitFor(
      () => {
        const messages = emulator.botMessages(chatId);
        return messages.length >= 2 ? messages : null;
      },
      5_000,
      "welcome",
    );
    expect(welcome!.message.text).toContain("Assalomu alaykum, Aziz");
    expect(buttonsOf(languagesMessage).map((b) => b.callback_data)).toEqual([
      "lang:uz",
      "lang:ru",
      "lang:en",
    ]);

    await client.sendCommand(client.makeCommand("/premium"));
    const plans = await waitFor(() => emulator.botMessages(chatId)[2], 5_000, "plans");
    const monthly = buttonsOf(plans).find((b) => b.callback_data === "plan:monthly");
    expect(monthly?.text).toBe("1 Oylik — 29\u00a0000\u00a0soʻm / 30 kun");

    await client.sendCallback(
      client.makeCallbackQuery("plan:monthly", { message: { message_id: plans.messageId } }),
    );
    const link = await waitFor(() => emulator.botMessages(chatId)[3], 5_000, "payment link");
    const [pay] = buttonsOf(link);
    expect(pay?.text).toBe("💳 Kartani ulash va to'lash");
    expect(pay?.web_app?.url).toMatch(/^https:\/\/miniapp\.example\/\?session_id=[0-9a-f-]{36}$/);
    expect(gateway.links.at(-1)).toMatchObject({
      telegram_id: chatId,
      plan_slug: "monthly",
      first_name: "Aziz",
    });
  });

  it("/cancel → confirm → the confirmation message is edited in place", async () => {
    const cancelChat = 4_100_002;
    gateway.subscriptions.set(cancelChat, subscriptionFixture({ id: 801 }));
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: cancelChat,
      chatId: cancelChat,
      timeout: 5_000,
    });
    await client.sendCommand(client.makeCommand("/cancel"));
    const confirm = await waitFor(() => emulator.botMessages(cancelChat)[0], 5_000, "confirmation");
    expect(buttonsOf(confirm).map((b) => b.callback_data)).toEqual(["cancel:yes:801", "cancel:no"]);
    await client.sendCallback(
      client.makeCallbackQuery("cancel:yes:801", { message: { message_id: confirm.messageId } }),
    );
    await waitFor(
      () => emulator.botMessages(cancelChat)[0]?.message.text.includes("o'chirildi"),
      5_000,
      "edit",
    );
    expect(gateway.cancelled).toEqual([801]);
  });
  it('/status@bot in a group answers "open me in private" and posts no account data', async () => {
    const member = 4_100_003;
    const groupId = -1_001_234_567;
    gateway.subscriptions.set(member, subscriptionFixture({ id: 802 }));
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: member,
      chatId: groupId,
      chatTitle: "Family chat",
      type: "group",
      timeout: 5_000,
    });
    for (const command of ["/status@TestNameBot", "/payments@TestNameBot", "/cancel@TestNameBot"]) {
      await client.sendCommand(client.makeCommand(command));
    }
    const answers = await waitFor(
      () => {
        const messages = emulator.botMessages(groupId);
        return messages.length >= 3 ? messages : null;
      },
      5_000,
      "group answers",
    );
    for (const answer of answers) {
      expect(answer.message.text).toBe(
        "Obuna va to'lovlar bilan faqat shaxsiy chatda ishlayman. Meni shaxsiy chatda oching.",
      );
      expect(answer.message.text).not.toMatch(/1234|Oylik|29 000/);
      expect(buttonsOf(answer).map((b) => (b as { url?: string }).url)).toEqual(["https://t.me/TestNameBot"]);
    }
    // Nothing went to the member's private chat either, and nothing changed.
    expect(emulator.botMessages(member)).toEqual([]);
    expect(gateway.cancelled).not.toContain(802);
  });
});

describe("webhook mode", () => {
  const secret = "webhook-secret-for-tests-123";

  function webhookBot() {
    const bot = createBot(
      BOT_TOKEN,
      { gateway: new FakeGateway(), languages, logger: silentLogger, enqueueRetryNow: async () => {} },
      { botInfo },
    );
    const calls = recordApiCalls(bot.api);
    return { app: createWebhookApp(bot, secret), calls };
  }

  const post = (app: ReturnType<typeof webhookBot>["app"], body: unknown, token?: string) =>
    app.request(WEBHOOK_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { "x-telegram-bot-api-secret-token": token } : {}),
      },
      body: JSON.stringify(body),
    });

  it("refuses updates without the right secret token header", async () => {
    const { app, calls } = webhookBot();
    expect((await post(app, commandUpdate("/help", user(4_200_001)))).status).toBe(401);
    expect(
      (await post(app, commandUpdate("/help", user(4_200_001)), "wrong-secret-wrong-secret")).status,
    ).toBe(401);
    expect(calls).toHaveLength(0);
  });

  it("handles an update carrying the secret token", async () => {
    const { app, calls } = webhookBot();
    const response = await post(app, commandUpdate("/help", user(4_200_002)), secret);
    expect(response.status).toBe(200);
    // grammY may answer with the method in the webhook reply or through the API; either way it is /help's text.
    const body = await response.text();
    const sentThroughApi = calls.find((c) => c.method === "sendMessage");
    expect(sentThroughApi ? String(sentThroughApi.payload.text) : body).toContain("/premium");
    expect((await app.request("/healthz")).status).toBe(200);
  });
});
