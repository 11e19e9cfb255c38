import type { Queue, Worker } from "bullmq";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/**
 * Job states counted per queue. Charge jobs carry a priority, and BullMQ keeps prioritized jobs in
 * their own `prioritized` state (not `waiting`), so both are reported: a charge backlog shows there.
 */
export const QUEUE_STATES = ["waiting", "prioritized", "active", "delayed", "failed", "completed"] as const;

/**
 * The renewals worker's Prometheus registry, served at `GET /metrics` (Bearer METRICS_TOKEN):
 * `renewals_queue_jobs{queue,state}` read from Redis at every scrape (`Queue.getJobCounts`),
 * `renewals_queue_up` (0 when Redis did not answer that scrape), `renewals_jobs_total{job,outcome}`
 * counted by this process, plus Node's default process metrics.
 */
export function createRenewalsMetrics(options: { queues: Queue[]; defaultMetrics?: boolean }) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const up = new Gauge({
    name: "renewals_queue_up",
    help: "1 when the queue counts of this scrape were read from Redis, 0 when Redis did not answer",
    registers: [registry],
  });
  new Gauge({
    name: "renewals_queue_jobs",
    help: "BullMQ jobs per queue and state (read from Redis at scrape time)",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const queue of options.queues) {
          const counts = await withTimeout(queue.getJobCounts(...QUEUE_STATES), 2_000);
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
        up.set(1);
      } catch {
        // /metrics must answer while Redis is down: the gauge is empty and renewals_queue_up says why.
        this.reset();
        up.set(0);
      }
    },
  });
  const jobs = new Counter({
    name: "renewals_jobs_total",
    help: "Jobs finished by this worker process, by job name and outcome (completed, failed)",
    labelNames: ["job", "outcome"] as const,
    registers: [registry],
  });
  return {
    registry,
    /** Counts the worker's finished jobs. */
    observe(worker: Worker) {
      worker.on("completed", (job) => jobs.inc({ job: job.name, outcome: "completed" }));
      worker.on("failed", (job) => jobs.inc({ job: job?.name ?? "unknown", outcome: "failed" }));
    },
  };
}

export type RenewalsMetrics = ReturnType<typeof createRenewalsMetrics>;

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
