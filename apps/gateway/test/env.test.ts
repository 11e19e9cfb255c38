import { EnvError } from "@obuna/contracts/env";
import { describe, expect, it } from "vitest";
import { loadGatewayEnv } from "../src/env";
import { CARD_TOKEN_KEY_HEX } from "./constants";
import { envExample, PRODUCTION_SECRETS } from "./production-env";

const required = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/obuna",
  REDIS_URL: "redis://127.0.0.1:6379/0",
  INTERNAL_API_TOKEN: "env-test-internal-token",
  BOT_TOKEN: "123456:env-test",
  CARD_TOKEN_KEY: CARD_TOKEN_KEY_HEX,
  ATMOS_BASE_URL: "http://127.0.0.1:9",
  ATMOS_CONSUMER_KEY: "key",
  ATMOS_CONSUMER_SECRET: "secret",
  ATMOS_STORE_ID: "11054",
  ATMOS_CALLBACK_API_KEY: "callback-key",
};

describe("gateway env", () => {
  it("OTP_RESEND_COOLDOWN_S defaults to 60 s and takes a value from 10 to 600", () => {
    expect(loadGatewayEnv(required).OTP_RESEND_COOLDOWN_S).toBe(60);
    expect(loadGatewayEnv({ ...required, OTP_RESEND_COOLDOWN_S: "120" }).OTP_RESEND_COOLDOWN_S).toBe(120);
    expect(() => loadGatewayEnv({ ...required, OTP_RESEND_COOLDOWN_S: "5" })).toThrow(
      /OTP_RESEND_COOLDOWN_S/,
    );
    expect(() => loadGatewayEnv({ ...required, OTP_RESEND_COOLDOWN_S: "soon" })).toThrow(
      /OTP_RESEND_COOLDOWN_S/,
    );
  });
});

function problemsOf(source: Record<string, string | undefined>): string[] {
  try {
    loadGatewayEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

describe("gateway env in production (NODE_ENV=production)", () => {
  it("refuses the .env.example configuration, naming every example secret and the dev switch", () => {
    const problems = problemsOf({
      ...envExample(),
      NODE_ENV: "production",
      DEV_ALLOW_UNSIGNED_INIT_DATA: "true",
    });
    const named = problems.map((problem) => problem.split(" ")[0]).sort();
    expect(named).toEqual(
      [
        "ADMIN_TOKEN",
        "ATMOS_CALLBACK_API_KEY",
        "ATMOS_CONSUMER_KEY",
        "ATMOS_CONSUMER_SECRET",
        "BOT_TOKEN",
        "CARD_TOKEN_KEY",
        "DEV_ALLOW_UNSIGNED_INIT_DATA",
        "IDEMPOTENCY_HASH_KEY",
        "INTERNAL_API_TOKEN",
        "METRICS_TOKEN",
        "SERVICE_TOKENS.assistant-bot.token",
      ].sort(),
    );
    expect(problems).toContain(
      "DEV_ALLOW_UNSIGNED_INIT_DATA is a development switch and must be off in production",
    );
    expect(problems.join("\n")).not.toContain("dev-internal-token-change-me");
  });

  it("accepts proper secrets; refuses a short one, a missing hash key and the dev switch, one by one", () => {
    const production = { ...envExample(), ...PRODUCTION_SECRETS, NODE_ENV: "production" };
    expect(problemsOf(production)).toEqual([]);
    expect(loadGatewayEnv(production).IDEMPOTENCY_HASH_KEY).toBe(PRODUCTION_SECRETS.IDEMPOTENCY_HASH_KEY);
    expect(problemsOf({ ...production, ADMIN_TOKEN: "only-twenty-chars-xx" })).toEqual([
      "ADMIN_TOKEN must be at least 32 characters in production",
    ]);
    expect(problemsOf({ ...production, IDEMPOTENCY_HASH_KEY: "" })).toEqual([
      "IDEMPOTENCY_HASH_KEY is a published example value (.env.example / ATMOS sandbox): set a secret of your own",
    ]);
    expect(problemsOf({ ...production, DEV_ALLOW_UNSIGNED_INIT_DATA: "1" })).toEqual([
      "DEV_ALLOW_UNSIGNED_INIT_DATA is a development switch and must be off in production",
    ]);
    // The admin API stays optional: unset means off, not unsafe.
    expect(problemsOf({ ...production, ADMIN_TOKEN: "" })).toEqual([]);
  });

  it("SERVICE_TOKENS: each token a secret (example and short ones refused by name), scopes from the closed list", () => {
    const production = { ...envExample(), ...PRODUCTION_SECRETS, NODE_ENV: "production" };
    const tokens = (value: unknown) => ({ ...production, SERVICE_TOKENS: JSON.stringify(value) });
    expect(
      problemsOf(tokens({ crm: { token: "short-but-16-chars-ok", scopes: ["entitlements:read"] } })),
    ).toEqual(["SERVICE_TOKENS.crm.token must be at least 32 characters in production"]);
    expect(
      problemsOf(tokens({ crm: { token: "dev-assistant-token-change-me", scopes: ["entitlements:read"] } })),
    ).toEqual([
      "SERVICE_TOKENS.crm.token is a published example value (.env.example / ATMOS sandbox): set a secret of your own",
    ]);
    const long = "a-crm-token-of-thirty-two-chars-or-more";
    // Paying and card removal are never a token's scope.
    expect(problemsOf(tokens({ crm: { token: long, scopes: ["checkout"] } })).join()).toMatch(
      /SERVICE_TOKENS/,
    );
    expect(problemsOf(tokens({ crm: { token: long, scopes: [] } })).join()).toMatch(/SERVICE_TOKENS/);
    expect(problemsOf({ ...production, SERVICE_TOKENS: "not json" })).toEqual([
      expect.stringMatching(/^SERVICE_TOKENS is invalid: expected JSON/),
    ]);
    expect(
      problemsOf(
        tokens({
          a: { token: long, scopes: ["entitlements:read"] },
          b: { token: long, scopes: ["payments:read"] },
        }),
      ).join(),
    ).toMatch(/share one token/);
    expect(
      problemsOf(
        tokens({ a: { token: PRODUCTION_SECRETS.INTERNAL_API_TOKEN, scopes: ["entitlements:read"] } }),
      ),
    ).toEqual(["SERVICE_TOKENS.a.token is INTERNAL_API_TOKEN: give the service a token of its own"]);
    // Unset = no service tokens.
    expect(loadGatewayEnv({ ...production, SERVICE_TOKENS: "" }).SERVICE_TOKENS).toEqual({});
    expect(
      loadGatewayEnv(tokens({ crm: { token: long, scopes: ["entitlements:read"] } })).SERVICE_TOKENS,
    ).toEqual({ crm: { token: long, scopes: ["entitlements:read"] } });
  });

  it("outside production the .env.example configuration still starts (local development)", () => {
    expect(problemsOf(envExample())).toEqual([]);
  });
});
