import { spawn } from "node:child_process";
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
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

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
