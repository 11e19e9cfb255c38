import { providerChargeReader, recheckStuckSessions as recheckStuckSessionsInCore } from "@obuna/billing";
import { type NotificationJob, NotificationJobSchema, notificationJobId } from "@obuna/contracts/jobs";
import type { GatewayDeps } from "../context";
import type { GatewayMetrics } from "../metrics";
import { flushNotifications } from "../services/notifications";
import { opsCounter } from "./metrics";

/*
 * The gateway runs no timers: every periodic job (the stuck-session re-check, outbox relay, expiry,
 * reminders, purges, admin alerts, …) is a BullMQ job scheduler in apps/renewals and runs once per
 * cluster (docs/renewals.md). The re-check itself is the money core's (`recheckStuckSessions` in
 * @obuna/billing); this wrapper runs it with the gateway's dependencies (tests, operators' scripts).
 */

type Deps = GatewayDeps & { metrics: GatewayMetrics };

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

/** Finishes payment sessions left in `processing`: see `recheckStuckSessions` in @obuna/billing. */
export async function recheckStuckSessions(
  deps: Deps,
  options: MaintenanceOptions = {},
): Promise<RecheckResult[]> {
  const results = await recheckStuckSessionsInCore(
    deps.db,
    {
      clock: deps.clock,
      cardTokenKey: deps.config.cardTokenKey,
      actor: "gateway",
      readCharge: providerChargeReader(deps.provider, (error, externalId) =>
        deps.logger.warn(
          { externalId, err: (error as Error).message },
          "stuck session re-check: the provider could not be asked",
        ),
      ),
    },
    options,
  );
  for (const r of results) {
    opsCounter(deps.metrics, "gateway_maintenance_sessions_total")?.inc({ outcome: r.outcome });
    if (r.outcome !== "unknown")
      deps.metrics.payments.inc({ outcome: r.outcome === "completed" ? "success" : "failed" });
    deps.logger.info({ sessionId: r.sessionId, outcome: r.outcome }, "stuck session re-checked");
    await flushNotifications(deps, r.notificationIds);
  }
  return results.map(({ sessionId, outcome }) => ({ sessionId, outcome }));
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
