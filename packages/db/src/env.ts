import { parseEnv } from "@obuna/contracts/env";
import { z } from "zod";
import { parseCardTokenKey } from "./crypto";

/** The database fragment of an app's env; apps extend it. */
export const dbEnvSchema = z.object({
  DATABASE_URL: z.string().url().startsWith("postgres"),
});

export function loadDbScriptEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv("db", dbEnvSchema, source);
}

const cardTokenKey = z.string().refine((value) => {
  try {
    parseCardTokenKey(value);
    return true;
  } catch {
    return false;
  }
}, "must be 32 bytes: 64 hex characters or base64");

/** `pnpm db:rotate-card-key`: the database and both keys (from the environment, never arguments). */
export function loadCardKeyRotationEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv(
    "db:rotate-card-key",
    dbEnvSchema.extend({ CARD_TOKEN_KEY_OLD: cardTokenKey, CARD_TOKEN_KEY_NEW: cardTokenKey }),
    source,
  );
}
