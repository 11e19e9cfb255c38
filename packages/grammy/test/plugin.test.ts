// The plugin inside a host bot that is not ours: handleUpdate with a recorded Bot API and an
// in-memory gateway client (the HTTP client and the real gateway are covered by examples/host-bot).
import type { Entitlement, PlanListResponse } from "@obuna/contracts/http";
import { Bot, type Context } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { describe, expect, it } from "vitest";
import type { GatewayClient } from "../src/gateway-client";
import { GatewayError } from "../src/gateway-client";
import { type ObunaFlavor, obuna, requirePremium } from "../src/index";

const botInfo = {
  id: 42,
  is_bot: true,
  first_name: "Assistant",
  username: "assistant_test_bot",
} as UserFromGetMe;

const PLANS: PlanListResponse["plans"] = [
  {
    slug: "monthly",
    names: { uz: "1 Oylik", ru: "1 месяц", en: "1 Month" },
    price: "29 000 so'm",
    price_raw: 2_900_000,
    duration_days: 30,
  },
];

function standInGateway(premium: Set<number>, options: { down?: boolean } = {}) {
  const calls: string[] = [];
  const fail = () => {
    if (options.down) throw new GatewayError(null, null, "gateway unreachable");
  };
  const gateway: GatewayClient = {
    async getEntitlement(telegramId) {
      calls.push(`entitlement:${telegramId}`);
      fail();
      const active = premium.has(telegramId);
      const entitlement: Entitlement = {
        telegram_id: telegramId,
        active,
        status: active ? "active" : "none",
        plan: null,
        until: null,
        rail: active ? "card" : null,
        auto_renew: false,
        grace: { active: false, until: null },
      };
      return { status: "fresh", entitlement, etag: null };
    },
    async listPlans() {
      calls.push("plans");
      fail();
      return { plans: PLANS };
    },
    async getSubscription() {
      calls.push("subscription");
      fail();
      return { subscription: null };
    },
    async createLink() {
      throw new Error("not used");
    },
    async listPayments() {
      return { payments: [] };
    },
    async listCards() {
      return { cards: [] };
    },
    async cancelSubscription() {},
    async resumeSubscription() {},
    async setLanguage() {},
  };
  return { gateway, calls };
}

type HostContext = Context & ObunaFlavor & { t: string };

function hostBot(gateway: GatewayClient, pluginOptions: { handleErrors?: boolean } = {}) {
  const bot = new Bot<HostContext>("42:host-token", { botInfo });
  const sent: Array<{ method: string; payload: Record<string, unknown> }> = [];
  bot.api.config.use(async (_prev, method, payload) => {
    sent.push({ method, payload: payload as Record<string, unknown> });
    if (method === "sendMessage")
      return {
        ok: true,
        result: { message_id: sent.length, date: 0, chat: { id: 1, type: "private" } },
      } as never;
    return { ok: true, result: true } as never;
  });
  // The host's own i18n also lives at ctx.t: the plugin must not touch it.
  bot.use((ctx, next) => {
    ctx.t = "host-translation";
    return next();
  });
  bot.use(obuna<HostContext>({ gateway, ...pluginOptions }));
  bot.command("ask", requirePremium(), (ctx) => ctx.reply(`answer (${ctx.t})`));
  bot.callbackQuery("host:vote", (ctx) => ctx.answerCallbackQuery({ text: "voted" }));
  return { bot, sent };
}

let updateId = 1;
const from = (id: number, language_code = "en") => ({ id, is_bot: false, first_name: "U", language_code });
function command(text: string, userId: number, chat: "private" | "group" = "private"): Update {
  return {
    update_id: updateId++,
    message: {
      message_id: updateId,
      date: 0,
      chat:
        chat === "private"
          ? { id: userId, type: "private", first_name: "U" }
          : { id: -5, type: "group", title: "G" },
      from: from(userId),
      text,
      entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }],
    },
  } as Update;
}
function callback(data: string, userId: number, chat: "private" | "group" = "group"): Update {
  return {
    update_id: updateId++,
    callback_query: {
      id: String(updateId),
      from: from(userId),
      chat_instance: "ci",
      data,
      message: {
        message_id: 9,
        date: 0,
        chat:
          chat === "private"
            ? { id: userId, type: "private", first_name: "U" }
            : { id: -5, type: "group", title: "G" },
        text: "x",
      },
    },
  } as Update;
}

const texts = (sent: Array<{ method: string; payload: Record<string, unknown> }>) =>
  sent.filter((s) => s.method === "sendMessage").map((s) => String(s.payload.text));

describe("obuna() in a host bot", () => {
  it("requirePremium: a premium user reaches the command; a user without premium gets the upsell with the plans", async () => {
    const { gateway, calls } = standInGateway(new Set([100]));
    const { bot, sent } = hostBot(gateway);
    await bot.handleUpdate(command("/ask", 100));
    expect(texts(sent)).toEqual(["answer (host-translation)"]);

    await bot.handleUpdate(command("/ask", 200));
    const upsell = sent.at(-1)!;
    expect(upsell.payload.text).toBe("⭐ This is a Premium feature. Pick a plan:");
    const keyboard = upsell.payload.reply_markup as {
      inline_keyboard: Array<Array<{ callback_data: string }>>;
    };
    expect(keyboard.inline_keyboard.flat().map((b) => b.callback_data)).toEqual(["plan:monthly"]);
    expect(calls.filter((c) => c.startsWith("entitlement"))).toEqual(["entitlement:100", "entitlement:200"]);

    // Cached: the second /ask of the premium user does not ask the gateway again.
    await bot.handleUpdate(command("/ask", 100));
    expect(calls.filter((c) => c === "entitlement:100")).toHaveLength(1);
  });

  it("plugin.invalidate(id) makes the next premium-only command see a payment at once", async () => {
    const premium = new Set<number>();
    const { gateway } = standInGateway(premium);
    const bot = new Bot<HostContext>("42:host-token", { botInfo });
    const replies: string[] = [];
    bot.api.config.use(async (_prev, method, payload) => {
      if (method === "sendMessage") replies.push(String((payload as { text: string }).text));
      return { ok: true, result: { message_id: 1, date: 0, chat: { id: 1, type: "private" } } } as never;
    });
    const plugin = obuna<HostContext>({ gateway, premiumTtlMs: 60_000 });
    bot.use(plugin);
    bot.command("ask", requirePremium(), (ctx) => ctx.reply("answer"));
    await bot.handleUpdate(command("/ask", 300));
    premium.add(300);
    await bot.handleUpdate(command("/ask", 300));
    expect(replies.filter((r) => r === "answer")).toHaveLength(0);
    plugin.invalidate(300);
    await bot.handleUpdate(command("/ask", 300));
    expect(replies.at(-1)).toBe("answer");
  });

  it("in a group: the plugin's commands and buttons say 'open me in private'; the host's own buttons pass", async () => {
    const { gateway } = standInGateway(new Set());
    const { bot, sent } = hostBot(gateway);
    await bot.handleUpdate(command("/status", 200, "group"));
    expect(texts(sent).at(-1)).toContain("private chat");
    await bot.handleUpdate(callback("plan:monthly", 200));
    expect(sent.at(-1)!.payload).toMatchObject({ show_alert: true });
    await bot.handleUpdate(callback("host:vote", 200));
    expect(sent.at(-1)!.payload).toMatchObject({ text: "voted" });
    // requirePremium in a group points to the private chat instead of posting the plans there.
    await bot.handleUpdate(command("/ask", 200, "group"));
    expect(texts(sent).at(-1)).toBe("⭐ This is a Premium feature. To subscribe, open me in a private chat.");
  });

  it("gateway unreachable: requirePremium and the plugin's commands answer 'try later' in the user's language", async () => {
    const { gateway } = standInGateway(new Set(), { down: true });
    const { bot, sent } = hostBot(gateway);
    await bot.handleUpdate(command("/ask", 200));
    await bot.handleUpdate(command("/premium", 200));
    expect(texts(sent)).toEqual([
      "The service is temporarily unavailable. Please try again shortly.",
      "The service is temporarily unavailable. Please try again shortly.",
    ]);
  });

  it("handleErrors: false leaves the plugin's errors to the host (our own bot's boundary)", async () => {
    const { gateway } = standInGateway(new Set(), { down: true });
    const { bot } = hostBot(gateway, { handleErrors: false });
    await expect(bot.handleUpdate(command("/premium", 200))).rejects.toThrow(/gateway unreachable/);
  });
});
