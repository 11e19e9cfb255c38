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
    /** Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`: 1–256 of A-Z a-z 0-9 _ -. */
    BOT_WEBHOOK_SECRET: secret(
      z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, "must be 16-256 characters of A-Z, a-z, 0-9, _ or -"),
    ).optional(),
    ADMIN_CHAT_ID: z.coerce.number().int().optional(),
    // -- support, account button, send budget (issue 16)
    /** Chat (usually a group of operators) that receives /paysupport conversations; unset = show SUPPORT_CONTACT. */
    SUPPORT_CHAT_ID: z.coerce.number().int().optional(),
    /** Shown by /paysupport when SUPPORT_CHAT_ID is unset, e.g. "@obuna_support" or "+998 71 200 00 00". */
    SUPPORT_CONTACT: z.string().trim().min(2).max(200).optional(),
    /** A support conversation stays open this long after the user's last message (or an operator's reply). */
    SUPPORT_SESSION_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3_600),
    /**
     * Public URL of the Mini App: the chat menu button and /status open MINIAPP_URL/account. Telegram
     * accepts only https Web App URLs, so unset or http (the local default) = no account button.
     */
    MINIAPP_URL: z.string().url().optional(),
    /** Notification worker's share of Telegram's ~30 messages/s; the rest is left for command replies. */
    NOTIFICATIONS_PER_SECOND: z.coerce.number().int().min(1).max(30).default(25),
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
  | { kind: "polling" }
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
  support: SupportConfig;
  /** MINIAPP_URL + "/account", or null when MINIAPP_URL is unset or not https. */
  accountUrl: string | null;
  /** Global notification budget, messages per window of the sliding limiter. */
  notificationsPerSecond: number;
}

export interface SupportConfig {
  /** Where users' support messages go; null = /paysupport only shows `contact`. */
  chatId: number | null;
  contact: string | null;
  sessionTtlS: number;
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
      : { kind: "polling" };
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
    support: {
      chatId: env.SUPPORT_CHAT_ID ?? null,
      contact: env.SUPPORT_CONTACT ?? null,
      sessionTtlS: env.SUPPORT_SESSION_TTL_S,
    },
    accountUrl: env.MINIAPP_URL?.startsWith("https://")
      ? `${env.MINIAPP_URL.replace(/\/+$/, "")}/account`
      : null,
    notificationsPerSecond: env.NOTIFICATIONS_PER_SECOND,
  };
}
