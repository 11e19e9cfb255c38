import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EnvError } from "@obuna/contracts/env";
import { describe, expect, it } from "vitest";
import { loadBotConfig } from "../src/env";

const appDir = fileURLToPath(new URL("..", import.meta.url));

const VALID = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/obuna_test_bot",
  REDIS_URL: "redis://127.0.0.1:6379/3",
  BOT_TOKEN: "123456:local-development-token",
  GATEWAY_URL: "http://127.0.0.1:8030",
  INTERNAL_API_TOKEN: "dev-internal-token-change-me",
};

function problemsOf(source: Record<string, string | undefined>): string[] {
  try {
    loadBotConfig(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

/** Runs the real entry point with exactly `env` (no .env file) and returns its exit code and stderr. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // A process that should have refused to start is stopped, so a failing run leaves nothing behind.
    const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    });
  });
}

describe("bot env: support, account button, notification budget (issue 16)", () => {
  it("defaults: no support chat, no account button, 25 notifications/s, 1 h conversations", () => {
    const config = loadBotConfig(VALID);
    expect(config.support).toEqual({ chatId: null, contact: null, sessionTtlS: 3_600 });
    expect(config.accountUrl).toBeNull();
    expect(config.notificationsPerSecond).toBe(25);
  });

  it("reads SUPPORT_CHAT_ID, SUPPORT_CONTACT, SUPPORT_SESSION_TTL_S, MINIAPP_URL, NOTIFICATIONS_PER_SECOND", () => {
    const config = loadBotConfig({
      ...VALID,
      SUPPORT_CHAT_ID: "-1001234567890",
      SUPPORT_CONTACT: " @obuna_support ",
      SUPPORT_SESSION_TTL_S: "900",
      MINIAPP_URL: "https://pay.example.uz/",
      NOTIFICATIONS_PER_SECOND: "20",
    });
    expect(config.support).toEqual({
      chatId: -1_001_234_567_890,
      contact: "@obuna_support",
      sessionTtlS: 900,
    });
    expect(config.accountUrl).toBe("https://pay.example.uz/account");
    expect(config.notificationsPerSecond).toBe(20);
    // Telegram refuses http Web App URLs (a /status with such a button would fail): no button then.
    expect(loadBotConfig({ ...VALID, MINIAPP_URL: "http://127.0.0.1:8050" }).accountUrl).toBeNull();
  });

  it("refuses a non-numeric support chat and a notification budget above Telegram's 30/s", () => {
    expect(
      problemsOf({ ...VALID, SUPPORT_CHAT_ID: "@support_group", NOTIFICATIONS_PER_SECOND: "31" }).map(
        (problem) => problem.split(" ")[0],
      ),
    ).toEqual(["SUPPORT_CHAT_ID", "NOTIFICATIONS_PER_SECOND"]);
  });
});

describe("bot env", () => {
  it("defaults to long polling against Telegram's API", () => {
    const config = loadBotConfig(VALID);
    expect(config.mode).toEqual({ kind: "polling" });
    expect(config.telegramApiRoot).toBe("https://api.telegram.org");
    expect(config.adminChatId).toBeNull();
  });

  it("webhook mode requires its URL and secret, and then carries them", () => {
    expect(problemsOf({ ...VALID, BOT_MODE: "webhook" })).toEqual([
      "BOT_WEBHOOK_URL is invalid: BOT_WEBHOOK_URL is required when BOT_MODE=webhook",
      "BOT_WEBHOOK_SECRET is invalid: BOT_WEBHOOK_SECRET is required when BOT_MODE=webhook",
    ]);
    const config = loadBotConfig({
      ...VALID,
      BOT_MODE: "webhook",
      BOT_WEBHOOK_URL: "https://bot.example.uz",
      BOT_WEBHOOK_SECRET: "s3cret-s3cret-s3cret",
      BOT_WEBHOOK_PORT: "9000",
      ADMIN_CHAT_ID: "-100200300",
    });
    expect(config.mode).toEqual({
      kind: "webhook",
      url: "https://bot.example.uz",
      port: 9000,
      secretToken: "s3cret-s3cret-s3cret",
    });
    expect(config.adminChatId).toBe(-100200300);
  });

  it("names malformed variables without echoing their values", () => {
    const problems = problemsOf({
      ...VALID,
      BOT_TOKEN: "not-a-token",
      BOT_MODE: "carrier-pigeon",
      GATEWAY_URL: "",
    });
    expect(problems.join("\n")).toMatch(/BOT_TOKEN is invalid/);
    expect(problems.join("\n")).toMatch(/BOT_MODE is invalid/);
    expect(problems.join("\n")).toMatch(/GATEWAY_URL is required but missing/);
    expect(problems.join("\n")).not.toContain("not-a-token");
  });

  it("the bot process exits non-zero naming BOT_TOKEN when it is missing", async () => {
    const { BOT_TOKEN: _omit, ...withoutToken } = VALID;
    const { code, stderr } = await runMain(withoutToken);
    expect(code).toBe(1);
    expect(stderr).toContain("BOT_TOKEN is required but missing");
  });

  it("the bot process exits non-zero naming a malformed variable", async () => {
    const { code, stderr } = await runMain({ ...VALID, BOT_TOKEN: "garbage", BOT_MODE: "webhook" });
    expect(code).toBe(1);
    expect(stderr).toContain("BOT_TOKEN is invalid");
    expect(stderr).toContain("BOT_WEBHOOK_SECRET");
    expect(stderr).not.toContain("garbage");
  });
});

/** `.env.example` at the repository root as `{NAME: value}`. */
function envExample(): Record<string, string> {
  const text = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

const PRODUCTION = {
  ...VALID,
  NODE_ENV: "production",
  BOT_TOKEN: "7012345678:AAFq3bq2x0yZ-production-token-from-botfather",
  INTERNAL_API_TOKEN: "prod-internal-6f1c2b7e9a4d4c0f8e2a1b3c5d7e9f01",
};

describe("bot env in production (NODE_ENV=production)", () => {
  it("refuses the .env.example secrets by name; accepts proper ones", () => {
    const problems = problemsOf({ ...envExample(), NODE_ENV: "production" });
    expect(problems.map((problem) => problem.split(" ")[0]).sort()).toEqual([
      "BOT_TOKEN",
      "INTERNAL_API_TOKEN",
    ]);
    expect(problems.join("\n")).not.toContain("local-development-token");
    expect(problemsOf(PRODUCTION)).toEqual([]);
  });

  it("refuses a webhook secret and an internal token shorter than 32 characters", () => {
    expect(
      problemsOf({
        ...PRODUCTION,
        INTERNAL_API_TOKEN: "sixteen-chars-ok!",
        BOT_MODE: "webhook",
        BOT_WEBHOOK_URL: "https://bot.example.uz",
        BOT_WEBHOOK_SECRET: "s3cret-s3cret-s3cret",
      }),
    ).toEqual([
      "BOT_WEBHOOK_SECRET must be at least 32 characters in production",
      "INTERNAL_API_TOKEN must be at least 32 characters in production",
    ]);
    expect(
      problemsOf({
        ...PRODUCTION,
        BOT_MODE: "webhook",
        BOT_WEBHOOK_URL: "https://bot.example.uz",
        BOT_WEBHOOK_SECRET: "Wh_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
      }),
    ).toEqual([]);
  });

  it("the bot process exits 1 naming the example secrets", async () => {
    const { code, stderr } = await runMain({ ...envExample(), NODE_ENV: "production" });
    expect(code).toBe(1);
    expect(stderr).toContain("BOT_TOKEN is a published example value");
    expect(stderr).toContain("INTERNAL_API_TOKEN is a published example value");
    expect(stderr).not.toContain("dev-internal-token-change-me");
  });
});
