import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { EnvError } from "@obuna/contracts/env";
import { describe, expect, it } from "vitest";
import { loadRenewalsEnv, policyFromEnv } from "../src/env";
import { testEnv } from "./harness";

const valid = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/obuna",
  REDIS_URL: "redis://127.0.0.1:6379/0",
  ATMOS_BASE_URL: "http://127.0.0.1:8040",
  ATMOS_CONSUMER_KEY: "k",
  ATMOS_CONSUMER_SECRET: "s",
  ATMOS_STORE_ID: "11054",
  CARD_TOKEN_KEY: "00".repeat(32),
  ADMIN_TOKEN: "dev-admin-token-change-me",
};

/** Starts the real entry point with exactly this environment (no .env file values leak in). */
function startWith(env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/index.ts"], {
    cwd: `${__dirname}/..`,
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("env", () => {
  it("parses the documented defaults and the retry schedule", () => {
    const env = loadRenewalsEnv({ ...valid, RENEWAL_RETRY_DAYS: "1, 3,5" });
    expect(env).toMatchObject({
      RENEWAL_RETRY_DAYS: [1, 3, 5],
      RENEWAL_LEAD_HOURS: 24,
      RENEWAL_GRACE_DAYS: 7,
      RENEWAL_REMINDER_DAYS: 3,
      RENEWALS_CONCURRENCY: 10,
      RENEWALS_ATMOS_RATE_PER_S: 20,
      RENEWALS_PORT: 8070,
      RENEWALS_SWEEP_INTERVAL_MS: 300_000,
    });
    const policy = policyFromEnv(testEnv());
    expect(policy.retryOffsetsMs).toEqual([1, 3, 5].map((d) => d * 86_400_000));
    expect(policy.stalePendingMs).toBeGreaterThanOrEqual(5 * 60_000);
  });

  it("rejects a malformed retry schedule and a short admin token by name", () => {
    expect(() => loadRenewalsEnv({ ...valid, RENEWAL_RETRY_DAYS: "3,1" })).toThrow(/RENEWAL_RETRY_DAYS/);
    expect(() => loadRenewalsEnv({ ...valid, RENEWAL_RETRY_DAYS: "tomorrow" })).toThrow(/RENEWAL_RETRY_DAYS/);
    expect(() => loadRenewalsEnv({ ...valid, ADMIN_TOKEN: "short" })).toThrow(/ADMIN_TOKEN/);
  });

  it("signed events: endpoints are a URL list, need a signing secret; production refuses the example secret", () => {
    expect(loadRenewalsEnv(valid).EVENTS_ENDPOINTS).toEqual([]);
    const env = loadRenewalsEnv({
      ...valid,
      EVENTS_ENDPOINTS: "https://a.example/obuna, https://b.example/hook",
      EVENTS_SIGNING_SECRET: "0123456789abcdef0123",
    });
    expect(env.EVENTS_ENDPOINTS).toEqual(["https://a.example/obuna", "https://b.example/hook"]);
    expect(env).toMatchObject({ EVENTS_DELIVERY_ATTEMPTS: 12, EVENTS_RETRY_BASE_MS: 30_000 });
    expect(() => loadRenewalsEnv({ ...valid, EVENTS_ENDPOINTS: "https://a.example/obuna" })).toThrow(
      /EVENTS_SIGNING_SECRET/,
    );
    expect(() =>
      loadRenewalsEnv({
        ...valid,
        EVENTS_ENDPOINTS: "ftp://a.example",
        EVENTS_SIGNING_SECRET: "x".repeat(40),
      }),
    ).toThrow(/EVENTS_ENDPOINTS/);
    const production = {
      ...valid,
      NODE_ENV: "production",
      ATMOS_CONSUMER_KEY: "live-key",
      ATMOS_CONSUMER_SECRET: "live-secret",
      CARD_TOKEN_KEY: "ab".repeat(32),
      ADMIN_TOKEN: "a-production-admin-token-0123456789",
      EVENTS_ENDPOINTS: "https://a.example/obuna",
    };
    expect(() =>
      loadRenewalsEnv({ ...production, EVENTS_SIGNING_SECRET: "dev-events-signing-secret-change-me" }),
    ).toThrow(/EVENTS_SIGNING_SECRET is a published example value/);
    expect(() => loadRenewalsEnv({ ...production, EVENTS_SIGNING_SECRET: "short-but-16-chars" })).toThrow(
      /EVENTS_SIGNING_SECRET must be at least 32/,
    );
    expect(
      loadRenewalsEnv({ ...production, EVENTS_SIGNING_SECRET: "s".repeat(40) }).EVENTS_SIGNING_SECRET,
    ).toBe("s".repeat(40));
  });

  it("the app exits non-zero naming a missing variable", () => {
    const { DATABASE_URL: _, ...missing } = valid;
    const result = startWith(missing);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("DATABASE_URL is required but missing");
  });

  it("the app exits non-zero naming a malformed variable, without printing its value", () => {
    const result = startWith({ ...valid, RENEWALS_CONCURRENCY: "lots", CARD_TOKEN_KEY: "secret-but-wrong" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("RENEWALS_CONCURRENCY is invalid");
    expect(result.stderr).toContain("CARD_TOKEN_KEY is invalid");
    expect(result.stderr).not.toContain("secret-but-wrong");
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

function problemsOf(source: Record<string, string | undefined>): string[] {
  try {
    loadRenewalsEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}

const PRODUCTION = {
  ...envExample(),
  NODE_ENV: "production",
  ATMOS_CONSUMER_KEY: "Rx8s1sAdIkgVNmkmaQ8VTqPzrzwa",
  ATMOS_CONSUMER_SECRET: "b3Xq_9LmPz2wVt7YkR4nHs1aJd0e",
  CARD_TOKEN_KEY: "5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
  ADMIN_TOKEN: "prod-admin-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
  METRICS_TOKEN: "prod-metrics-3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e",
  EVENTS_SIGNING_SECRET: "prod-events-7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f",
};

describe("env in production (NODE_ENV=production)", () => {
  it("refuses the .env.example secrets by name (the example CARD_TOKEN_KEY among them); accepts proper ones", () => {
    const problems = problemsOf({ ...envExample(), NODE_ENV: "production" });
    expect(problems.map((problem) => problem.split(" ")[0]).sort()).toEqual([
      "ADMIN_TOKEN",
      "ATMOS_CONSUMER_KEY",
      "ATMOS_CONSUMER_SECRET",
      "CARD_TOKEN_KEY",
      "EVENTS_SIGNING_SECRET",
      "METRICS_TOKEN",
    ]);
    expect(problemsOf(PRODUCTION)).toEqual([]);
    expect(problemsOf({ ...PRODUCTION, ADMIN_TOKEN: "only-twenty-chars-xx" })).toEqual([
      "ADMIN_TOKEN must be at least 32 characters in production",
    ]);
  });

  it("the worker process exits 1 naming the example secrets, without their values", () => {
    const result = startWith({ ...envExample(), NODE_ENV: "production" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("CARD_TOKEN_KEY is a published example value");
    expect(result.stderr).toContain("ADMIN_TOKEN is a published example value");
    expect(result.stderr).not.toContain("dev-admin-token-change-me");
  });
});
