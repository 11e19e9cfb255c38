import { readFileSync } from "node:fs";

/** `.env.example` at the repository root as `{NAME: value}`. */
export function envExample(): Record<string, string> {
  const text = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** Secrets of our own making in production: long random strings. */
export const PRODUCTION_SECRETS = {
  INTERNAL_API_TOKEN: "prod-internal-6f1c2b7e9a4d4c0f8e2a1b3c5d7e9f01",
  ADMIN_TOKEN: "prod-admin-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
  CARD_TOKEN_KEY: "5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
  IDEMPOTENCY_HASH_KEY: "prod-idempotency-7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29",
  BOT_TOKEN: "7012345678:AAFq3bq2x0yZ-production-token-from-botfather",
  ATMOS_CONSUMER_KEY: "Rx8s1sAdIkgVNmkmaQ8VTqPzrzwa",
  ATMOS_CONSUMER_SECRET: "b3Xq_9LmPz2wVt7YkR4nHs1aJd0e",
  ATMOS_CALLBACK_API_KEY: "atmos-issued-callback-key-42",
  METRICS_TOKEN: "prod-metrics-3d2c1b0a9f8e7d6c5b4a39281706f5e4",
  SERVICE_TOKENS: JSON.stringify({
    "assistant-bot": {
      token: "prod-assistant-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
      scopes: ["entitlements:read"],
    },
  }),
};
