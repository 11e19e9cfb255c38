// Periodic work runs once per cluster: one BullMQ job scheduler per job on the `renewals` queue,
// whichever worker takes the job runs it. These tests start real workers on the package's Redis and
// database and read what BullMQ recorded.
import { Writable } from "node:stream";
import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { payments, plans, subscriptions, users } from "@obuna/db/schema";
import type { Job } from "bullmq";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { purgeIdempotencyKeys, purgeOldRecords } from "../src/core/purge";
import type { RenewalsEnv } from "../src/env";
import { createWorld, db, dbHandle, type World } from "./harness";

const MINUTE = 60_000;

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

/** Every periodic job's interval set to `ms`. */
function everyJobEvery(ms: number): Partial<Record<keyof RenewalsEnv, string>> {
  const names = [
    "RENEWALS_SWEEP_INTERVAL_MS",
    "RENEWALS_JANITOR_INTERVAL_MS",
    "RENEWALS_PRICE_NOTICES_INTERVAL_MS",
    "RENEWALS_OUTBOX_RELAY_INTERVAL_MS",
    "RENEWALS_EXPIRY_INTERVAL_MS",
    "RENEWALS_REMINDERS_INTERVAL_MS",
    "RENEWALS_CARD_TOKEN_ERASURE_INTERVAL_MS",
    "RENEWALS_IDEMPOTENCY_PURGE_INTERVAL_MS",
    "RENEWALS_RECORDS_PURGE_INTERVAL_MS",
    "RENEWALS_ADMIN_ALERTS_INTERVAL_MS",
    "RENEWALS_EVENTS_RELAY_INTERVAL_MS",
    "RENEWALS_STUCK_SESSION_RECHECK_INTERVAL_MS",
  ] as const;
  return Object.fromEntries(names.map((name) => [name, String(ms)]));
}

/** Jobs BullMQ ran (or is running) so far, by job name. */
async function runsByName(w: World): Promise<Map<string, Job[]>> {
  const jobs = await w.renewals.queue.getJobs(["completed", "failed", "active"], 0, -1);
  const byName = new Map<string, Job[]>();
  for (const job of jobs) byName.set(job.name, [...(byName.get(job.name) ?? []), job]);
  return byName;
}

/** The scheduled time of a scheduler-made job (`repeat:<scheduler>:<millis>`). */
function slotOf(job: Job): number {
  return Number(job.id!.slice(job.id!.lastIndexOf(":") + 1));
}

/** A pino logger whose lines land in `lines` (parsed). */
function capturingLogger(lines: Array<Record<string, unknown>>) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "info" }, sink);
}

describe("periodic jobs run once per cluster", () => {
  it("two workers on one Redis: each periodic job runs once per interval, not once per worker", async () => {
    const intervalMs = 1_000;
    world = await createWorld(new Date(), { env: everyJobEvery(intervalMs) });
    const w = world;
    const other = w.spawnInstance();
    const startedAt = Date.now();
    await Promise.all([w.renewals.start(), other.start()]);
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    await Promise.all([w.renewals.worker.close(), other.worker.close()]);
    const elapsed = Date.now() - startedAt;

    const names = w.renewals.periodicJobs.map((j) => j.name);
    expect(names).toHaveLength(12);
    expect((await w.renewals.queue.getJobSchedulers(0, -1)).map((s) => s.key).sort()).toEqual(
      [...names].sort(),
    );
    const byName = await runsByName(w);
    for (const name of names) {
      const runs = byName.get(name) ?? [];
      const slots = runs.map(slotOf).sort((a, b) => a - b);
      // Both workers took part, but one run per slot: a second scheduler (or a timer per worker)
      // would double the count and put two runs inside one interval.
      expect(runs.length, name).toBeGreaterThanOrEqual(3);
      expect(runs.length, name).toBeLessThanOrEqual(Math.floor(elapsed / intervalMs) + 1);
      for (let i = 1; i < slots.length; i++) {
        expect(slots[i]! - slots[i - 1]!, name).toBeGreaterThanOrEqual(intervalMs);
      }
      expect(
        runs.filter((job) => job.failedReason),
        name,
      ).toEqual([]);
    }
  });

  it("a restart upserts the same schedulers: none duplicated, no extra run, a changed interval applies, retired ones go", async () => {
    world = await createWorld(new Date(), { env: everyJobEvery(MINUTE) });
    const w = world;
    // What the previous version left in Redis: its combined maintenance job.
    await w.renewals.queue.upsertJobScheduler(
      "renewals-maintenance",
      { every: 5 * MINUTE },
      { name: "renewals-maintenance", data: {} },
    );
    const first = w.spawnInstance();
    await first.start();
    const names = first.periodicJobs.map((j) => j.name);
    // A new scheduler runs at once, then every minute.
    await vi.waitFor(
      async () => {
        const byName = await runsByName(w);
        for (const name of names) expect(byName.get(name)?.length, name).toBe(1);
      },
      { timeout: 20_000, interval: 100 },
    );
    const schedulers = await w.renewals.queue.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key).sort()).toEqual([...names].sort());
    const nextBefore = new Map(schedulers.map((s) => [s.key, s.next]));
    await first.close();

    // Restart (and a second replica booting at the same time): same schedulers, same next runs.
    const restarted = w.spawnInstance();
    const replica = w.spawnInstance();
    await Promise.all([restarted.start(), replica.start()]);
    const after = await restarted.queue.getJobSchedulers(0, -1);
    expect(after).toHaveLength(names.length);
    for (const s of after) expect(s.next, s.key).toBe(nextBefore.get(s.key));
    const pending = await restarted.queue.getJobs(["delayed", "waiting", "prioritized"], 0, -1);
    expect(pending.map((j) => j.name).sort()).toEqual([...names].sort());
    const byName = await runsByName(w);
    for (const name of names) expect(byName.get(name)?.length, name).toBe(1);
    await Promise.all([restarted.close(), replica.close()]);

    // A new interval from env replaces the scheduler's, still one scheduler and one pending job.
    const reconfigured = w.spawnInstance({
      env: { ...everyJobEvery(MINUTE), RENEWALS_EXPIRY_INTERVAL_MS: String(2 * MINUTE) },
    });
    await reconfigured.start();
    expect(await reconfigured.queue.getJobSchedulersCount()).toBe(names.length);
    expect((await reconfigured.queue.getJobScheduler(RENEWAL_JOBS.expiry))?.every).toBe(2 * MINUTE);
    await vi.waitFor(
      async () => {
        const expiryPending = (
          await reconfigured.queue.getJobs(["delayed", "waiting", "prioritized"], 0, -1)
        ).filter((j) => j.name === RENEWAL_JOBS.expiry);
        expect(expiryPending).toHaveLength(1);
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it("a job that throws is logged, the others keep running, and it runs again on its next tick", async () => {
    const lines: Array<Record<string, unknown>> = [];
    world = await createWorld(new Date(), { env: everyJobEvery(1_000), logger: capturingLogger(lines) });
    const w = world;
    await dbHandle.client`
      insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, expires_at)
      values ('internal', 'periodic-expired', 'POST /x', 'h', 200, now() - interval '1 minute')`;
    // The purge's table is gone for a while: its runs fail with a database error.
    await dbHandle.client`alter table idempotency_keys rename to idempotency_keys_away`;
    try {
      await w.renewals.start();
      await vi.waitFor(
        async () => {
          const byName = await runsByName(w);
          const purges = byName.get(RENEWAL_JOBS.idempotencyPurge) ?? [];
          expect(purges.filter((j) => j.failedReason).length).toBeGreaterThanOrEqual(2);
          // Meanwhile the others run on.
          const relays = byName.get(RENEWAL_JOBS.outboxRelay) ?? [];
          expect(relays.filter((j) => j.finishedOn && !j.failedReason).length).toBeGreaterThanOrEqual(2);
        },
        { timeout: 20_000, interval: 200 },
      );
    } finally {
      await dbHandle.client`alter table idempotency_keys_away rename to idempotency_keys`;
    }
    const failed = lines.filter(
      (l) => l.msg === "renewals job failed" && l.job === RENEWAL_JOBS.idempotencyPurge,
    );
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(String(failed[0]!.err)).toMatch(/idempotency_keys/);
    // The table is back: the next tick purges.
    await vi.waitFor(
      async () => {
        const left = await dbHandle.client`select 1 from idempotency_keys where key = 'periodic-expired'`;
        expect(left).toHaveLength(0);
      },
      { timeout: 10_000, interval: 200 },
    );
  });
});

describe("admin alerts (admin-alerts job)", () => {
  it("failed payments at the threshold and old unknown outcomes queue one alert each per hour", async () => {
    world = await createWorld(new Date(), { env: { ALERT_FAILED_PAYMENTS_PER_HOUR: "3" } });
    const w = world;
    const [user] = await db.insert(users).values({ telegramId: 7_100_000_001 }).returning();
    const now = w.clock.now();
    await db.insert(payments).values(
      Array.from({ length: 2 }, (_, i) => ({
        userId: user!.id,
        kind: "initial" as const,
        status: "failed" as const,
        amount: 100,
        idempotencyKey: `alert-test-failed-${i}`,
        createdAt: now,
        updatedAt: now,
      })),
    );
    const quiet = (await w.renewals.runPeriodicJob(RENEWAL_JOBS.adminAlerts)) as {
      failedLastHour: number;
      queued: string[];
    };
    expect(quiet).toMatchObject({ failedLastHour: 2, queued: [] });

    await db.insert(payments).values([
      {
        userId: user!.id,
        kind: "initial",
        status: "failed",
        amount: 100,
        idempotencyKey: "alert-test-failed-2",
        createdAt: now,
        updatedAt: now,
      },
      {
        userId: user!.id,
        kind: "renewal",
        status: "unknown",
        amount: 100,
        idempotencyKey: "alert-test-unknown",
        createdAt: new Date(now.getTime() - 2 * 60 * MINUTE),
        updatedAt: new Date(now.getTime() - 2 * 60 * MINUTE),
      },
    ]);
    const first = (await w.renewals.runPeriodicJob(RENEWAL_JOBS.adminAlerts)) as {
      queued: string[];
      unknownOlderThanHour: { payments: number };
    };
    const second = (await w.renewals.runPeriodicJob(RENEWAL_JOBS.adminAlerts)) as { queued: string[] };
    expect(first.queued).toHaveLength(2);
    expect(second.queued).toEqual(first.queued);
    expect(first.unknownOlderThanHour.payments).toBe(1);
    const alerts = (
      await w.renewals.notifications.getJobs(["waiting", "delayed", "completed", "failed"])
    ).filter((j) => j.data.kind === "admin_alert");
    expect(alerts.map((j) => j.data.alert).sort()).toEqual(["failed_payments", "unknown_outcomes"]);
    for (const job of alerts)
      expect(job.id).toMatch(
        /^ntf-admin_alert-admin-(failed_payments|unknown_outcomes)-\d{4}-\d\d-\d\dT\d\d$/,
      );
  });
});

describe("admin alerts: a Stars subscription a card took over, still renewing at Telegram", () => {
  it("is reported once per hour after an hour; a canceled one, a fresh one and a Stars-rail one are not", async () => {
    world = await createWorld(new Date());
    const w = world;
    const now = w.clock.now();
    const [plan] = await db.select().from(plans).limit(1);
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 60 * MINUTE);
    const subscriber = async (
      telegramId: number,
      s: { rail: "card" | "stars"; starsCanceledAt: Date | null; updatedAt: Date },
    ) => {
      const [user] = await db.insert(users).values({ telegramId }).returning();
      await db.insert(subscriptions).values({
        userId: user!.id,
        planId: plan!.id,
        status: "active",
        autoRenew: s.rail === "card",
        startDate: hoursAgo(24),
        endDate: new Date(now.getTime() + 29 * 24 * 60 * MINUTE),
        rail: s.rail,
        starsChargeId: `stxcharge-${telegramId}`,
        starsCanceledAt: s.starsCanceledAt,
        createdAt: hoursAgo(24),
        updatedAt: s.updatedAt,
      });
    };
    await subscriber(7_200_000_001, { rail: "card", starsCanceledAt: hoursAgo(1.5), updatedAt: hoursAgo(2) });
    await subscriber(7_200_000_002, { rail: "card", starsCanceledAt: null, updatedAt: hoursAgo(0.5) });
    await subscriber(7_200_000_003, { rail: "stars", starsCanceledAt: null, updatedAt: hoursAgo(2) });
    const quiet = (await w.renewals.runPeriodicJob(RENEWAL_JOBS.adminAlerts)) as {
      starsCancelsOwed: number;
      queued: string[];
    };
    expect(quiet).toMatchObject({ starsCancelsOwed: 0, queued: [] });

    await subscriber(7_200_000_004, { rail: "card", starsCanceledAt: null, updatedAt: hoursAgo(2) });
    const first = (await w.renewals.runPeriodicJob(RENEWAL_JOBS.adminAlerts)) as {
      starsCancelsOwed: number;
      queued: string[];
    };
    const again = (await w.renewals.runPeriodicJob(RENEWAL_JOBS.adminAlerts)) as { queued: string[] };
    expect(first.starsCancelsOwed).toBe(1);
    expect(first.queued).toHaveLength(1);
    expect(again.queued).toEqual(first.queued);
    expect(first.queued[0]).toMatch(/^ntf-admin_alert-admin-stars_cancel_owed-\d{4}-\d\d-\d\dT\d\d$/);
    const [job] = (
      await w.renewals.notifications.getJobs(["waiting", "delayed", "completed", "failed"])
    ).filter((j) => j.data.kind === "admin_alert");
    expect(job!.data).toMatchObject({ alert: "reconciliation" });
    expect(job!.data.text).toContain("pnpm reconcile --stars");
  });
});

describe("purges (idempotency-purge and records-purge jobs)", () => {
  it("expired Idempotency-Key records go in bounded batches; live ones stay", async () => {
    world = await createWorld(new Date());
    const w = world;
    await dbHandle.client`
      insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, expires_at)
      select 'internal', 'expired-' || n, 'POST /x', 'h', 200, now() - interval '1 minute'
      from generate_series(1, 7) n`;
    await dbHandle.client`
      insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, expires_at)
      values ('internal', 'live', 'POST /x', 'h', 200, now() + interval '1 hour')`;
    const remaining = async () =>
      (await dbHandle.client<{ key: string }[]>`select key from idempotency_keys order by key`).map(
        (r) => r.key,
      );
    // A run deletes at most its limit…
    expect(await purgeIdempotencyKeys(w.renewals.ctx, { limit: 5 })).toEqual({ idempotencyKeys: 5 });
    // …and the scheduled job finishes the job without touching the live record.
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.idempotencyPurge)).toEqual({ idempotencyKeys: 2 });
    expect(await remaining()).toEqual(["live"]);
  });

  it("stored ATMOS callbacks past ATMOS_CALLBACK_RETENTION_DAYS and relayed outbox rows past 30 days go; recent ones stay", async () => {
    world = await createWorld(new Date(), { env: { ATMOS_CALLBACK_RETENTION_DAYS: "90" } });
    const w = world;
    const insert = (age: string, n: number) => dbHandle.client`
      insert into provider_callbacks (account, sign_valid, reply_status, reply_message, body, received_at)
      select 'retention', true, 1, 'Success', '{}'::jsonb, now() - ${age}::interval
      from generate_series(1, ${n}) g`;
    await insert("91 days", 7);
    await insert("89 days", 2);
    await insert("1 minute", 1);
    const left = async () =>
      (await dbHandle.client<{ n: number }[]>`select count(*)::int n from provider_callbacks`)[0]!.n;
    expect(
      await purgeOldRecords(w.renewals.ctx, { callbackRetentionMs: 90 * 24 * 60 * MINUTE, limit: 5 }),
    ).toMatchObject({ callbacks: 5 });
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.recordsPurge)).toMatchObject({ callbacks: 2 });
    expect(await left()).toBe(3);
    // A shorter retention reaches the younger ones too.
    const shorter = w.spawnInstance({ env: { ATMOS_CALLBACK_RETENTION_DAYS: "30" } });
    expect(await shorter.runPeriodicJob(RENEWAL_JOBS.recordsPurge)).toMatchObject({ callbacks: 2 });
    expect(await left()).toBe(1);

    await dbHandle.client`
      insert into notification_outbox (job_id, kind, payload, created_at, queued_at) values
        ('ntf-old', 'admin_alert', '{}'::jsonb, now() - interval '40 days', now() - interval '31 days'),
        ('ntf-recent', 'admin_alert', '{}'::jsonb, now() - interval '2 days', now() - interval '1 day'),
        ('ntf-owed', 'admin_alert', '{}'::jsonb, now() - interval '40 days', null)`;
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.recordsPurge)).toMatchObject({
      relayedNotifications: 1,
    });
    const rows = await dbHandle.client<
      { job_id: string }[]
    >`select job_id from notification_outbox order by job_id`;
    expect(rows.map((r) => r.job_id)).toEqual(["ntf-owed", "ntf-recent"]);
  });
});
