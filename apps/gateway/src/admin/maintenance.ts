import { isAtmosError } from "@obuna/atmos";
import { failSessionPayment } from "@obuna/billing";
import { type NotificationJob, NotificationJobSchema, notificationJobId } from "@obuna/contracts/jobs";
import { purgeRelayedNotifications } from "@obuna/db/queries";
import { paymentSessions, payments, renewalAttempts } from "@obuna/db/schema";
import { and, count, eq, gte, inArray, lt } from "drizzle-orm";
import { instrumentAtmos } from "../atmos-instrumented";
import type { GatewayDeps } from "../context";
import { createMetrics, type GatewayMetrics } from "../metrics";
import { purgeOldCallbacks } from "../queries/atmos-callbacks";
import { purgeExpiredIdempotencyKeys } from "../queries/idempotency";
import { getSessionView } from "../queries/payment-sessions";
import { relayOwedNotifications } from "../services/notifications";
import { reconcileSession } from "../services/payment-flow";
import { opsCounter } from "./metrics";

type Deps = GatewayDeps & { metrics: GatewayMetrics };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface MaintenanceOptions {
  /** Re-check sessions in `processing` for longer than this at ATMOS (default 5 min). */
  recheckAfterMs?: number;
  /**
   * A session still `processing` after this long whose ATMOS transaction is not confirmed (created,
   * pre-applied, or unknown to ATMOS) is failed: only our apply can confirm it, and ours has ended
   * (default 30 min = the session lifetime).
   */
  giveUpAfterMs?: number;
  /** Alert when at least this many payments failed in the last hour (ALERT_FAILED_PAYMENTS_PER_HOUR). */
  failedPaymentsPerHour?: number;
  limit?: number;
  /** Expired Idempotency-Key records and old relayed notifications deleted per run at most (default 5 000 each). */
  purgeLimit?: number;
  /** Stored ATMOS callbacks older than this are deleted (ATMOS_CALLBACK_RETENTION_DAYS, default 90 days). */
  callbackRetentionMs?: number;
}

export interface RecheckResult {
  sessionId: string;
  outcome: "completed" | "failed" | "unknown";
}

/**
 * Finishes payment sessions left in `processing` (an unclear apply whose client went away and no
 * callback came): the gateway's own `reconcileSession` asks ATMOS and completes (exactly once, via
 * finalizeSuccess) or fails them. A transaction that ATMOS still reports unconfirmed after
 * `giveUpAfterMs`, or does not know at all, ends `failed` with its payment `failed`: no money moved.
 */
export async function recheckStuckSessions(
  deps: Deps,
  options: MaintenanceOptions = {},
): Promise<RecheckResult[]> {
  const now = deps.clock();
  const recheckAfter = options.recheckAfterMs ?? 5 * MINUTE;
  const giveUpAfter = options.giveUpAfterMs ?? 30 * MINUTE;
  const stuck = await deps.db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(
      and(
        eq(paymentSessions.status, "processing"),
        lt(paymentSessions.updatedAt, new Date(now.getTime() - recheckAfter)),
      ),
    )
    .orderBy(paymentSessions.updatedAt)
    .limit(options.limit ?? 100);
  const results: RecheckResult[] = [];
  for (const { id } of stuck) {
    let outcome: RecheckResult["outcome"];
    try {
      outcome = await reconcileSession(deps, id, { recordUnknown: true });
      if (outcome === "unknown") outcome = await giveUpIfNeverConfirmed(deps, id, now, giveUpAfter);
    } catch (error) {
      deps.logger.warn({ sessionId: id, err: (error as Error).message }, "stuck session re-check failed");
      outcome = "unknown";
    }
    opsCounter(deps.metrics, "gateway_maintenance_sessions_total")?.inc({ outcome });
    deps.logger.info({ sessionId: id, outcome }, "stuck session re-checked");
    results.push({ sessionId: id, outcome });
  }
  return results;
}

async function giveUpIfNeverConfirmed(
  deps: Deps,
  sessionId: string,
  now: Date,
  giveUpAfterMs: number,
): Promise<RecheckResult["outcome"]> {
  const view = await getSessionView(deps.db, sessionId);
  if (!view) return "unknown";
  if (view.session.status !== "processing") return "unknown";
  if (now.getTime() - view.session.updatedAt.getTime() < giveUpAfterMs) return "unknown";
  let neverConfirmed = false;
  if (view.session.transactionId === null) {
    neverConfirmed = true;
  } else {
    try {
      const transaction = await deps.atmos.getTransaction(view.session.transactionId);
      if (transaction.state === "confirmed") return "unknown"; // reconcileSession finishes it on the next run
      neverConfirmed = transaction.state === "created" || transaction.state === "pre_applied";
    } catch (error) {
      neverConfirmed = isAtmosError(error) && error.kind === "transaction_not_found";
    }
  }
  if (!neverConfirmed) return "unknown";
  await deps.db.transaction((tx) =>
    failSessionPayment(tx, deps, {
      sessionId,
      reason: "never_confirmed",
      message: "ATMOS never confirmed the transaction",
      audit: {
        actor: "gateway",
        reason: "maintenance: ATMOS never confirmed the transaction",
        details: { transactionId: view.session.transactionId },
      },
    }),
  );
  deps.metrics.payments.inc({ outcome: "failed" });
  return "failed";
}

// ------------------------------------------------------------------ alerts

/** Queues one admin alert; the job id is fixed per alert and window, so a repeat is a no-op. */
export async function queueAdminAlert(
  deps: Pick<GatewayDeps, "notificationsQueue" | "logger">,
  alert: "failed_payments" | "unknown_outcomes" | "reconciliation",
  text: string,
  window: string,
): Promise<string> {
  const job: NotificationJob = NotificationJobSchema.parse({
    kind: "admin_alert",
    alert,
    text: text.slice(0, 3500),
  });
  const jobId = notificationJobId(job, `${alert}-${window}`);
  await deps.notificationsQueue.add(job.kind, job, {
    jobId,
    attempts: 5,
    backoff: { type: "exponential", delay: 5000 },
    removeOnComplete: { age: 7 * 86400, count: 10000 },
    removeOnFail: { age: 30 * 86400 },
  });
  deps.logger.warn({ alert, jobId }, "admin alert queued");
  return jobId;
}

export interface AlertCheck {
  failedLastHour: number;
  unknownOlderThanHour: { payments: number; renewalAttempts: number; sessions: number };
  queued: string[];
}

/**
 * The periodic alert check: failed payments in the last hour at or above the threshold, and charges
 * whose outcome is still unknown after an hour. One alert per kind per clock hour (job ids
 * `ntf-admin_alert-admin-<alert>-<hour>`).
 */
export async function checkAlerts(deps: Deps, options: MaintenanceOptions = {}): Promise<AlertCheck> {
  const now = deps.clock();
  const hourAgo = new Date(now.getTime() - HOUR);
  const window = new Date(Math.floor(now.getTime() / HOUR) * HOUR).toISOString().slice(0, 13);
  const threshold = options.failedPaymentsPerHour ?? 10;
  const [failed] = await deps.db
    .select({ n: count() })
    .from(payments)
    .where(and(eq(payments.status, "failed"), gte(payments.updatedAt, hourAgo)));
  const [unknownPayments] = await deps.db
    .select({ n: count() })
    .from(payments)
    .where(and(inArray(payments.status, ["unknown", "pending"]), lt(payments.updatedAt, hourAgo)));
  const [unknownAttempts] = await deps.db
    .select({ n: count() })
    .from(renewalAttempts)
    .where(
      and(inArray(renewalAttempts.status, ["unknown", "pending"]), lt(renewalAttempts.createdAt, hourAgo)),
    );
  const [stuckSessions] = await deps.db
    .select({ n: count() })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, "processing"), lt(paymentSessions.updatedAt, hourAgo)));
  const result: AlertCheck = {
    failedLastHour: Number(failed?.n ?? 0),
    unknownOlderThanHour: {
      payments: Number(unknownPayments?.n ?? 0),
      renewalAttempts: Number(unknownAttempts?.n ?? 0),
      sessions: Number(stuckSessions?.n ?? 0),
    },
    queued: [],
  };
  if (result.failedLastHour >= threshold) {
    result.queued.push(
      await queueAdminAlert(
        deps,
        "failed_payments",
        `⚠️ ${result.failedLastHour} failed payments in the last hour (threshold ${threshold}).`,
        window,
      ),
    );
  }
  const u = result.unknownOlderThanHour;
  if (u.payments + u.renewalAttempts + u.sessions > 0) {
    result.queued.push(
      await queueAdminAlert(
        deps,
        "unknown_outcomes",
        `⚠️ Outcomes unknown for over an hour: ${u.payments} payments, ${u.renewalAttempts} renewal attempts, ${u.sessions} sessions in processing. Run \`pnpm reconcile\`.`,
        window,
      ),
    );
  }
  return result;
}

/** Relayed notification-outbox rows are kept this long (for support), then deleted. */
export const RELAYED_NOTIFICATIONS_KEPT_MS = 30 * 24 * HOUR;

/** Stored ATMOS callbacks are kept this long unless ATMOS_CALLBACK_RETENTION_DAYS says otherwise. */
export const DEFAULT_CALLBACK_RETENTION_MS = 90 * 24 * HOUR;

/**
 * Deletes expired Idempotency-Key records, notification-outbox rows relayed more than 30 days ago
 * and ATMOS callbacks past their retention (a bounded batch of each per run); returns how many went.
 */
export async function purgeOldRecords(
  deps: Deps,
  options: MaintenanceOptions = {},
): Promise<{ idempotencyKeys: number; relayedNotifications: number; callbacks: number }> {
  const now = deps.clock();
  const limit = options.purgeLimit ?? 5000;
  const purged = {
    idempotencyKeys: await purgeExpiredIdempotencyKeys(deps.db, now, limit),
    relayedNotifications: await purgeRelayedNotifications(
      deps.db,
      new Date(now.getTime() - RELAYED_NOTIFICATIONS_KEPT_MS),
      limit,
    ),
    callbacks: await purgeOldCallbacks(
      deps.db,
      new Date(now.getTime() - (options.callbackRetentionMs ?? DEFAULT_CALLBACK_RETENTION_MS)),
      limit,
    ),
  };
  if (purged.idempotencyKeys + purged.relayedNotifications + purged.callbacks > 0)
    deps.logger.info(purged, "old records purged");
  return purged;
}

/**
 * The gateway's periodic maintenance (MAINTENANCE_INTERVAL_MS): re-check stuck sessions, relay the
 * notifications still owed in the outbox, the alerts, then the purge of expired Idempotency-Key
 * records. Runs are never concurrent within a process; several gateway instances are harmless
 * (finalisation runs once per session, alert job ids are deterministic). Returns a stop function.
 */
export function startMaintenance(
  inputDeps: GatewayDeps,
  options: MaintenanceOptions & { intervalMs: number },
): () => Promise<void> {
  const metrics = inputDeps.metrics ?? createMetrics();
  const deps: Deps = { ...inputDeps, metrics, atmos: instrumentAtmos(inputDeps.atmos, metrics) };
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = (async () => {
      try {
        await recheckStuckSessions(deps, options);
        const relayed = await relayOwedNotifications(deps);
        if (relayed.queued + relayed.left > 0) deps.logger.info(relayed, "owed notifications relayed");
        await checkAlerts(deps, options);
        await purgeOldRecords(deps, options);
      } catch (error) {
        deps.logger.error({ err: (error as Error).message }, "maintenance run failed");
      }
    })().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
