import { issuedSecret, parseEnv, secret } from "@obuna/contracts/env";
import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Telegram bot tokens look like `123456789:AA…` (digits, a colon, then URL-safe characters). */
const BotTokenSchema = z
  .string()
  .regex(/^\d+:[A-Za-z0-9_-]{5,}$/, "must look like 123456:ABC… (from @BotFather)");

const schema = z
  .object({
    DATABASE_URL: z.string().url().startsWith("postgres"),
    REDIS_URL: z.string().url().startsWith("redis"),
    LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
    /** Optional: errors in updates are also sent to Sentry. */
    SENTRY_DSN: z.string().url().optional(),
    BOT_TOKEN: issuedSecret(BotTokenSchema),
    TELEGRAM_API_ROOT: z.string().url().default("https://api.telegram.org"),
    BOT_MODE: z.enum(["polling", "webhook"]).default("polling"),
    BOT_WEBHOOK_URL: z.string().url().optional(),
    BOT_WEBHOOK_PORT: z.coerce.number().int().min(0).max(65535).default(8060),
    /** Polling mode: port of /healthz and /metrics (webhook mode serves them on BOT_WEBHOOK_PORT). */
    BOT_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8061),
    /** Bearer token Prometheus sends to scrape `GET /metrics`; unset = /metrics answers 401. */
    METRICS_TOKEN: secret(z.string().min(16, "use at least 16 characters")).optional(),
    /** Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`: 1–256 of A-Z a-z 0-9 _ -. */
    BOT_WEBHOOK_SECRET: secret(
      z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, "must be 16-256 characters of A-Z, a-z, 0-9, _ or -"),
    ).optional(),
    ADMIN_CHAT_ID: z.coerce.number().int().optional(),
    GATEWAY_URL: z.string().url(),
    INTERNAL_API_TOKEN: secret(z.string().min(16)),
  })
  .superRefine((env, ctx) => {
    if (env.BOT_MODE !== "webhook") return;
    for (const name of ["BOT_WEBHOOK_URL", "BOT_WEBHOOK_SECRET"] as const) {
      if (env[name] === undefined) {
        ctx.addIssue({ code: "custom", path: [name], message: `${name} is required when BOT_MODE=webhook` });
      }
    }
  });

export type RunMode =
  | { kind: "polling"; healthPort: number }
  | { kind: "webhook"; url: string; port: number; secretToken: string };

export interface BotConfig {
  databaseUrl: string;
  redisUrl: string;
  logLevel: (typeof LOG_LEVELS)[number];
  botToken: string;
  telegramApiRoot: string;
  mode: RunMode;
  adminChatId: number | null;
  gatewayUrl: string;
  internalApiToken: string;
  sentryDsn: string | null;
  metricsToken: string | null;
}

/** Reads and validates the bot's environment once at start; throws an EnvError naming every bad variable. */
export function loadBotConfig(source: Record<string, string | undefined> = process.env): BotConfig {
  const env = parseEnv("bot", schema, source);
  const mode: RunMode =
    env.BOT_MODE === "webhook"
      ? {
          kind: "webhook",
          url: env.BOT_WEBHOOK_URL!,
          port: env.BOT_WEBHOOK_PORT,
          secretToken: env.BOT_WEBHOOK_SECRET!,
        }
      : { kind: "polling", healthPort: env.BOT_HEALTH_PORT };
  return {
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    logLevel: env.LOG_LEVEL,
    botToken: env.BOT_TOKEN,
    telegramApiRoot: env.TELEGRAM_API_ROOT.replace(/\/+$/, ""),
    mode,
    adminChatId: env.ADMIN_CHAT_ID ?? null,
    gatewayUrl: env.GATEWAY_URL.replace(/\/+$/, ""),
    internalApiToken: env.INTERNAL_API_TOKEN,
    sentryDsn: env.SENTRY_DSN ?? null,
    metricsToken: env.METRICS_TOKEN ?? null,
  };
}
