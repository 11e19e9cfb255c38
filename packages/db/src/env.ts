import { parseEnv } from "@obuna/contracts/env";
import { z } from "zod";

/** The database fragment of an app's env; apps extend it. */
export const dbEnvSchema = z.object({
  DATABASE_URL: z.string().url().startsWith("postgres"),
});

export function loadDbScriptEnv(source: Record<string, string | undefined> = process.env) {
  return parseEnv("db", dbEnvSchema, source);
}
