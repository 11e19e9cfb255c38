import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import type { RenewalsEnv } from "../env";
import {
  adminAlertsProcessor,
  cardTokenErasureProcessor,
  expiryProcessor,
  idempotencyPurgeProcessor,
  janitorProcessor,
  outboxRelayProcessor,
  type PeriodicProcessor,
  priceNoticesProcessor,
  recordsPurgeProcessor,
  remindersProcessor,
} from "../processors/housekeeping";

/**
 * A job that runs every `everyMs` once per cluster: the renewals worker upserts one BullMQ job
 * scheduler per entry (scheduler id = job name), and whichever worker takes the job runs it. No
 * process of the cluster keeps a timer of its own for this work (not the gateway, not a worker).
 */
export interface PeriodicJob {
  name: string;
  everyMs: number;
  process: PeriodicProcessor;
}

const DAY = 86_400_000;

/**
 * Every periodic job of the cluster, each with its interval from env (RENEWALS_*_INTERVAL_MS).
 * A run may overlap the previous one when it takes longer than its interval: every job below is safe
 * to run twice at once (row locks, `skip locked`, deterministic job ids).
 */
export function periodicJobs(
  config: RenewalsEnv,
  jobs: { sweep: () => Promise<number>; eventsRelay: () => Promise<unknown> },
): PeriodicJob[] {
  return [
    {
      name: RENEWAL_JOBS.sweep,
      everyMs: config.RENEWALS_SWEEP_INTERVAL_MS,
      process: async () => ({ enqueued: await jobs.sweep() }),
    },
    { name: RENEWAL_JOBS.janitor, everyMs: config.RENEWALS_JANITOR_INTERVAL_MS, process: janitorProcessor },
    {
      name: RENEWAL_JOBS.priceNotices,
      everyMs: config.RENEWALS_PRICE_NOTICES_INTERVAL_MS,
      process: priceNoticesProcessor,
    },
    {
      name: RENEWAL_JOBS.outboxRelay,
      everyMs: config.RENEWALS_OUTBOX_RELAY_INTERVAL_MS,
      process: outboxRelayProcessor,
    },
    { name: RENEWAL_JOBS.expiry, everyMs: config.RENEWALS_EXPIRY_INTERVAL_MS, process: expiryProcessor },
    {
      name: RENEWAL_JOBS.reminders,
      everyMs: config.RENEWALS_REMINDERS_INTERVAL_MS,
      process: remindersProcessor,
    },
    {
      name: RENEWAL_JOBS.cardTokenErasure,
      everyMs: config.RENEWALS_CARD_TOKEN_ERASURE_INTERVAL_MS,
      process: cardTokenErasureProcessor,
    },
    {
      name: RENEWAL_JOBS.idempotencyPurge,
      everyMs: config.RENEWALS_IDEMPOTENCY_PURGE_INTERVAL_MS,
      process: idempotencyPurgeProcessor,
    },
    {
      name: RENEWAL_JOBS.recordsPurge,
      everyMs: config.RENEWALS_RECORDS_PURGE_INTERVAL_MS,
      process: recordsPurgeProcessor({ callbackRetentionMs: config.ATMOS_CALLBACK_RETENTION_DAYS * DAY }),
    },
    {
      name: RENEWAL_JOBS.adminAlerts,
      everyMs: config.RENEWALS_ADMIN_ALERTS_INTERVAL_MS,
      process: adminAlertsProcessor({ failedPaymentsPerHour: config.ALERT_FAILED_PAYMENTS_PER_HOUR }),
    },
    {
      name: RENEWAL_JOBS.eventsRelay,
      everyMs: config.RENEWALS_EVENTS_RELAY_INTERVAL_MS,
      process: () => jobs.eventsRelay(),
    },
    // ── TODO(issue 18, lead): `stuck-session-recheck` goes here once packages/billing has the payment
    // finalize logic: RENEWAL_JOBS.stuckSessionRecheck ("stuck-session-recheck"), its interval
    // RENEWALS_STUCK_SESSION_RECHECK_INTERVAL_MS (default 60 000, the old gateway MAINTENANCE_INTERVAL_MS)
    // in env.ts/.env.example/README/chaos harness, and a processor calling billing's re-check (today
    // apps/gateway/src/admin/maintenance.ts: recheckStuckSessions + giveUpIfNeverConfirmed). Until then
    // no timer re-checks stuck sessions (GET /payment/session, callbacks and `pnpm reconcile` still do).
  ];
}
