/** Env of the stand-alone sandbox (`pnpm --filter @obuna/atmos sandbox`). Names as in .env.example. */
import { parseEnv } from "@obuna/contracts/env";
import { z } from "zod";

const rate = z.coerce.number().min(0).max(1);

const sandboxEnvSchema = z.object({
  ATMOS_SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(8040),
  ATMOS_SANDBOX_CALLBACK_URL: z.string().url().optional(),
  ATMOS_SANDBOX_CALLBACK_FIELD: z.enum(["invoice", "account", "both"]).default("account"),
  ATMOS_SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  ATMOS_SANDBOX_ERROR_RATE: rate.default(0),
  ATMOS_SANDBOX_TIMEOUT_RATE: rate.default(0),
  ATMOS_SANDBOX_TOKEN_TTL_S: z.coerce.number().int().positive().default(3600),
  ATMOS_SANDBOX_LOST_APPLY_RATE: rate.default(0),
  // Shared with the client so one .env works for both sides.
  ATMOS_CONSUMER_KEY: z.string().min(1).default("sandbox_consumer_key"),
  ATMOS_CONSUMER_SECRET: z.string().min(1).default("sandbox_consumer_secret"),
  ATMOS_STORE_ID: z.string().min(1).default("11054"),
  ATMOS_CALLBACK_API_KEY: z.string().min(1).default("sandbox_callback_api_key"),
  ATMOS_CALLBACK_HASH: z.enum(["md5", "sha256"]).default("md5"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type SandboxEnv = z.infer<typeof sandboxEnvSchema>;

export function sandboxEnv(source: Record<string, string | undefined> = process.env): SandboxEnv {
  // A development tool: it accepts the published sandbox credentials, so never in production.
  return parseEnv("atmos-sandbox", sandboxEnvSchema, source, { devToolOnly: true });
}
