import { issuedSecret, parseEnv, secret } from "@obuna/contracts/env";
import { z } from "zod";

/** The assistant bot's settings, read once at start (a bad value stops it, naming the variable). */
export const hostBotEnvSchema = z.object({
  /** This bot's own token from @BotFather. */
  BOT_TOKEN: issuedSecret(z.string().min(10)),
  /** The Obuna gateway, e.g. https://pay.example.uz. */
  OBUNA_GATEWAY_URL: z.string().url(),
  /** The token the Obuna operator issued for this bot (the gateway's SERVICE_TOKENS). */
  OBUNA_TOKEN: secret(z.string().min(16)),
  /** How long the bot trusts a premium answer before asking again (ms). */
  OBUNA_PREMIUM_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /**
   * Obuna's signed events (EVENTS_SIGNING_SECRET at Obuna): with it, the bot listens for them on
   * OBUNA_EVENTS_PORT at /obuna/events and drops a user's cached premium when theirs changes.
   */
  OBUNA_EVENTS_SECRET: secret(z.string().min(16)).optional(),
  OBUNA_EVENTS_PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  /** Bot API root (a local emulator in tests); default Telegram's. */
  TELEGRAM_API_ROOT: z.string().url().optional(),
});

export type HostBotEnv = z.infer<typeof hostBotEnvSchema>;

export function loadHostBotEnv(source: Record<string, string | undefined> = process.env): HostBotEnv {
  return parseEnv("host-bot", hostBotEnvSchema, source);
}
