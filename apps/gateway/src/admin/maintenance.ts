import { isAtmosError } from "@obuna/atmos";
import { failSessionPayment } from "@obuna/billing";
import { type NotificationJob, NotificationJobSchema, notificationJobId } from "@obuna/contracts/jobs";
import { paymentSessions } from "@obuna/db/schema";
import { and, eq, lt } from "drizzle-orm";
import type { GatewayDeps } from "../context";
import type { GatewayMetrics } from "../metrics";
import { getSessionView } from "../queries/payment-sessions";
import { reconcileSession } from "../services/payment-flow";
import { opsCounter } from "./metrics";

/*
 * The gateway runs no timers: every periodic job (outbox relay, expiry, reminders, purges, admin
 * alerts, …) is a BullMQ job scheduler in apps/renewals and runs once per cluster (docs/renewals.md).
 * The stuck-session re-check below is still the gateway's code because it needs the payment-finalize
 * logic (services/payment-flow); it becomes the renewals `stuck-session-recheck` job once that logic
 * lives in packages/billing. Until then nothing calls it periodically.
 */

type Deps = GatewayDeps & { metrics: GatewayMetrics };

const MINUTE = 60_000;

export interface MaintenanceOptions {
  /** Re-check sessions in `processing` for longer than this at ATMOS (default 5 min). */
  recheckAfterMs?: number;
  /**
   * A session still `processing` after this long whose ATMOS transaction is not confirmed (created,
   * pre-applied, or unknown to ATMOS) is failed: only our apply can confirm it, and ours has ended
   * (default 30 min = the session lifetime).
   */
  giveUpAfterMs?: number;
  limit?: number;
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
