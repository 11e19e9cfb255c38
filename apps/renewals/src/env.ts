import { issuedSecret, parseEnv, secret } from "@obuna/contracts/env";
import { DEFAULT_RENEWAL_LEAD_HOURS } from "@obuna/contracts/schedule";
import { z } from "zod";

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

/** Days list like `1,3,5`: strictly increasing positive numbers of days after the first decline. */
const retryDays = z
  .string()
  .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, "expected a comma-separated list of days, e.g. 1,3,5")
  .transform((value) => value.split(",").map((part) => Number(part.trim())))
  .refine((days) => days.every((d, i) => d > 0 && (i === 0 || d > days[i - 1]!)), "days must increase");

/** `https://a.example/obuna,https://b.example/hook`: the signed-event endpoints, each a URL. */
const endpointList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .url()
          .regex(/^https?:\/\//, "expected an http(s) URL"),
      )
      .max(20),
  );

/** Everything the renewals worker reads from the environment, validated once at start. */
export const renewalsEnvSchema = z
  .object({
    DATABASE_URL: z.string().url().startsWith("postgres"),
    REDIS_URL: z.string().url().startsWith("redis"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    /** Optional: worker errors and unexpected job failures are also sent to Sentry. */
    SENTRY_DSN: z.string().url().optional(),
    ATMOS_BASE_URL: z.string().url(),
    ATMOS_CONSUMER_KEY: issuedSecret(z.string().min(1)),
    ATMOS_CONSUMER_SECRET: issuedSecret(z.string().min(1)),
    ATMOS_STORE_ID: z.string().regex(/^\d+$/, "expected the numeric ATMOS store id"),
    ATMOS_TERMINAL_ID: z.string().optional(),
    ATMOS_TIMEOUT_MS: int(30_000, 100),
    CARD_TOKEN_KEY: secret(
      z
        .string()
        .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, "expected 32 bytes as 64 hex chars or base64"),
    ),
    ADMIN_TOKEN: secret(z.string().min(16, "use at least 16 characters")),
    /** Bearer token Prometheus sends to scrape `GET /metrics` on RENEWALS_PORT; unset = /metrics answers 401. */
    METRICS_TOKEN: secret(z.string().min(16, "use at least 16 characters")).optional(),
    // How often each periodic job runs, once per cluster (one BullMQ job scheduler each; docs/renewals.md).
    RENEWALS_SWEEP_INTERVAL_MS: int(300_000, 1_000),
    RENEWALS_JANITOR_INTERVAL_MS: int(60_000, 1_000),
    RENEWALS_PRICE_NOTICES_INTERVAL_MS: int(300_000, 1_000),
    RENEWALS_OUTBOX_RELAY_INTERVAL_MS: int(60_000, 1_000),
    RENEWALS_EXPIRY_INTERVAL_MS: int(300_000, 1_000),
    RENEWALS_REMINDERS_INTERVAL_MS: int(300_000, 1_000),
    RENEWALS_CARD_TOKEN_ERASURE_INTERVAL_MS: int(300_000, 1_000),
    RENEWALS_IDEMPOTENCY_PURGE_INTERVAL_MS: int(60_000, 1_000),
    RENEWALS_RECORDS_PURGE_INTERVAL_MS: int(60_000, 1_000),
    RENEWALS_ADMIN_ALERTS_INTERVAL_MS: int(60_000, 1_000),
    /** How often `events-relay` hands new premium events to their endpoints' delivery jobs. */
    RENEWALS_EVENTS_RELAY_INTERVAL_MS: int(5_000, 500),
    // ---- Signed events (docs/integration.md "Signed events")
    /** Where premium events are POSTed, comma-separated; unset = events are only kept (admin shows them). */
    EVENTS_ENDPOINTS: endpointList.default([]),
    /** HMAC-SHA256 key of the Obuna-Signature header, shared with each endpoint. Required with EVENTS_ENDPOINTS. */
    EVENTS_SIGNING_SECRET: secret(z.string().min(16, "use at least 16 characters")).optional(),
    /** Attempts per delivery (exponential backoff from EVENTS_RETRY_BASE_MS) before it is `failed`. */
    EVENTS_DELIVERY_ATTEMPTS: int(12, 1),
    /** The first retry's delay; each next one doubles it (12 attempts ≈ 34 h with 30 s). */
    EVENTS_RETRY_BASE_MS: int(30_000, 100),
    /** An endpoint that has not answered in this long is a failed attempt. */
    EVENTS_TIMEOUT_MS: int(10_000, 100),
    /** Deliveries in flight at once, per worker. */
    EVENTS_CONCURRENCY: int(5, 1),
    /** The `admin-alerts` job alerts when at least this many payments failed in the last hour. */
    ALERT_FAILED_PAYMENTS_PER_HOUR: int(10, 1),
    /** Stored ATMOS callbacks are deleted after this many days (`records-purge` job). */
    ATMOS_CALLBACK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    RENEWAL_LEAD_HOURS: z.coerce.number().min(0).default(DEFAULT_RENEWAL_LEAD_HOURS),
    RENEWAL_RETRY_DAYS: retryDays.default([1, 3, 5]),
    RENEWAL_GRACE_DAYS: z.coerce.number().min(0).default(7),
    RENEWAL_REMINDER_DAYS: z.coerce.number().min(0).default(3),
    /** Days between a price-change notice and the first renewal at the new price (docs/plans.md). */
    PRICE_CHANGE_NOTICE_DAYS: z.coerce.number().int().min(0).max(365).default(30),
    RENEWALS_CONCURRENCY: int(10, 1),
    RENEWALS_ATMOS_RATE_PER_S: int(20, 1),
    RENEWALS_PORT: int(8070, 0),
  })
  .refine((env) => env.EVENTS_ENDPOINTS.length === 0 || env.EVENTS_SIGNING_SECRET !== undefined, {
    message: "EVENTS_SIGNING_SECRET is required when EVENTS_ENDPOINTS is set",
    path: ["EVENTS_SIGNING_SECRET"],
  });
export type RenewalsEnv = z.infer<typeof renewalsEnvSchema>;

export function loadRenewalsEnv(source: Record<string, string | undefined> = process.env): RenewalsEnv {
  return parseEnv("renewals", renewalsEnvSchema, source);
}

/** The timing knobs of the renewal logic, in the units the code uses. */
export interface RenewalPolicy {
  leadMs: number;
  /** Offsets after the first decline, in ms. */
  retryOffsetsMs: number[];
  graceMs: number;
  reminderMs: number;
  /** PRICE_CHANGE_NOTICE_DAYS: a plan's new price is charged no sooner than this after the notice. */
  priceNoticeMs: number;
  /** A `pending` attempt older than this belongs to a worker that died. */
  stalePendingMs: number;
}

const DAY = 86_400_000;

export function policyFromEnv(env: RenewalsEnv): RenewalPolicy {
  return {
    leadMs: env.RENEWAL_LEAD_HOURS * 3_600_000,
    retryOffsetsMs: env.RENEWAL_RETRY_DAYS.map((d) => d * DAY),
    graceMs: env.RENEWAL_GRACE_DAYS * DAY,
    reminderMs: env.RENEWAL_REMINDER_DAYS * DAY,
    priceNoticeMs: env.PRICE_CHANGE_NOTICE_DAYS * DAY,
    // create + pre-apply + apply each may take ATMOS_TIMEOUT_MS; never call a live charge stale.
    stalePendingMs: Math.max(5 * 60_000, 4 * env.ATMOS_TIMEOUT_MS),
  };
}
