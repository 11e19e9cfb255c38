import { spawnSync } from "node:child_process";
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
