import type { Worker } from "bullmq";
import type { Api } from "grammy";
import type { Update } from "grammy/types";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { NotificationOutcome } from "./notifications/worker";

/** The kind of an update (`message`, `callback_query`, …): its one field besides update_id. */
export function updateType(update: Update): string {
  return Object.keys(update).find((key) => key !== "update_id") ?? "unknown";
}

/**
 * The bot's Prometheus registry (served at `GET /metrics` with `Bearer METRICS_TOKEN`) and what the
 * health check reads: when the last Bot API getUpdates / getMe succeeded.
 * - `bot_updates_total{type}`: updates received and handled; `bot_updates_failed_total{type}`: of those,
 *   the ones whose handler failed (logged as "update failed").
 * - `bot_notifications_total{outcome}`: notification jobs (sent, blocked, duplicate, skipped,
 *   outcome_unknown, failed).
 * - `bot_telegram_api_errors_total{method,code}`: Bot API calls that failed (code `network` when no
 *   answer came); `bot_telegram_rate_limited_total{method}`: of those, 429 Too Many Requests.
 * - `bot_last_get_updates_success_timestamp_seconds`, `bot_last_get_me_success_timestamp_seconds`.
 */
export function createBotMetrics(options: { defaultMetrics?: boolean; clock?: () => number } = {}) {
  const clock = options.clock ?? Date.now;
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const updates = new Counter({
    name: "bot_updates_total",
    help: "Telegram updates handled, by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const updatesFailed = new Counter({
    name: "bot_updates_failed_total",
    help: "Telegram updates whose handler failed, by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const notifications = new Counter({
    name: "bot_notifications_total",
    help: "Notification jobs by outcome (sent, blocked, duplicate, skipped, outcome_unknown, failed)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const apiErrors = new Counter({
    name: "bot_telegram_api_errors_total",
    help: "Bot API calls that failed, by method and error code (network = no answer)",
    labelNames: ["method", "code"] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "bot_telegram_rate_limited_total",
    help: "Bot API calls answered 429 Too Many Requests, by method",
    labelNames: ["method"] as const,
    registers: [registry],
  });
  const lastGetUpdates = new Gauge({
    name: "bot_last_get_updates_success_timestamp_seconds",
    help: "Unix time of the last successful getUpdates (polling mode)",
    registers: [registry],
  });
  const lastGetMe = new Gauge({
    name: "bot_last_get_me_success_timestamp_seconds",
    help: "Unix time of the last successful getMe",
    registers: [registry],
  });
  const last = { getUpdates: null as number | null, getMe: null as number | null };

  return {
    registry,
    /** ms timestamps of the last successful calls, null = none yet. */
    last,
    /** Counts every Bot API call's failure and remembers successful getUpdates/getMe. Install before bot.init(). */
    instrumentApi(api: Api) {
      api.config.use(async (prev, method, payload, signal) => {
        let result: Awaited<ReturnType<typeof prev>>;
        try {
          result = await prev(method, payload, signal);
        } catch (error) {
          apiErrors.inc({ method, code: "network" });
          throw error;
        }
        if (result.ok) {
          if (method === "getUpdates") {
            last.getUpdates = clock();
            lastGetUpdates.set(last.getUpdates / 1000);
          } else if (method === "getMe") {
            last.getMe = clock();
            lastGetMe.set(last.getMe / 1000);
          }
        } else {
          apiErrors.inc({ method, code: String(result.error_code) });
          if (result.error_code === 429) rateLimited.inc({ method });
        }
        return result;
      });
    },
    observeUpdate(update: Update, outcome: "received" | "failed") {
      (outcome === "received" ? updates : updatesFailed).inc({ type: updateType(update) });
    },
    observeNotifications(worker: Worker) {
      worker.on("completed", (_job, result: NotificationOutcome | undefined) =>
        notifications.inc({ outcome: result?.status ?? "unknown" }),
      );
      worker.on("failed", () => notifications.inc({ outcome: "failed" }));
    },
  };
}

export type BotMetrics = ReturnType<typeof createBotMetrics>;

/** A poller whose last good getUpdates is older than this is reported unhealthy (long polls last ≤ 30 s). */
export const POLL_STALE_MS = 90_000;

export interface PollingHealth {
  ok: boolean;
  mode: "polling";
  running: boolean;
  lastGetUpdatesAt: string | null;
  lastGetMeAt: string | null;
}

/**
 * Polling mode is healthy while the runner runs and getUpdates succeeded within POLL_STALE_MS (or,
 * right after start, before the first poll returned: within POLL_STALE_MS of `startedAt`).
 */
export function pollingHealth(input: {
  running: boolean;
  last: BotMetrics["last"];
  startedAt: number;
  now: number;
  staleMs?: number;
}): PollingHealth {
  const staleMs = input.staleMs ?? POLL_STALE_MS;
  const since = input.last.getUpdates ?? input.startedAt;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    ok: input.running && input.now - since < staleMs,
    mode: "polling",
    running: input.running,
    lastGetUpdatesAt: iso(input.last.getUpdates),
    lastGetMeAt: iso(input.last.getMe),
  };
}
