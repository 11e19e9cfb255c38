import type { Database } from "@obuna/db";
import {
  countPaymentsSince,
  countRenewalAttemptsSince,
  countStuckPaymentSessions,
  countUnknownPayments,
  countUnknownRenewalAttempts,
  owedNotifications,
} from "@obuna/db/queries";
import { Counter, Gauge } from "prom-client";
import type { GatewayMetrics } from "../metrics";

/**
 * Operations metrics on the gateway's registry (served at /metrics):
 * - gateway_admin_actions_total{action,outcome}
 * - gateway_maintenance_sessions_total{outcome}: stuck sessions re-checked (recheckStuckSessions)
 * - obuna_payments_24h{kind,status}: payments created in the last 24 h, from the database — this
 *   covers renewals (kind="renewal") whichever process charged them
 * - obuna_renewal_attempts_24h{status}, obuna_unknown_outcomes{source}, obuna_stuck_sessions
 * - obuna_notifications_owed, obuna_notifications_owed_oldest_seconds: the notification outbox
 * ATMOS latency and errors are `gateway_atmos_call_duration_seconds{method,outcome}` (outcome = ok or
 * the AtmosError kind); payment outcomes of this process are `gateway_payments_total{outcome}`.
 */
export function registerOpsMetrics(metrics: GatewayMetrics, db: Database, clock: () => Date) {
  const registry = metrics.registry;
  if (registry.getSingleMetric("gateway_admin_actions_total")) return;
  new Counter({
    name: "gateway_admin_actions_total",
    help: "Admin actions by action and outcome",
    labelNames: ["action", "outcome"] as const,
    registers: [registry],
  });
  new Counter({
    name: "gateway_maintenance_sessions_total",
    help: "Payment sessions stuck in processing that the stuck-session re-check finished or left, by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const since = () => new Date(clock().getTime() - 86_400_000);
  new Gauge({
    name: "obuna_payments_24h",
    help: "Payments created in the last 24 hours, by kind (initial/renewal) and status (database)",
    labelNames: ["kind", "status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const rows = await countPaymentsSince(db, since());
        for (const r of rows) this.set({ kind: r.kind, status: r.status }, Number(r.n));
      } catch {
        // /metrics must answer even when the database does not.
      }
    },
  });
  new Gauge({
    name: "obuna_notifications_owed",
    help: "Notifications recorded in the outbox that the queue has not taken yet",
    registers: [registry],
    async collect() {
      try {
        this.set((await owedNotifications(db)).count);
      } catch {
        // /metrics must answer even when the database does not.
      }
    },
  });
  new Gauge({
    name: "obuna_notifications_owed_oldest_seconds",
    help: "Age of the oldest notification still owed (0 when none)",
    registers: [registry],
    async collect() {
      try {
        const { oldest } = await owedNotifications(db);
        this.set(oldest ? Math.max(0, (clock().getTime() - oldest.getTime()) / 1000) : 0);
      } catch {
        // ignore
      }
    },
  });
  new Gauge({
    name: "obuna_renewal_attempts_24h",
    help: "Renewal attempts created in the last 24 hours, by status (database)",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const rows = await countRenewalAttemptsSince(db, since());
        for (const r of rows) this.set({ status: r.status }, Number(r.n));
      } catch {
        // ignore
      }
    },
  });
  new Gauge({
    name: "obuna_unknown_outcomes",
    help: "Charges whose outcome is still unknown, by source (payments / renewal_attempts)",
    labelNames: ["source"] as const,
    registers: [registry],
    async collect() {
      try {
        const unknownPayments = await countUnknownPayments(db);
        const unknownAttempts = await countUnknownRenewalAttempts(db);
        this.set({ source: "payments" }, unknownPayments);
        this.set({ source: "renewal_attempts" }, unknownAttempts);
      } catch {
        // ignore
      }
    },
  });
  new Gauge({
    name: "obuna_stuck_sessions",
    help: "Payment sessions in processing for more than 10 minutes",
    registers: [registry],
    async collect() {
      try {
        this.set(await countStuckPaymentSessions(db, new Date(clock().getTime() - 600_000)));
      } catch {
        // ignore
      }
    },
  });
}

type LabelledCounter = { inc(labels: Record<string, string>, value?: number): void };

export function opsCounter(metrics: GatewayMetrics, name: string): LabelledCounter | undefined {
  return metrics.registry.getSingleMetric(name) as unknown as LabelledCounter | undefined;
}
