import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run } from "@grammyjs/runner";
import { type RunningSandbox, SANDBOX_CARDS, startSandbox } from "@obuna/atmos/sandbox";
import { findCardNumbers } from "@obuna/contracts/card";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { createGatewayClient } from "@obuna/grammy/gateway-client";
import { formatDay } from "@obuna/grammy/i18n";
import { createRedisSupportStore } from "@obuna/grammy/support-store";
import type { Bot } from "grammy";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BotContext } from "../src/bot/context";
import { createBot } from "../src/bot/index";
import { setAccountMenuButton } from "../src/bot/telegram-api";
import { createRedisLanguageStore } from "../src/language-store";
import { startEmulatorWithStandIn } from "./bot-api-stand-in";
import { buttonsOf, startEmulator } from "./emulator";
import { createPayingUser, openTestDb } from "./fixtures";
import { startGatewayProcess } from "./gateway-process";
import { BOT_TOKEN, silentLogger, waitFor } from "./helpers";

/**
 * Issue 16: /paysupport conversations, the account button, replies that survive 429s.
 * telegram-test-api + the stand-in for the Bot API methods it lacks ⇄ bot (runner) ⇄ the real gateway
 * process ⇄ Postgres and Redis. Users, subscriptions and payments are rows in the test database.
 */
const INTERNAL_TOKEN = "internal-token-for-the-support-test";
const SUPPORT_CHAT = -1_001_600_016;
const OPERATOR = 4_600_900;
const ACCOUNT_URL = "https://miniapp.example/account";
/** A second bot (its own token) without SUPPORT_CHAT_ID, so the two runners never share updates. */
const CONTACT_BOT_TOKEN = "654321:contact-only-bot-token";

const dbHandle = openTestDb();
const redis = new Redis(testRedisUrl(3));
const run_ = `${Date.now()}`;
const languages = createRedisLanguageStore(redis, `bot:lang:support:${run_}:`);
const supportStore = createRedisSupportStore(redis, `bot:support:test:${run_}:`);

let sandbox: RunningSandbox;
let emulator: Awaited<ReturnType<typeof startEmulatorWithStandIn>>;
let gateway: Awaited<ReturnType<typeof startGatewayProcess>>;
let bot: Bot<BotContext>;
const runners: ReturnType<typeof run>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ storeId: "11054" });
  emulator = await startEmulatorWithStandIn();
  gateway = await startGatewayProcess(sandbox.url, INTERNAL_TOKEN);
  const gatewayClient = createGatewayClient({ baseUrl: gateway.url, internalToken: INTERNAL_TOKEN });
  const deps = { gateway: gatewayClient, languages, logger: silentLogger, enqueueRetryNow: async () => {} };
  bot = createBot(
    BOT_TOKEN,
    {
      ...deps,
      support: { chatId: SUPPORT_CHAT, contact: "@obuna_support", sessionTtlS: 600, store: supportStore },
      accountUrl: ACCOUNT_URL,
    },
    { apiRoot: emulator.apiRoot },
  );
  const contactBot = createBot(
    CONTACT_BOT_TOKEN,
    { ...deps, support: { chatId: null, contact: "@obuna_support", sessionTtlS: 600, store: supportStore } },
    { apiRoot: emulator.apiRoot },
  );
  await bot.init();
  await contactBot.init();
  runners.push(run(bot), run(contactBot));
}, 60_000);

afterAll(async () => {
  for (const runner of runners) if (runner.isRunning()) await runner.stop();
  await gateway?.stop();
  await emulator?.stop();
  await sandbox?.close();
  await dbHandle.close();
  redis.disconnect();
});

type Stored = ReturnType<typeof emulator.botMessages>[number];
const textOf = (m: Stored | undefined) => String(m?.message.text ?? "");
const replyTo = (m: Stored | undefined) =>
  (m?.message as { reply_parameters?: { message_id?: number } } | undefined)?.reply_parameters?.message_id;

/** Waits for the `n`-th (0-based) bot message in `chatId`. */
const nth = (chatId: number, n: number, what: string) =>
  waitFor(() => emulator.botMessages(chatId)[n], 10_000, what);

function userClient(telegramId: number, token = BOT_TOKEN) {
  return emulator.server.getClient(token, {
    userId: telegramId,
    chatId: telegramId,
    firstName: "Dilnoza",
    userName: "dilnoza",
    timeout: 5_000,
  });
}

/** An operator in the support group answering (Telegram "reply") a message the bot posted there. */
async function operatorReplies(to: Stored, text: string) {
  const operator = emulator.server.getClient(BOT_TOKEN, {
    userId: OPERATOR,
    chatId: SUPPORT_CHAT,
    chatTitle: "Obuna support",
    firstName: "Operator",
    type: "supergroup",
    timeout: 5_000,
  });
  await operator.sendMessage(
    operator.makeMessage(text, {
      reply_to_message: {
        message_id: to.messageId,
        date: Math.floor(Date.now() / 1000),
        from: { id: bot.botInfo.id, is_bot: true, first_name: bot.botInfo.first_name },
        chat: { id: SUPPORT_CHAT, type: "supergroup", title: "Obuna support" },
        text: textOf(to),
      },
    }),
  );
}

describe("/paysupport conversation", () => {
  it("forwards the next messages with a header (Telegram id, subscription, last payment); no 'I did not understand'", async () => {
    const paying = await createPayingUser(dbHandle.db, { languageCode: "en" });
    const id = paying.user.telegramId;
    await languages.set(id, "en");
    const client = userClient(id);
    const before = emulator.botMessages(SUPPORT_CHAT).length;

    await client.sendCommand(client.makeCommand("/paysupport"));
    const opened = await nth(id, 0, "support opened");
    expect(textOf(opened)).toContain("Describe the problem, date and amount");
    expect(buttonsOf(opened).map((b) => b.callback_data)).toEqual(["support:close"]);

    await client.sendMessage(client.makeMessage("I was charged twice on Monday, 29 000 each"));
    const header = await nth(SUPPORT_CHAT, before, "header in the support chat");
    const copy = await nth(SUPPORT_CHAT, before + 1, "the user's message in the support chat");
    expect(textOf(header)).toContain(`Telegram id: ${id} · Dilnoza (@dilnoza) · til: en`);
    expect(textOf(header)).toMatch(
      /Obuna: .+ · faol · 01\.12\.2026 gacha · avto: yoqilgan · 860049\*{6}1234/,
    );
    expect(textOf(header)).toContain(
      `Oxirgi to'lov: 29 000 so'm · muvaffaqiyatli · ${formatDay(paying.payment.createdAt)} · 860049******1234`,
    );
    expect(textOf(copy)).toBe("I was charged twice on Monday, 29 000 each");
    expect(replyTo(copy)).toBe(header.messageId);

    const ack = await nth(id, 1, "ack to the user");
    expect(textOf(ack)).toContain("Your message was sent to support");

    // A second message goes to the same thread, without a second header.
    await client.sendMessage(client.makeMessage("The card ends in 1234"));
    const second = await nth(SUPPORT_CHAT, before + 2, "second message");
    expect(textOf(second)).toBe("The card ends in 1234");
    expect(replyTo(second)).toBe(header.messageId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const userSaw = emulator.botMessages(id).map(textOf);
    expect(userSaw.join("\n")).not.toContain("I did not understand");
    expect(emulator.botMessages(SUPPORT_CHAT)).toHaveLength(before + 3);

    // An operator's reply reaches the user, prefixed, in their language.
    await operatorReplies(copy, "We see two attempts; the second was refunded today.");
    const answer = await nth(id, 2, "operator's answer");
    expect(textOf(answer)).toBe("💬 Support:\nWe see two attempts; the second was refunded today.");
  }, 30_000);

  it("after the conversation is closed, an operator's reply still arrives and the user's answer goes to the same thread", async () => {
    const paying = await createPayingUser(dbHandle.db, { languageCode: "ru" });
    const id = paying.user.telegramId;
    await languages.set(id, "ru");
    const client = userClient(id);
    const before = emulator.botMessages(SUPPORT_CHAT).length;
    await client.sendCommand(client.makeCommand("/paysupport"));
    const opened = await nth(id, 0, "opened");
    await client.sendMessage(client.makeMessage("Не прошла оплата"));
    const header = await nth(SUPPORT_CHAT, before, "header");
    await nth(id, 1, "ack");
    await client.sendCallback(
      client.makeCallbackQuery("support:close", { message: { message_id: opened.messageId } }),
    );
    expect(textOf(await nth(id, 2, "closed"))).toContain("Обращение закрыто");

    // Closed: free text is not forwarded.
    await client.sendMessage(client.makeMessage("hello?"));
    expect(textOf(await nth(id, 3, "unknown"))).toBe("Не понял. Список команд: /help");

    // The operator answers the header; the user gets it and can answer back.
    await operatorReplies(header, "Проверили: деньги вернулись на карту.");
    expect(textOf(await nth(id, 4, "answer"))).toBe("💬 Поддержка:\nПроверили: деньги вернулись на карту.");
    await client.sendMessage(client.makeMessage("Спасибо!"));
    const thanks = await waitFor(
      () => emulator.botMessages(SUPPORT_CHAT).find((m) => textOf(m) === "Спасибо!"),
      10_000,
      "user's answer in the support chat",
    );
    expect(replyTo(thanks)).toBe(header.messageId);
    expect(
      emulator
        .botMessages(SUPPORT_CHAT)
        .slice(before)
        .filter((m) => textOf(m).startsWith("🆘")),
    ).toHaveLength(1);
  }, 30_000);

  it("never forwards a message that holds a card number, and tells the user why", async () => {
    const paying = await createPayingUser(dbHandle.db);
    const id = paying.user.telegramId;
    const client = userClient(id);
    const pan = SANDBOX_CARDS.humo1.pan;
    const grouped = pan.replace(/(\d{4})(?=\d)/g, "$1 ");
    await client.sendCommand(client.makeCommand("/paysupport"));
    await nth(id, 0, "opened");
    const supportBefore = emulator.botMessages(SUPPORT_CHAT).length;
    const copiesBefore = emulator.calls.filter((c) => c.method === "copyMessage").length;

    await client.sendMessage(client.makeMessage(`My card is ${grouped}, exp 02/28`));
    expect(textOf(await nth(id, 1, "refusal"))).toContain("Karta raqamini hech kimga yozmang");
    await client.sendMessage(client.makeMessage(`again: ${pan}`));
    expect(textOf(await nth(id, 2, "refusal"))).toContain("karta raqami bor");

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(emulator.botMessages(SUPPORT_CHAT)).toHaveLength(supportBefore);
    expect(emulator.calls.filter((c) => c.method === "copyMessage")).toHaveLength(copiesBefore);
    const everythingInSupport = emulator.botMessages(SUPPORT_CHAT).map(textOf).join("\n");
    expect(findCardNumbers(everythingInSupport.replace(/[ -]/g, ""))).toEqual([]);

    // Still open: a message without the number goes through.
    await client.sendMessage(client.makeMessage("The card ends in 4364"));
    await waitFor(
      () => emulator.botMessages(SUPPORT_CHAT).some((m) => textOf(m) === "The card ends in 4364"),
      10_000,
      "clean message forwarded",
    );
  }, 30_000);

  it("without /paysupport, free text still gets 'I did not understand' and reaches nobody", async () => {
    const id = 4_600_004;
    const client = userClient(id);
    const before = emulator.botMessages(SUPPORT_CHAT).length;
    await client.sendMessage(client.makeMessage("hello"));
    expect(textOf(await nth(id, 0, "hint"))).toBe("Tushunmadim. Buyruqlar ro'yxati: /help");
    expect(emulator.botMessages(SUPPORT_CHAT)).toHaveLength(before);
  });

  it("a message in the support chat that answers nothing of ours goes to no user", async () => {
    const operator = emulator.server.getClient(BOT_TOKEN, {
      userId: OPERATOR,
      chatId: SUPPORT_CHAT,
      type: "supergroup",
      timeout: 5_000,
    });
    const sendsBefore = emulator.calls.filter((c) => c.method === "sendMessage").length;
    await operator.sendMessage(operator.makeMessage("morning all"));
    await operator.sendMessage(
      operator.makeMessage("reply to something else", {
        reply_to_message: { message_id: 999_999, chat: { id: SUPPORT_CHAT, type: "supergroup" }, date: 1 },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(emulator.calls.filter((c) => c.method === "sendMessage")).toHaveLength(sendsBefore);
  });

  it("without SUPPORT_CHAT_ID, /paysupport shows the configured contact", async () => {
    const id = 4_600_005;
    const client = userClient(id, CONTACT_BOT_TOKEN);
    await client.sendCommand(client.makeCommand("/paysupport"));
    const contact = await nth(id, 0, "contact");
    expect(textOf(contact)).toContain("To'lov bo'yicha savollar: @obuna_support");
    await client.sendMessage(client.makeMessage("hello?"));
    expect(textOf(await nth(id, 1, "hint"))).toBe("Tushunmadim. Buyruqlar ro'yxati: /help");
  });

  it("/paysupport in a group points to the private chat and opens nothing", async () => {
    const member = 4_600_006;
    const group = -1_001_600_099;
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: member,
      chatId: group,
      type: "group",
      timeout: 5_000,
    });
    await client.sendCommand(client.makeCommand("/paysupport@TestNameBot"));
    expect(textOf(await nth(group, 0, "in private"))).toContain("faqat shaxsiy chatda");
    expect(await supportStore.get(member)).toBeNull();
  });
});

describe("account reachable from the bot", () => {
  it("/status carries a web_app button to the Mini App's /account", async () => {
    const paying = await createPayingUser(dbHandle.db);
    const id = paying.user.telegramId;
    const client = userClient(id);
    await client.sendCommand(client.makeCommand("/status"));
    const status = await nth(id, 0, "status");
    expect(textOf(status)).toContain("Holat: faol");
    expect(buttonsOf(status)).toEqual([{ text: "👤 Kabinet", web_app: { url: ACCOUNT_URL } }]);
  });

  it("the chat menu button opens /account; an emulator without setChatMenuButton is tolerated", async () => {
    expect(await setAccountMenuButton(bot.api, ACCOUNT_URL, "👤 Kabinet", silentLogger)).toBe(true);
    expect(emulator.menuButton()).toEqual({
      type: "web_app",
      text: "👤 Kabinet",
      web_app: { url: ACCOUNT_URL },
    });

    const bare = await startEmulator(); // telegram-test-api alone: no setChatMenuButton
    try {
      const other = createBot(
        BOT_TOKEN,
        {
          gateway: createGatewayClient({ baseUrl: gateway.url, internalToken: INTERNAL_TOKEN }),
          languages,
          logger: silentLogger,
          enqueueRetryNow: async () => {},
        },
        { apiRoot: bare.apiRoot },
      );
      await other.init();
      expect(await setAccountMenuButton(other.api, ACCOUNT_URL, "👤 Kabinet", silentLogger)).toBe(false);
    } finally {
      await bare.stop();
    }
  });
});

describe("replies survive floods", () => {
  it("a reply that gets 429 retry_after is sent again after the wait and arrives", async () => {
    const id = 4_600_007;
    const client = userClient(id);
    emulator.failNext("sendMessage", {
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
    await client.sendCommand(client.makeCommand("/help"));
    const help = await nth(id, 0, "help after the 429");
    expect(textOf(help)).toContain("/premium — tarif tanlash va to'lash");
    const attempts = emulator.calls.filter(
      (c) => c.method === "sendMessage" && Number(c.payload.chat_id) === id,
    );
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(emulator.botMessages(id)).toHaveLength(1);
  });

  it("a 429 asking for longer than the bound is not waited for: the handler does not hang", async () => {
    const id = 4_600_008;
    const client = userClient(id);
    const tooLong = {
      ok: false as const,
      error_code: 429,
      description: "Too Many Requests: retry after 60",
      parameters: { retry_after: 60 },
    };
    emulator.failNext("sendMessage", tooLong); // the /help reply
    emulator.failNext("sendMessage", tooLong); // the error boundary's "something went wrong"
    const startedAt = Date.now();
    await client.sendCommand(client.makeCommand("/help"));
    const attempts = await waitFor(
      () => {
        const mine = emulator.calls.filter(
          (c) => c.method === "sendMessage" && Number(c.payload.chat_id) === id,
        );
        return mine.length >= 2 ? mine : null;
      },
      5_000,
      "both refused sends",
    );
    expect(attempts[1]!.at - startedAt).toBeLessThan(3_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      emulator.calls.filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === id),
    ).toHaveLength(2);
    expect(emulator.botMessages(id)).toEqual([]);
  });
});

describe("the bot process", () => {
  it("sets the menu button to MINIAPP_URL/account at start", async () => {
    const appDir = fileURLToPath(new URL("..", import.meta.url));
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: appDir,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: testDatabaseUrl("bot"),
        REDIS_URL: testRedisUrl(3),
        BOT_TOKEN: "777777:menu-button-process-token",
        TELEGRAM_API_ROOT: emulator.apiRoot,
        BOT_MODE: "webhook",
        BOT_WEBHOOK_URL: "http://127.0.0.1:9/hook",
        BOT_WEBHOOK_PORT: "0",
        BOT_WEBHOOK_SECRET: "menu-button-webhook-secret",
        GATEWAY_URL: gateway.url,
        INTERNAL_API_TOKEN: INTERNAL_TOKEN,
        MINIAPP_URL: "https://shop.example/app/",
      },
      stdio: "ignore",
    });
    try {
      const call = await waitFor(
        () =>
          emulator.calls.find(
            (c) =>
              c.method === "setChatMenuButton" &&
              !("chat_id" in c.payload) &&
              JSON.stringify(c.payload).includes("shop.example"),
          ),
        20_000,
        "setChatMenuButton from the process",
      );
      expect(call.payload.menu_button).toEqual({
        type: "web_app",
        text: "👤 Kabinet",
        web_app: { url: "https://shop.example/app/account" },
      });
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }, 30_000);
});
