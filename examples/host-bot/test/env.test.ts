import { EnvError } from "@obuna/contracts/env";
import { describe, expect, it } from "vitest";
import { loadHostBotEnv } from "../src/env";

const good = {
  BOT_TOKEN: "7012345678:AAFq3bq2x0yZ-assistant-production-token",
  OBUNA_GATEWAY_URL: "https://pay.example.uz",
  OBUNA_TOKEN: "prod-assistant-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
};

function problems(source: Record<string, string>): string[] {
  try {
    loadHostBotEnv(source);
    return [];
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
}

describe("host bot env", () => {
  it("reads its settings once, with the premium TTL defaulting to 60 s", () => {
    expect(loadHostBotEnv(good)).toMatchObject({ OBUNA_PREMIUM_TTL_MS: 60_000 });
    expect(problems({ ...good, OBUNA_GATEWAY_URL: "not a url" })).toEqual([
      expect.stringMatching(/^OBUNA_GATEWAY_URL is invalid/),
    ]);
  });

  it("in production refuses the example token and bot token of .env.example, by name", () => {
    expect(problems({ ...good, NODE_ENV: "production" })).toEqual([]);
    const named = problems({
      ...good,
      NODE_ENV: "production",
      BOT_TOKEN: "123456:local-development-token",
      OBUNA_TOKEN: "dev-assistant-token-change-me",
    }).map((p) => p.split(" ")[0]);
    expect(named.sort()).toEqual(["BOT_TOKEN", "OBUNA_TOKEN"]);
  });
});
