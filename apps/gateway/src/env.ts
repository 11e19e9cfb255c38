import { isIP } from "node:net";
import {
  devOnly,
  EnvError,
  issuedSecret,
  PUBLISHED_EXAMPLE_SECRETS,
  parseEnv,
  secret,
} from "@obuna/contracts/env";
import { DEFAULT_RENEWAL_LEAD_HOURS } from "@obuna/contracts/schedule";
import { TOKEN_SCOPES } from "@obuna/contracts/scopes";
import { z } from "zod";

const bool = () =>
  z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1");

/**
 * SERVICE_TOKENS: bearer tokens for other services, each with only the scopes listed for it, as JSON
 * keyed by the holder's name:
 * `{"assistant-bot":{"token":"<openssl rand -hex 32>","scopes":["entitlements:read"]}}`.
 * Each token is a `secret()` (production refuses example values and short tokens, by name).
 */
export const ServiceTokensSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "names are 1-64 of a-z 0-9 _ -"),
    z
      .object({
        token: secret(z.string().min(16, "use at least 16 characters")),
        scopes: z.array(z.enum(TOKEN_SCOPES)).min(1),
      })
      .strict(),
  )
  .refine(
    (tokens) => new Set(Object.values(tokens).map((t) => t.token)).size === Object.keys(tokens).length,
    "two services share one token",
  );

export const gatewayEnvSchema = z.object({
  DATABASE_URL: z.string().url().startsWith("postgres"),
  REDIS_URL: z.string().url().startsWith("redis"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * Log lines are written once this many bytes wait, and within 250 ms at the latest (one write per
   * ~20 request lines instead of one each). 0 writes every line at once (tests that read the output).
   */
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(16_000).default(4096),
  /** Optional: unexpected errors are also sent to Sentry (card numbers masked). */
  SENTRY_DSN: z.string().url().optional(),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8030),
  INTERNAL_API_TOKEN: secret(z.string().min(16)),
  SERVICE_TOKENS: z
    .string()
    .default("{}")
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: 'expected JSON: {"name":{"token":…,"scopes":[…]}}' });
        return z.NEVER;
      }
    })
    .pipe(ServiceTokensSchema),
  BOT_TOKEN: issuedSecret(z.string().min(10)),
  CARD_TOKEN_KEY: secret(z.string().min(32)),
  /**
   * HMAC-SHA256 key of the stored Idempotency-Key request hashes, so a database copy cannot be
   * brute-forced back to a request body. Defaults to the published example value, which production refuses.
   */
  IDEMPOTENCY_HASH_KEY: secret(z.string().min(32)).default(PUBLISHED_EXAMPLE_SECRETS.IDEMPOTENCY_HASH_KEY!),
  TMA_INIT_DATA_MAX_AGE_S: z.coerce.number().int().positive().default(86400),
  /** Max age of initData that may start a payment (atmos create / pre-apply): minutes, not a day. */
  TMA_INIT_DATA_PAY_MAX_AGE_S: z.coerce.number().int().min(60).max(3600).default(900),
  /** Also verify initData's Ed25519 `signature` with Telegram's public key (off by default). */
  TMA_INIT_DATA_THIRD_PARTY_CHECK: bool(),
  DEV_ALLOW_UNSIGNED_INIT_DATA: devOnly(bool()),
  MINIAPP_URL: z.string().url().default("http://127.0.0.1:8050"),
  ATMOS_BASE_URL: z.string().url(),
  ATMOS_CONSUMER_KEY: issuedSecret(z.string().min(1)),
  ATMOS_CONSUMER_SECRET: issuedSecret(z.string().min(1)),
  ATMOS_STORE_ID: z.string().min(1),
  ATMOS_TERMINAL_ID: z.string().optional(),
  ATMOS_CALLBACK_API_KEY: issuedSecret(z.string().min(1)),
  ATMOS_CALLBACK_HASH: z.enum(["md5", "sha256"]).default("md5"),
  ATMOS_TIMEOUT_MS: z.coerce.number().int().positive().default(30000),
  /** Admin API secret; unset = every /api/v1/admin/* answers 401. */
  ADMIN_TOKEN: secret(z.string().min(16, "use at least 16 characters")).optional(),
  ADMIN_SESSION_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(43200),
  /** Max age of an admin's initData at POST /api/v1/admin/session/telegram (the only place it is accepted). */
  ADMIN_INIT_DATA_MAX_AGE_S: z.coerce.number().int().min(30).max(3600).default(300),
  /**
   * Bearer token Prometheus sends to scrape `GET /metrics` (the port is also the public ATMOS callback
   * port); unset = /metrics answers 401.
   */
  METRICS_TOKEN: secret(z.string().min(16, "use at least 16 characters")).optional(),
  /** Telegram user ids that may use the admin API with `tma <initData>`: `1,2,3`, empty = none. */
  ADMIN_TELEGRAM_IDS: z
    .string()
    .regex(/^\s*(\d+(\s*,\s*\d+)*)?\s*$/, "expected a comma-separated list of Telegram ids")
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean)
        .map(Number),
    ),
  /**
   * Seconds before the Mini App may ask ATMOS to send another SMS code for one payment (resend-otp);
   * match it to what ATMOS and the SMS gateway tolerate.
   */
  OTP_RESEND_COOLDOWN_S: z.coerce.number().int().min(10).max(600).default(60),
  /** Abuse limits (429 RATE_LIMITED + Retry-After), counted in Redis across replicas. */
  RATE_LIMIT_SMS_PER_SESSION_PER_HOUR: z.coerce.number().int().min(1).default(5),
  RATE_LIMIT_SMS_PER_USER_PER_HOUR: z.coerce.number().int().min(1).default(15),
  RATE_LIMIT_LINKS_PER_USER_PER_HOUR: z.coerce.number().int().min(1).default(20),
  RATE_LIMIT_APPLY_PER_SESSION_PER_HOUR: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_ADMIN_SIGN_IN_PER_IP_PER_15_MIN: z.coerce.number().int().min(1).default(10),
  /**
   * IPs of the proxies (the Mini App server) whose `x-obuna-client-ip` header names the client for
   * the per-IP admin sign-in limit: `10.0.0.5,10.0.0.6`; empty = trust no header (the TCP peer counts).
   */
  TRUSTED_PROXY_IPS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .refine((ips) => ips.every((ip) => isIP(ip) !== 0), "expected a comma-separated list of IP addresses"),
  /**
   * Hours before end_date that the renewals worker charges: the gateway shows that time as "next
   * charge". Must equal the renewals worker's value (same variable, same default).
   */
  RENEWAL_LEAD_HOURS: z.coerce.number().min(0).default(DEFAULT_RENEWAL_LEAD_HOURS),
  /** The public offer (oferta) the checkout links; unset = no offer link (acceptance not recorded). */
  OFFER_URL: z.string().url().optional(),
  /** Its version, recorded with each payment as the accepted one (change it with every new text). */
  OFFER_VERSION: z.string().trim().min(1).max(64).default("1"),
  /** Days between a subscriber's price-change notice and the first renewal at the new price. */
  PRICE_CHANGE_NOTICE_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  /** The Bot API the gateway calls for Telegram Stars (createInvoiceLink, refunds); a local emulator in tests. */
  TELEGRAM_API_ROOT: z.string().url().default("https://api.telegram.org"),
  /** reconcile: pending/unknown outcomes older than this many minutes are reported. */
  RECONCILE_UNRESOLVED_AFTER_MIN: z.coerce.number().int().min(1).default(15),
});

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export function loadGatewayEnv(source: Record<string, string | undefined> = process.env): GatewayEnv {
  const env = parseEnv("gateway", gatewayEnvSchema, source);
  // The internal token would win and hold every scope: a service must have a token of its own.
  const shared = Object.entries(env.SERVICE_TOKENS).find(([, t]) => t.token === env.INTERNAL_API_TOKEN);
  if (shared) {
    throw new EnvError("gateway", [
      `SERVICE_TOKENS.${shared[0]}.token is INTERNAL_API_TOKEN: give the service a token of its own`,
    ]);
  }
  return env;
}
