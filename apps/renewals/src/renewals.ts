import { type AtmosClient, isAtmosError } from "@obuna/atmos";
import type { ErrorReporter } from "@obuna/contracts/error-reporting";
import {
  NotificationJobSchema,
  notificationJobId,
  QUEUES,
  RENEWAL_JOBS,
  type RenewalChargeJob,
  RenewalChargeJobSchema,
  renewalChargeJobId,
} from "@obuna/contracts/jobs";
import { type Database, parseCardTokenKey } from "@obuna/db";
import type { DueRenewal } from "@obuna/db/queries";
import { type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { RenewalContext } from "./core/deps";
import { outboxRelay } from "./core/notifications";
import { sweepDueRenewals } from "./core/sweep";
import { policyFromEnv, type RenewalsEnv } from "./env";
import { createRenewalsMetrics } from "./metrics";
import { chargeProcessor } from "./processors/charge";
import { janitorProcessor, maintenanceProcessor, priceNoticesProcessor } from "./processors/housekeeping";
import { retryNowProcessor } from "./processors/retry-now";
import {
  CHARGE_JOB_PRIORITY,
  notificationJobOptions,
  renewalJobOptions,
  renewalWorkerOptions,
  schedulerJobOptions,
} from "./queues/renewals.config";
import { redisConnection } from "./redis";
import { createServer } from "./server";

export interface RenewalsDeps {
  db: Database;
  atmos: AtmosClient;
  /** redis:// URL; the worker and the queues open their own connections from it. */
  redisUrl: string;
  config: RenewalsEnv;
  clock?: () => Date;
  logger: Logger;
  /** BullMQ key prefix (tests and the benchmark isolate themselves with it). */
  prefix?: string;
  /** How often a started worker checks that its job schedulers still exist in Redis (default 15 s). */
  schedulerGuardMs?: number;
  /** Optional Sentry (SENTRY_DSN): worker errors and unexpected job failures are reported there too. */
  errorReporter?: ErrorReporter;
  /** Node's default process metrics on /metrics too (the process entry point turns them on). */
  defaultMetrics?: boolean;
}

/** The janitor looks for unknown outcomes and dead workers' attempts every minute. */
const JANITOR_EVERY_MS = 60_000;

/**
 * The renewals worker: one `renewals` queue with the sweep/janitor/maintenance schedulers and the
 * charge/retry-now jobs, a producer for `notifications`, and the health + Bull Board server.
 * Nothing connects until `start()` (the queues connect lazily on first use).
 */
export function createRenewals(deps: RenewalsDeps) {
  const { config, logger } = deps;
  const prefix = deps.prefix ?? "bull";
  const producer = { connection: redisConnection(deps.redisUrl, "producer"), prefix };
  const queue = new Queue(QUEUES.renewals, { ...producer, defaultJobOptions: renewalJobOptions });
  const notifications = new Queue(QUEUES.notifications, {
    ...producer,
    defaultJobOptions: notificationJobOptions,
  });

  const clock = deps.clock ?? (() => new Date());
  const ctx: RenewalContext = {
    db: deps.db,
    atmos: deps.atmos,
    policy: policyFromEnv(config),
    cardTokenKey: parseCardTokenKey(config.CARD_TOKEN_KEY),
    clock,
    logger,
    notify: async (job, discriminator) => {
      const data = NotificationJobSchema.parse(job);
      await notifications.add(data.kind, data, { jobId: notificationJobId(data, discriminator) });
    },
    ...outboxRelay({ db: deps.db, notifications, logger, clock }),
  };

  async function enqueueCharges(due: DueRenewal[]) {
    await queue.addBulk(
      due.map((d) => {
        const data: RenewalChargeJob = RenewalChargeJobSchema.parse({
          subscriptionId: d.subscriptionId,
          periodEnd: d.periodEnd.toISOString(),
        });
        return {
          name: RENEWAL_JOBS.charge,
          data,
          opts: { jobId: renewalChargeJobId(data, d.nextAttemptNumber), priority: CHARGE_JOB_PRIORITY },
        };
      }),
    );
  }

  /** Finds due subscriptions and enqueues one deterministic charge job each. */
  const sweep = () => sweepDueRenewals(ctx, enqueueCharges);

  const processors: Record<string, (job: Job) => Promise<unknown>> = {
    [RENEWAL_JOBS.sweep]: async () => ({ enqueued: await sweep() }),
    [RENEWAL_JOBS.charge]: (job) => chargeProcessor(ctx, job),
    [RENEWAL_JOBS.retryNow]: (job) => retryNowProcessor(ctx, job),
    [RENEWAL_JOBS.janitor]: (job) => janitorProcessor(ctx, job),
    [RENEWAL_JOBS.maintenance]: (job) => maintenanceProcessor(ctx, job),
    [RENEWAL_JOBS.priceNotices]: (job) => priceNoticesProcessor(ctx, job),
  };

  const worker = new Worker(
    QUEUES.renewals,
    async (job) => {
      const processor = processors[job.name];
      if (!processor) {
        throw new UnrecoverableError(`no processor for job ${job.name}`);
      }
      return processor(job);
    },
    {
      connection: redisConnection(deps.redisUrl, "worker"),
      prefix,
      ...renewalWorkerOptions({
        concurrency: config.RENEWALS_CONCURRENCY,
        ratePerSecond: config.RENEWALS_ATMOS_RATE_PER_S,
      }),
    },
  );
  worker.on("error", (error) => {
    logger.error({ err: error.message }, "renewals worker error");
    deps.errorReporter?.capture(error, { component: "renewals-worker" });
  });
  worker.on("failed", (job, error) => {
    logger.warn(
      { jobId: job?.id, job: job?.name, attemptsMade: job?.attemptsMade, err: error.message },
      "renewals job failed",
    );
    // A card decline is business as usual; anything else is worth a look.
    if (!isAtmosError(error) && !(error instanceof UnrecoverableError)) {
      deps.errorReporter?.capture(error, { jobId: job?.id ?? null, job: job?.name ?? null });
    }
  });

  const metrics = createRenewalsMetrics({
    queues: [queue, notifications],
    defaultMetrics: deps.defaultMetrics ?? false,
  });
  metrics.observe(worker);

  let running = false;
  const app = createServer({
    adminToken: config.ADMIN_TOKEN,
    queues: [queue, notifications],
    metrics: { registry: metrics.registry, token: config.METRICS_TOKEN },
    isRunning: () => running,
    checks: {
      postgres: async () => {
        await deps.db.execute(sql`select 1`);
      },
      redis: async () => {
        await queue.getJobCounts("active");
      },
    },
  });

  async function upsertSchedulers() {
    await queue.upsertJobScheduler(
      RENEWAL_JOBS.sweep,
      { every: config.RENEWALS_SWEEP_INTERVAL_MS },
      { name: RENEWAL_JOBS.sweep, data: {}, opts: schedulerJobOptions },
    );
    await queue.upsertJobScheduler(
      RENEWAL_JOBS.janitor,
      { every: JANITOR_EVERY_MS },
      { name: RENEWAL_JOBS.janitor, data: {}, opts: schedulerJobOptions },
    );
    await queue.upsertJobScheduler(
      RENEWAL_JOBS.maintenance,
      { every: config.RENEWALS_SWEEP_INTERVAL_MS },
      { name: RENEWAL_JOBS.maintenance, data: {}, opts: schedulerJobOptions },
    );
    await queue.upsertJobScheduler(
      RENEWAL_JOBS.priceNotices,
      { every: config.RENEWALS_SWEEP_INTERVAL_MS },
      { name: RENEWAL_JOBS.priceNotices, data: {}, opts: schedulerJobOptions },
    );
  }

  /**
   * The schedulers live only in Redis: a Redis that lost its data (restart without persistence,
   * failover) would leave the worker running with no sweep, janitor or maintenance ever again.
   * Re-creates them when one is missing; the database then re-supplies the lost charge jobs.
   */
  async function ensureSchedulers(): Promise<boolean> {
    const ids = [
      RENEWAL_JOBS.sweep,
      RENEWAL_JOBS.janitor,
      RENEWAL_JOBS.maintenance,
      RENEWAL_JOBS.priceNotices,
    ];
    const found = await Promise.all(ids.map((id) => queue.getJobScheduler(id)));
    if (found.every(Boolean)) return false;
    logger.warn("renewals job schedulers missing in Redis (data lost?); re-creating them");
    await upsertSchedulers();
    return true;
  }

  let schedulerGuard: ReturnType<typeof setInterval> | null = null;

  /** Upserts the job schedulers (idempotent at every boot) and starts processing. */
  async function start(options: { schedulers?: boolean } = {}) {
    if (options.schedulers ?? true) {
      await upsertSchedulers();
      schedulerGuard = setInterval(() => {
        ensureSchedulers().catch((error) =>
          logger.warn({ err: String(error) }, "renewals scheduler check failed"),
        );
      }, deps.schedulerGuardMs ?? 15_000);
      schedulerGuard.unref();
    }
    void worker.run().catch((error) => logger.error({ err: String(error) }, "renewals worker stopped"));
    await worker.waitUntilReady();
    running = true;
    logger.info(
      { concurrency: config.RENEWALS_CONCURRENCY, ratePerSecond: config.RENEWALS_ATMOS_RATE_PER_S },
      "renewals worker started",
    );
  }

  /** Graceful: stops taking jobs and waits for running charges to finish, then closes the queues. */
  async function close() {
    running = false;
    if (schedulerGuard) clearInterval(schedulerGuard);
    await worker.close();
    await Promise.all([queue.close(), notifications.close()]);
  }

  return { ctx, queue, notifications, worker, app, metrics, sweep, start, close, ensureSchedulers };
}

export type Renewals = ReturnType<typeof createRenewals>;
