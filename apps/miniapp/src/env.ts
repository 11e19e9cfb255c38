import { parseEnv } from "@obuna/contracts/env";
import { z } from "zod";

/**
 * Server-side environment of the Mini App, read at run time (not at build time) so one build
 * serves every environment. Only the `/api/gw/*` proxy and the instrumentation hook use it.
 */
export const MiniappEnvSchema = z.object({
  /** Where the Mini App server reaches the gateway. */
  GATEWAY_URL: z.string().url().default("http://127.0.0.1:8030"),
  /** Timeout of one proxied gateway call in ms (an ATMOS apply may take long). */
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  MINIAPP_PORT: z.coerce.number().int().min(0).max(65535).default(8050),
});
export type MiniappEnv = z.infer<typeof MiniappEnvSchema>;

export function parseMiniappEnv(source: Record<string, string | undefined>): MiniappEnv {
  return parseEnv("miniapp", MiniappEnvSchema, source);
}

let cached: MiniappEnv | undefined;

/** Parsed once per server process, on first use (or at boot through `instrumentation.ts`). */
export function serverEnv(): MiniappEnv {
  cached ??= parseMiniappEnv(process.env);
  return cached;
}
