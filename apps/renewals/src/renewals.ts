import { isProviderError, type PaymentProvider } from "@obuna/billing";
import type { ErrorReporter } from "@obuna/contracts/error-reporting";
import {
  EVENT_JOBS,
  EventDeliveryJobSchema,
  eventDeliveryJobId,
  NotificationJobSchema,
  notificationJobId,
  QUEUES,
  RENEWAL_JOBS,
  type RenewalChargeJob,
  RenewalChargeJobSchema,
  renewalChargeJobId,
} from "@obuna/contracts/jobs";
import { type Database, parseCardTokenKey, pingDatabase } from "@obuna/db";
import type { DueRenewal } from "@obuna/db/queries";
import { type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import type { Logger } from "pino";
import type { RenewalContext } from "./core/deps";
import {
  deliverPremiumEvent,
  EventDeliveryError,
  type EventsContext,
  relayPremiumEvents,
} from "./core/events";
import { outboxRelay } from "./core/notifications";
import { sweepDueRenewals } from "./core/sweep";
import { policyFromEnv, type RenewalsEnv } from "./env";
import { createRenewalsMetrics } from "./metrics";
import { chargeProcessor } from "./processors/charge";
import { retryNowProcessor } from "./processors/retry-now";
import { requeueChargeJobsDueAgain } from "./queues/charge-jobs-due-again";
import { eventJobOptions } from "./queues/events.config";
import { periodicJobs } from "./queues/periodic-jobs";
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
  /** The card rail (PaymentProvider port): the composition root builds the adapter (`createAtmosProvider`). */
  provider: PaymentProvider;
  /** redis:// URL; the worker and the queues open their own connections from it. */
  redisUrl: string;
  config: RenewalsEnv;
  clock?: () => Date;
  logger: Logger;
  /** BullMQ key prefix (tests and the benchmark isolate themselves with it). */
  prefix?: string;
  /**
   * How often a started worker checks that the job schedulers still exist in Redis (default 15 s).
   * A check, not periodic work: it re-creates what a Redis that lost its data forgot.
   */
  schedulerGuardMs?: number;
  /** Optional Sentry (SENTRY_DSN): worker errors and unexpected job failures are reported there too. */
  errorReporter?: ErrorReporter;
  /** Node's default process metrics on /metrics too (the process entry point turns them on). */
  defaultMetrics?: boolean;
}

/**
 * The renewals worker: one `renewals` queue with the charge/retry-now jobs and the job schedulers of
 * every periodic job of the cluster (queues/periodic-jobs.ts), a producer for `notifications`, and
 * the health + Bull Board server. Nothing connects until `start()` (the queues connect lazily).
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
  const events = new Queue(QUEUES.events, { ...producer, defaultJobOptions: eventJobOptions(config) });

  const clock = deps.clock ?? (() => new Date());
  const ctx: RenewalContext = {
    db: deps.db,
    provider: deps.provider,
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
    const jobs = due.map((d) => {
      const data: RenewalChargeJob = RenewalChargeJobSchema.parse({
        subscriptionId: d.subscriptionId,
        periodEnd: d.periodEnd.toISOString(),
      });
      return {
        name: RENEWAL_JOBS.charge,
        data,
        opts: { jobId: renewalChargeJobId(data, d.nextAttemptNumber), priority: CHARGE_JOB_PRIORITY },
      };
    });
    // An add under a finished job's id is ignored: such a job is put back instead (see the function).
    await requeueChargeJobsDueAgain(
      queue,
      jobs.map((j) => j.opts.jobId),
      logger,
    );
    await queue.addBulk(jobs);
  }

  /** Finds due subscriptions and enqueues one deterministic charge job each. */
  const sweep = () => sweepDueRenewals(ctx, enqueueCharges);

  const eventsCtx: EventsContext = {
    db: deps.db,
    clock,
    logger,
    endpoints: config.EVENTS_ENDPOINTS,
    signingSecret: config.EVENTS_SIGNING_SECRET,
    timeoutMs: config.EVENTS_TIMEOUT_MS,
    enqueueDeliveries: (deliveries) =>
      events.addBulk(
        deliveries.map((d) => {
          const data = EventDeliveryJobSchema.parse({ deliveryId: d.id, generation: d.generation });
          return { name: EVENT_JOBS.delivery, data, opts: { jobId: eventDeliveryJobId(data) } };
        }),
      ),
  };

  const periodic = periodicJobs(config, { sweep, eventsRelay: () => relayPremiumEvents(eventsCtx) });
  const processors: Record<string, (job: Job) => Promise<unknown>> = {
    [RENEWAL_JOBS.charge]: (job) => chargeProcessor(ctx, job),
    [RENEWAL_JOBS.retryNow]: (job) => retryNowProcessor(ctx, job),
    ...Object.fromEntries(periodic.map((p) => [p.name, () => p.process(ctx)])),
  };

  /** Runs one periodic job here and now, as its scheduled job would (tests; an operator's one-off). */
  async function runPeriodicJob(name: string): Promise<unknown> {
    const job = periodic.find((p) => p.name === name);
    if (!job) throw new Error(`no periodic job ${name}`);
    return job.process(ctx);
  }

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
  /** Signed premium events: one job per delivery; a failed attempt throws, so BullMQ retries with backoff. */
  const eventsWorker = new Worker(
    QUEUES.events,
    async (job) => {
      if (job.name !== EVENT_JOBS.delivery) throw new UnrecoverableError(`no processor for job ${job.name}`);
      const data = EventDeliveryJobSchema.parse(job.data);
      const outcome = await deliverPremiumEvent(eventsCtx, data, {
        isLastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      });
      if (outcome.status === "retry")
        throw new EventDeliveryError(outcome.error ?? "failed", outcome.statusCode);
      if (outcome.status === "failed")
        throw new UnrecoverableError(`delivery failed for good: ${outcome.error ?? "failed"}`);
      return outcome;
    },
    {
      connection: redisConnection(deps.redisUrl, "worker"),
      prefix,
      concurrency: config.EVENTS_CONCURRENCY,
      autorun: false,
    },
  );
  eventsWorker.on("error", (error) => logger.error({ err: error.message }, "events worker error"));
  eventsWorker.on("failed", (job, error) =>
    logger.warn(
      { jobId: job?.id, attemptsMade: job?.attemptsMade, err: error.message },
      "premium event delivery attempt failed",
    ),
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
    if (!isProviderError(error) && !(error instanceof UnrecoverableError)) {
      deps.errorReporter?.capture(error, { jobId: job?.id ?? null, job: job?.name ?? null });
    }
  });

  const metrics = createRenewalsMetrics({
    queues: [queue, notifications, events],
    defaultMetrics: deps.defaultMetrics ?? false,
  });
  metrics.observe(worker);

  let running = false;
  const app = createServer({
    adminToken: config.ADMIN_TOKEN,
    queues: [queue, notifications, events],
    metrics: { registry: metrics.registry, token: config.METRICS_TOKEN },
    isRunning: () => running,
    checks: {
      postgres: async () => {
        await pingDatabase(deps.db);
      },
      redis: async () => {
        await queue.getJobCounts("active");
      },
    },
  });

  /**
   * One job scheduler per periodic job, upserted by id: every worker does it at boot and the result is
   * the same one scheduler each (a restart or a second worker replaces the pending job at the same
   * time, it adds none; a changed interval takes effect at once). Schedulers of jobs this version no
   * longer has (`renewals-maintenance` before the split) are removed.
   */
  async function upsertSchedulers() {
    for (const job of periodic) {
      await queue.upsertJobScheduler(
        job.name,
        { every: job.everyMs },
        { name: job.name, data: {}, opts: schedulerJobOptions },
      );
    }
    await removeRetiredSchedulers();
  }

  async function removeRetiredSchedulers() {
    const wanted = new Set(periodic.map((job) => job.name));
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      const id = scheduler.id ?? scheduler.key;
      if (wanted.has(id)) continue;
      await queue.removeJobScheduler(id);
      logger.info({ scheduler: id }, "retired job scheduler removed");
    }
  }

  /**
   * The schedulers live only in Redis: a Redis that lost its data (restart without persistence,
   * failover) would leave the worker running with no sweep, janitor, expiry or relay ever again.
   * Re-creates them when one is missing; the database then re-supplies the lost charge jobs.
   */
  async function ensureSchedulers(): Promise<boolean> {
    const found = await Promise.all(periodic.map((job) => queue.getJobScheduler(job.name)));
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
    void eventsWorker.run().catch((error) => logger.error({ err: String(error) }, "events worker stopped"));
    await Promise.all([worker.waitUntilReady(), eventsWorker.waitUntilReady()]);
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
    await Promise.all([worker.close(), eventsWorker.close()]);
    await Promise.all([queue.close(), notifications.close(), events.close()]);
  }

  return {
    ctx,
    queue,
    notifications,
    events,
    worker,
    eventsWorker,
    eventsCtx,
    app,
    metrics,
    sweep,
    start,
    close,
    ensureSchedulers,
    runPeriodicJob,
    /** The periodic jobs this worker schedules (name, interval). */
    periodicJobs: periodic.map(({ name, everyMs }) => ({ name, everyMs })),
  };
}

export type Renewals = ReturnType<typeof createRenewals>;
