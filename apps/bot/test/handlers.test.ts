import { QUEUES, RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { testRedisUrl } from "@obuna/db/testing";
import { GatewayError } from "@obuna/grammy/gateway-client";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createBot } from "../src/bot/index";
import { createRedisLanguageStore } from "../src/language-store";
import {
  BOT_TOKEN,
  botInfo,
  callbackUpdate,
  commandUpdate,
  FakeGateway,
  type RecordedCall,
  recordApiCalls,
  silentLogger,
  subscriptionFixture,
  user,
} from "./helpers";

const redis = new Redis(testRedisUrl(3));
const queueConnection = new Redis(testRedisUrl(3), { maxRetriesPerRequest: null });
const renewalsQueue = new Queue(`${QUEUES.renewals}-handlers-test`, { connection: queueConnection });
const languages = createRedisLanguageStore(redis, `bot:lang:handlers:${Date.now()}:`);

let gateway: FakeGateway;
let calls: RecordedCall[];
let bot: ReturnType<typeof createBot>;
let nextUserId = 5_000_000;

beforeEach(async () => {
  gateway = new FakeGateway();
  bot = createBot(
    BOT_TOKEN,
    {
      gateway,
      languages,
      logger: silentLogger,
      async enqueueRetryNow(job, jobId) {
        await renewalsQueue.add(RENEWAL_JOBS.retryNow, job, { jobId });
      },
    },
    { botInfo },
  );
  calls = recordApiCalls(bot.api);
});

afterAll(async () => {
  await renewalsQueue.obliterate({ force: true });
  await renewalsQueue.close();
  queueConnection.disconnect();
  redis.disconnect();
});

const sent = () => calls.filter((c) => c.method === "sendMessage" || c.method === "editMessageText");
const lastText = () => String(sent().at(-1)?.payload.text ?? "");
const answers = () => calls.filter((c) => c.method === "answerCallbackQuery");
type Keyboard = { inline_keyboard: { text: string; callback_data?: string; web_app?: { url: string } }[][] };
const keyboardOf = (call: RecordedCall | undefined) =>
  (call?.payload.reply_markup as Keyboard | undefined)?.inline_keyboard.flat() ?? [];

/** The same update, sent in a group chat (any member sees the bot's answer there). */
function inGroup(update: ReturnType<typeof commandUpdate>): ReturnType<typeof commandUpdate> {
  const group = { id: -1_009_876_543, type: "group" as const, title: "Family chat" };
  if (update.message) return { ...update, message: { ...update.message, chat: group } } as typeof update;
  const query = update.callback_query!;
  return {
    ...update,
    callback_query: { ...query, message: { ...query.message!, chat: group } },
  } as typeof update;
}

describe("group chats: account commands and buttons only in private", () => {
  it('/status@bot in a group answers "open me in private" and asks the gateway nothing', async () => {
    const from = user(nextUserId++, "en");
    gateway.subscriptions.set(from.id, subscriptionFixture());
    let asked = 0;
    const getSubscription = gateway.getSubscription.bind(gateway);
    gateway.getSubscription = async (id: number) => {
      asked++;
      return getSubscription(id);
    };
    for (const command of [
      "/status@obuna_test_bot",
      "/status",
      "/payments",
      "/premium",
      "/start",
      "/cancel",
      "/resume",
    ]) {
      await bot.handleUpdate(inGroup(commandUpdate(command, from)));
    }
    expect(sent()).toHaveLength(7);
    for (const call of sent()) {
      expect(call.payload.chat_id).toBe(-1_009_876_543);
      expect(call.payload.text).toBe(
        "Subscriptions and payments work only in a private chat. Open me in private.",
      );
      expect(keyboardOf(call)).toEqual([
        { text: "Open in private chat", url: "https://t.me/obuna_test_bot" },
      ]);
    }
    expect(asked).toBe(0);
    // /help still answers in the group; the same /status in private shows the account.
    await bot.handleUpdate(inGroup(commandUpdate("/help", from)));
    expect(lastText()).toContain("Commands:");
    await bot.handleUpdate(commandUpdate("/status", from));
    expect(sent().at(-1)!.payload.chat_id).toBe(from.id);
    expect(lastText()).toContain("1234");
  });

  it("a button pressed in a group is refused and changes nothing", async () => {
    const from = user(nextUserId++, "ru");
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 7001 }));
    for (const data of ["cancel:yes:7001", "plan:monthly", "premium", "lang:en"]) {
      await bot.handleUpdate(inGroup(callbackUpdate(data, from)));
    }
    expect(answers()).toHaveLength(4);
    for (const answer of answers()) {
      expect(answer.payload).toMatchObject({
        text: "Подписка и платежи — только в личном чате. Откройте меня в личном чате.",
        show_alert: true,
      });
    }
    expect(sent()).toEqual([]);
    expect(gateway.cancelled).toEqual([]);
    expect(gateway.links).toEqual([]);
  });
});

describe("/start and languages", () => {
  it("welcomes in Uzbek by default and offers the language choice", async () => {
    const from = user(nextUserId++, "de");
    await bot.handleUpdate(commandUpdate("/start", from));
    const [welcome, choice] = sent();
    expect(welcome!.payload.chat_id).toBe(from.id);
    expect(String(welcome!.payload.text)).toContain("Assalomu alaykum, User");
    expect(keyboardOf(choice).map((b) => b.callback_data)).toEqual(["lang:uz", "lang:ru", "lang:en"]);
  });

  it("speaks the user's Telegram language, and a chosen language sticks", async () => {
    const from = user(nextUserId++, "ru");
    await bot.handleUpdate(commandUpdate("/help", from));
    expect(lastText()).toContain("Команды");
    await bot.handleUpdate(callbackUpdate("lang:en", from));
    expect(answers().at(-1)!.payload.text).toBe("Language changed: English ✅");
    await bot.handleUpdate(commandUpdate("/help", from));
    expect(lastText()).toContain("Commands:");
  });

  it("answers /terms and /paysupport", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(commandUpdate("/terms", from));
    expect(lastText()).toContain("Shartlar");
    // Without SUPPORT_CHAT_ID / SUPPORT_CONTACT it says so instead of "write here" (issue 16;
    // the conversation itself is in support.test.ts).
    await bot.handleUpdate(commandUpdate("/paysupport", from));
    expect(lastText()).toContain("To'lov bo'yicha yordam hozircha sozlanmagan");
  });
});

describe("/premium", () => {
  it("lists the plans with price and period as buttons", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(commandUpdate("/premium", from));
    const buttons = keyboardOf(sent().at(-1));
    expect(buttons.map((b) => b.text)).toEqual([
      "1 Oylik — 29\u00a0000\u00a0soʻm / 30 kun",
      "1 Yillik — 290\u00a0000\u00a0soʻm / 365 kun",
    ]);
    expect(buttons.map((b) => b.callback_data)).toEqual(["plan:monthly", "plan:yearly"]);
  });

  it("shows a premium user their end date and still lets them extend", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ end_date: "2026-12-01T00:00:00.000Z" }));
    await bot.handleUpdate(commandUpdate("/premium", from));
    expect(lastText()).toContain("01.12.2026 gacha");
    expect(keyboardOf(sent().at(-1))).toHaveLength(2);
  });

  it("a plan button answers with a web_app button to the payment URL and the link's expiry", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(callbackUpdate("plan:yearly", from));
    expect(answers()).toHaveLength(1);
    expect(gateway.links).toEqual([
      {
        telegram_id: from.id,
        plan_slug: "yearly",
        username: from.username,
        first_name: from.first_name,
        language_code: "uz",
      },
    ]);
    const [button] = keyboardOf(sent().at(-1));
    expect(button!.text).toBe("💳 Kartani ulash va to'lash");
    expect(button!.web_app!.url).toMatch(/session_id=00000000-0000-4000-8000-/);
    expect(lastText()).toContain("28.11.2026 15:30"); // 10:30 UTC shown in Tashkent time
  });

  it("too many links: the bot says how long to wait, in the user's language", async () => {
    gateway.createLinkFailure = new GatewayError("RATE_LIMITED", 429, "Too many", "req_1", 1750);
    try {
      const expected: Array<[string, string]> = [
        ["uz", "30 daqiqadan keyin qayta urinib ko'ring"],
        ["ru", "Попробуйте снова через 30 минут"],
        ["en", "Please try again in 30 minutes"],
      ];
      for (const [lang, text] of expected) {
        const from = user(nextUserId++, lang);
        await bot.handleUpdate(callbackUpdate("plan:monthly", from));
        expect(lastText()).toContain(text);
        expect(keyboardOf(sent().at(-1))).toHaveLength(0);
      }
      gateway.createLinkFailure = new GatewayError("RATE_LIMITED", 429, "Too many", "req_2", 45);
      await bot.handleUpdate(callbackUpdate("plan:monthly", user(nextUserId++, "ru")));
      expect(lastText()).toContain("через 45 секунд");
    } finally {
      gateway.createLinkFailure = null;
    }
    expect(gateway.links).toHaveLength(0);
  });

  it("a button for a plan that is gone says it is stale", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(callbackUpdate("plan:quarterly", from));
    expect(answers()).toHaveLength(1);
    expect(lastText()).toContain("eskirgan");
    // A malformed slug (admins may create any `[a-z][a-z0-9_-]{1,31}` plan, so "weekly" is a fine one).
    await bot.handleUpdate(callbackUpdate("plan:9weekly", from));
    expect(answers().at(-1)!.payload.text).toContain("eskirgan");
    // An admin-made slug with digits and a dash reaches the gateway like any plan (this fake one
    // knows no such plan: a plain answer, then the stale message).
    const answered = answers().length;
    await bot.handleUpdate(callbackUpdate("plan:test-2", from));
    expect(answers()).toHaveLength(answered + 1);
    expect(answers().at(-1)!.payload.text).toBeUndefined();
    expect(lastText()).toContain("eskirgan");
  });
});

describe("/status and /payments", () => {
  it("shows plan, end date, auto-renew, masked card and next charge", async () => {
    const from = user(nextUserId++, "en");
    // The charge is tried a day before the end date: that day is "next charge", not the end date.
    gateway.subscriptions.set(from.id, subscriptionFixture({ next_charge_at: "2026-11-29T23:00:00.000Z" }));
    await bot.handleUpdate(commandUpdate("/status", from));
    const text = lastText();
    expect(text).toContain("Plan: 1 Month");
    expect(text).toContain("Valid until: 01.12.2026");
    expect(text).toContain("Auto-renew: on");
    expect(text).toContain("860049******1234");
    expect(text).toContain("Next charge: 30.11.2026, UZS\u00a029,000");
  });

  it("says so when there is no subscription, also for a user the gateway never saw", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(commandUpdate("/status", from));
    expect(lastText()).toContain("faol obuna yo'q");
    gateway.failure = new GatewayError("USER_NOT_FOUND", 404, "no user");
    await bot.handleUpdate(commandUpdate("/payments", from));
    expect(lastText()).toContain("to'lovlar yo'q");
  });

  it("lists the last payments with date, amount, status, masked card and the receipt link", async () => {
    const from = user(nextUserId++);
    gateway.payments.set(from.id, [
      {
        id: 2,
        kind: "renewal",
        status: "failed",
        amount: 2_900_000,
        amount_formatted: "29 000 so'm",
        card_masked: "860049******1234",
        plan_slug: "monthly",
        receipt_url: null,
        created_at: "2026-11-20T20:00:00.000Z",
      },
      {
        id: 1,
        kind: "initial",
        status: "success",
        amount: 2_900_000,
        amount_formatted: "29 000 so'm",
        card_masked: null,
        plan_slug: "monthly",
        receipt_url: "https://ofd.soliq.uz/check?t=UZ1&r=2",
        created_at: "2026-10-21T06:00:00.000Z",
      },
    ]);
    await bot.handleUpdate(commandUpdate("/payments", from));
    expect(lastText().split("\n")).toEqual([
      "🧾 Oxirgi to'lovlar:",
      "21.11.2026 · 29\u00a0000\u00a0soʻm · muvaffaqiyatsiz · 860049******1234",
      "21.10.2026 · 29\u00a0000\u00a0soʻm · muvaffaqiyatli",
      "🧾 Chek: https://ofd.soliq.uz/check?t=UZ1&r=2",
    ]);
  });

  it("tells the user when the gateway is unreachable instead of failing silently", async () => {
    const from = user(nextUserId++);
    gateway.failure = new GatewayError(null, null, "gateway unreachable: ECONNREFUSED");
    await bot.handleUpdate(commandUpdate("/status", from));
    expect(lastText()).toContain("vaqtincha ishlamayapti");
    const before = sent().length;
    await bot.handleUpdate(callbackUpdate("plan:monthly", from));
    expect(answers().length).toBeGreaterThanOrEqual(1);
    expect(sent()).toHaveLength(before + 1);
    expect(lastText()).toContain("vaqtincha ishlamayapti");
  });
});

describe("/cancel and /resume", () => {
  it("asks for confirmation, then turns auto-renew off", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 601 }));
    await bot.handleUpdate(commandUpdate("/cancel", from));
    expect(keyboardOf(sent().at(-1)).map((b) => b.callback_data)).toEqual(["cancel:yes:601", "cancel:no"]);
    expect(gateway.cancelled).toEqual([]);
    await bot.handleUpdate(callbackUpdate("cancel:yes:601", from));
    expect(gateway.cancelled).toEqual([601]);
    expect(answers()).toHaveLength(1);
    expect(lastText()).toContain("Avtomatik yangilash o'chirildi");
    // A second tap on the same button does not cancel twice.
    await bot.handleUpdate(callbackUpdate("cancel:yes:601", from));
    expect(gateway.cancelled).toEqual([601]);
    expect(lastText()).toContain("allaqachon o'chirilgan");
  });

  it("never cancels a subscription that is not the caller's (stale or forged button)", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 602 }));
    await bot.handleUpdate(callbackUpdate("cancel:yes:999", from));
    expect(gateway.cancelled).toEqual([]);
    expect(answers().at(-1)!.payload.text).toContain("eskirgan");
  });

  it("keeps the subscription when the user says no", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(callbackUpdate("cancel:no", from));
    expect(lastText()).toContain("o'zgarmadi");
    expect(answers()).toHaveLength(1);
  });

  it("resumes only with a saved card", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(
      from.id,
      subscriptionFixture({ id: 603, auto_renew: false, card: null, next_charge: null }),
    );
    await bot.handleUpdate(commandUpdate("/resume", from));
    expect(lastText()).toContain("Saqlangan karta yo'q");
    expect(gateway.resumed).toEqual([]);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 603, auto_renew: false }));
    await bot.handleUpdate(commandUpdate("/resume", from));
    expect(gateway.resumed).toEqual([603]);
    expect(lastText()).toContain("Avtomatik yangilash yoqildi");
  });
});

describe("renewal recovery buttons", () => {
  it("retry now enqueues one renewals job per message, however often it is tapped", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 701, status: "past_due" }));
    await bot.handleUpdate(callbackUpdate("rf:retry:701", from, 55));
    await bot.handleUpdate(callbackUpdate("rf:retry:701", from, 55));
    const job = await renewalsQueue.getJob("retry-now-701-55");
    expect(job?.name).toBe(RENEWAL_JOBS.retryNow);
    expect(job?.data).toEqual({ subscriptionId: 701, requestedByTelegramId: from.id });
    expect(await renewalsQueue.getJobCounts("wait")).toEqual({ wait: 1 });
    expect(answers()).toHaveLength(2);
  });

  it("retry now on an active subscription is refused with an answer", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 702 }));
    await bot.handleUpdate(callbackUpdate("rf:retry:702", from));
    expect(answers().at(-1)!.payload.text).toContain("bo'lmaydi");
  });

  it("pay with another card opens a fresh payment link for the same plan", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 703, status: "past_due" }));
    await bot.handleUpdate(callbackUpdate("rf:pay:703", from));
    expect(gateway.links.map((l) => l.plan_slug)).toEqual(["monthly"]);
    expect(keyboardOf(sent().at(-1))[0]!.web_app!.url).toContain("session_id=");
  });

  it("turn auto-renew off cancels through the gateway", async () => {
    const from = user(nextUserId++);
    gateway.subscriptions.set(from.id, subscriptionFixture({ id: 704, status: "past_due" }));
    await bot.handleUpdate(callbackUpdate("rf:off:704", from));
    expect(gateway.cancelled).toEqual([704]);
    expect(lastText()).toContain("o'chirildi");
  });
});

describe("robustness", () => {
  it("answers every unknown callback as stale and hints on unknown text", async () => {
    const from = user(nextUserId++);
    await bot.handleUpdate(callbackUpdate("something:old", from));
    expect(answers()).toHaveLength(1);
    expect(answers()[0]!.payload.show_alert).toBe(true);
    await bot.handleUpdate({
      ...commandUpdate("hello", from),
      message: { ...commandUpdate("hello", from).message!, entities: [] },
    });
    expect(lastText()).toContain("/help");
  });

  it("an update that throws does not stop the bot", async () => {
    const from = user(nextUserId++);
    gateway.failure = new GatewayError("INTERNAL_ERROR", 500, "boom");
    await bot.handleUpdate(commandUpdate("/premium", from));
    expect(lastText()).toContain("vaqtincha");
    gateway.failure = null;
    await bot.handleUpdate(commandUpdate("/premium", from));
    expect(keyboardOf(sent().at(-1))).toHaveLength(2);
  });
});
