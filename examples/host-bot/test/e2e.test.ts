// The example host bot end to end, with real pieces: telegram-test-api ⇄ the assistant bot (its own
// token, the @obuna/grammy plugin with a SERVICE_TOKENS token) ⇄ the real gateway process ⇄ the ATMOS
// sandbox, Postgres and Redis. The Mini App's part (create → pre-apply → apply) is played over HTTP
// with initData signed by the assistant's token: the Mini App opens from the assistant's button.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { type RunningSandbox, SANDBOX_CARDS, SANDBOX_OTP, startSandbox } from "@obuna/atmos/sandbox";
import { findCardNumbers } from "@obuna/contracts/card";
import { HOST_BOT_SCOPES } from "@obuna/contracts/scopes";
import { signInitData } from "@obuna/contracts/testing";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import type { PremiumEvent } from "@obuna/grammy";
import TelegramServer from "telegram-test-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAssistantBot } from "../src/bot";
import { startEventsServer } from "../src/events";
import { REDIS_INDEX } from "./global-setup";

const gatewayDir = fileURLToPath(new URL("../../../apps/gateway/", import.meta.url));
const renewalsDir = fileURLToPath(new URL("../../../apps/renewals/", import.meta.url));
/** EVENTS_SIGNING_SECRET at Obuna = OBUNA_EVENTS_SECRET at the assistant. */
const EVENTS_SECRET = "assistant-example-events-secret";
/** The assistant's own bot token: the gateway's BOT_TOKEN too (the Mini App login is signed with it). */
const ASSISTANT_BOT_TOKEN = "777001:assistant-example-bot-token";
const OBUNA_TOKEN = "assistant-example-service-token";
const INTERNAL_TOKEN = "host-example-internal-token";
const TELEGRAM_ID = 5_100_001;

let sandbox: RunningSandbox;
let emulator: TelegramServer;
let gateway: ChildProcess;
let renewals: ChildProcess;
let renewalsOutput = "";
let events: Awaited<ReturnType<typeof startEventsServer>>;
const received: PremiumEvent[] = [];
const invalidated: number[] = [];
let gatewayUrl = "";
let gatewayOutput = "";
let assistant: ReturnType<typeof createAssistantBot>;
let polling: Promise<void> | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function startGateway(atmosUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    gateway = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: gatewayDir,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: testDatabaseUrl("host"),
        REDIS_URL: testRedisUrl(REDIS_INDEX),
        LOG_LEVEL: "info",
        GATEWAY_PORT: "0",
        // Every log line at once: the test reads the output as it goes.
        LOG_BUFFER_BYTES: "0",
        INTERNAL_API_TOKEN: INTERNAL_TOKEN,
        SERVICE_TOKENS: JSON.stringify({ "assistant-bot": { token: OBUNA_TOKEN, scopes: HOST_BOT_SCOPES } }),
        BOT_TOKEN: ASSISTANT_BOT_TOKEN,
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
    gateway.stdout!.on("data", onData);
    gateway.stderr!.on("data", onData);
    gateway.once("exit", (code) => reject(new Error(`gateway exited (${code}):\n${gatewayOutput}`)));
  });
}

/** The renewals worker (it delivers the signed events), its events relay every 300 ms. */
function startRenewals(atmosUrl: string, eventsUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    renewals = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: renewalsDir,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: testDatabaseUrl("host"),
        REDIS_URL: testRedisUrl(REDIS_INDEX),
        LOG_LEVEL: "info",
        RENEWALS_PORT: "0",
        ATMOS_BASE_URL: atmosUrl,
        ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
        ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
        ATMOS_STORE_ID: "11054",
        CARD_TOKEN_KEY: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ADMIN_TOKEN: "host-example-admin-token-0123",
        EVENTS_ENDPOINTS: eventsUrl,
        EVENTS_SIGNING_SECRET: EVENTS_SECRET,
        RENEWALS_EVENTS_RELAY_INTERVAL_MS: "500",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      renewalsOutput += chunk.toString();
      if (renewalsOutput.includes("renewals worker started")) resolve();
    };
    renewals.stdout!.on("data", onData);
    renewals.stderr!.on("data", onData);
    renewals.once("exit", (code) => reject(new Error(`renewals exited (${code}):\n${renewalsOutput}`)));
  });
}

type StoredMessage = {
  messageId: number;
  message: { chat_id: number | string; text: string; reply_markup?: unknown };
};
type Button = { text: string; callback_data?: string; web_app?: { url: string } };

function messagesTo(chatId: number): StoredMessage[] {
  return (emulator.storage.botMessages as unknown as StoredMessage[]).filter(
    (m) => Number(m.message.chat_id) === chatId,
  );
}

function buttonsOf(message: StoredMessage): Button[] {
  const markup = message.message.reply_markup as { inline_keyboard?: Button[][] } | string | undefined;
  const parsed =
    typeof markup === "string" ? (JSON.parse(markup) as { inline_keyboard?: Button[][] }) : markup;
  return parsed?.inline_keyboard?.flat() ?? [];
}

async function waitFor<T>(condition: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function miniApp<T>(path: string, body: unknown): Promise<T> {
  const initData = signInitData(
    { id: TELEGRAM_ID, first_name: "Kamola", language_code: "en" },
    ASSISTANT_BOT_TOKEN,
  );
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
  emulator = new TelegramServer({ port: await freePort(), host: "127.0.0.1", storeTimeout: 600 });
  await emulator.start();
  gatewayUrl = await startGateway(sandbox.url);
  sandbox.configure({ callbackUrl: `${gatewayUrl}/api/v1/checkout/callback` });
  // The default premium TTL (60 s): the test also shows the answer is not stuck at "no premium".
  assistant = createAssistantBot(ASSISTANT_BOT_TOKEN, {
    gatewayUrl,
    obunaToken: OBUNA_TOKEN,
    apiRoot: emulator.config.apiURL,
  });
  // The assistant's webhook for Obuna's signed events (what src/main.ts starts with OBUNA_EVENTS_SECRET).
  const invalidate = assistant.plugin.invalidate.bind(assistant.plugin);
  assistant.plugin.invalidate = (telegramId: number) => {
    invalidated.push(telegramId);
    invalidate(telegramId);
  };
  events = await startEventsServer({
    plugin: assistant.plugin,
    secret: EVENTS_SECRET,
    port: 0,
    host: "127.0.0.1",
    onEvent: (event) => {
      received.push(event);
    },
  });
  await startRenewals(sandbox.url, events.url);
  polling = assistant.bot.start({ drop_pending_updates: false });
  await waitFor(() => assistant.bot.isRunning() || undefined, "the assistant polling");
}, 60_000);

afterAll(async () => {
  await assistant?.bot.stop();
  await polling?.catch(() => {});
  if (renewals && renewals.exitCode === null) {
    const exited = new Promise((resolve) => renewals.once("exit", resolve));
    renewals.kill("SIGTERM");
    await exited;
  }
  events?.server.close();
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once("exit", resolve));
    gateway.kill("SIGTERM");
    await exited;
  }
  await emulator?.stop();
  await sandbox?.close();
});

describe("examples/host-bot: premium sold inside another bot through @obuna/grammy", () => {
  it("a user without premium gets the upsell on /ask, pays through the Mini App, and the next /ask answers", async () => {
    const client = emulator.getClient(ASSISTANT_BOT_TOKEN, {
      userId: TELEGRAM_ID,
      chatId: TELEGRAM_ID,
      firstName: "Kamola",
      timeout: 5_000,
    });
    const nth = (n: number, what: string) => waitFor(() => messagesTo(TELEGRAM_ID)[n], what);

    await client.sendCommand(client.makeCommand("/ask how do I grow tomatoes"));
    const upsell = await nth(0, "upsell");
    // telegram-test-api's users have no language_code: the plugin falls back to Uzbek.
    expect(upsell.message.text).toBe("⭐ Bu imkoniyat faqat Premium obunachilar uchun. Tarifni tanlang:");
    expect(buttonsOf(upsell).map((b) => b.callback_data)).toEqual([
      "plan:monthly",
      "plan:quarterly",
      "plan:yearly",
    ]);

    await client.sendCallback(
      client.makeCallbackQuery("plan:monthly", { message: { message_id: upsell.messageId } }),
    );
    const link = await nth(1, "payment link");
    const sessionId = new URL(buttonsOf(link)[0]!.web_app!.url).searchParams.get("session_id")!;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const card = SANDBOX_CARDS.uzcard1;
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

    // The renewals worker delivers premium.started to the assistant's webhook, signed; the plugin's
    // handler verified it and dropped the user's cached "no premium".
    const started = await waitFor(
      () => received.find((e) => e.type === "premium.started" && e.telegram_id === TELEGRAM_ID),
      "the signed premium.started event",
    );
    expect(started.subscription).toMatchObject({
      plan: "monthly",
      status: "active",
      active: true,
      auto_renew: true,
      rail: "card",
    });
    expect(invalidated).toContain(TELEGRAM_ID);
    // The worker logged the attempt: delivered with the webhook's 200.
    await waitFor(() => renewalsOutput.includes('"statusCode":200,') || undefined, "the delivery logged");

    // Within the 60 s TTL of the "no premium" answer: the open payment link made the plugin re-check.
    await client.sendCommand(client.makeCommand("/ask how do I grow tomatoes"));
    const answer = await nth(2, "premium answer");
    expect(answer.message.text).toBe("🤖 Your question has 5 word(s). A premium answer!");

    await client.sendCommand(client.makeCommand("/whoami"));
    expect((await nth(3, "whoami")).message.text).toMatch(/^Premium until \d{4}-\d\d-\d\dT/);

    // The plugin's account features work with the service token's scopes.
    await client.sendCommand(client.makeCommand("/status"));
    const status = await nth(4, "status");
    expect(status.message.text).toContain("faol");
    expect(status.message.text).toContain(`${card.pan.slice(0, 6)}******${card.pan.slice(-4)}`);

    // Premium is cached now: more premium commands do not ask the gateway each time.
    const entitlementRequests = () =>
      gatewayOutput.split("\n").filter((line) => line.includes(`/api/v1/entitlements/${TELEGRAM_ID}`)).length;
    const before = entitlementRequests();
    expect(before).toBeGreaterThanOrEqual(2);
    await client.sendCommand(client.makeCommand("/ask one more"));
    await nth(5, "second answer");
    expect(entitlementRequests()).toBe(before);

    // The service token never reached the gateway's logs, nor did a card number.
    expect(gatewayOutput).not.toContain(OBUNA_TOKEN);
    expect(findCardNumbers(gatewayOutput)).toEqual([]);
  });

  it("premiumOf() outside an update; a token the operator did not issue is refused (401)", async () => {
    const weak = createAssistantBot(ASSISTANT_BOT_TOKEN, {
      gatewayUrl,
      obunaToken: "not-an-issued-token-0000",
    });
    const entitlement = await weak.plugin.premiumOf(TELEGRAM_ID).catch((error: Error) => error);
    expect(entitlement).toBeInstanceOf(Error);
    expect((entitlement as Error & { status?: number }).status).toBe(401);
    // A forged or replayed event at the assistant's webhook is refused and changes nothing.
    const before = received.length;
    const genuine = received[0]!;
    const forged = await fetch(events.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "obuna-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"ab".repeat(32)}`,
      },
      body: JSON.stringify({ ...genuine, id: "5f0c4c1e-0000-4000-8000-000000000000" }),
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({ error: "bad_signature" });
    expect(received.length).toBe(before);
    const premium = await assistant.plugin.premiumOf(TELEGRAM_ID);
    expect(premium).toMatchObject({ active: true, status: "active", rail: "card", auto_renew: true });
  });
});
