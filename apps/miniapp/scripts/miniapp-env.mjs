/**
 * The environment the Mini App's Next.js process gets: only what it needs. The repo's .env holds every
 * app's secrets (CARD_TOKEN_KEY, ATMOS keys, INTERNAL_API_TOKEN, BOT_TOKEN, ADMIN_TOKEN, DATABASE_URL…);
 * the Mini App reads none of them (it reaches the gateway over HTTP), so none of them is passed on,
 * whether it sits in .env or in the shell that started it.
 */

/** The Mini App's own settings (src/env.ts MiniappEnvSchema; test/process-env.test.ts keeps them in sync). */
export const MINIAPP_ENV_KEYS = ["GATEWAY_URL", "GATEWAY_TIMEOUT_MS", "MINIAPP_PORT"];

/** What Node and Next need from the operating system and the launcher. */
export const SYSTEM_ENV_KEYS = [
  "PATH",
  "HOME",
  "TMPDIR",
  "TZ",
  "LANG",
  "LC_ALL",
  "NODE_ENV",
  "NODE_OPTIONS",
  "NODE_EXTRA_CA_CERTS",
  "HOSTNAME",
  "NEXT_TELEMETRY_DISABLED",
];

/**
 * @param {Record<string, string | undefined>} shell the launcher's own environment (wins over the file)
 * @param {Record<string, string>} file the parsed .env file
 * @returns {Record<string, string>}
 */
export function miniappProcessEnv(shell, file) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const key of SYSTEM_ENV_KEYS) {
    const value = shell[key];
    if (value !== undefined) env[key] = value;
  }
  for (const key of MINIAPP_ENV_KEYS) {
    const value = shell[key] ?? file[key];
    if (value !== undefined) env[key] = value;
  }
  env.NEXT_TELEMETRY_DISABLED = "1";
  return env;
}
