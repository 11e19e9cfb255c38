import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { SANDBOX_CARDS } from "@obuna/atmos/sandbox";
import { RENEWAL_JOBS, renewalChargeJobId } from "@obuna/contracts/jobs";
import { payments, subscriptions } from "@obuna/db/schema";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chargeSubscription } from "../src/core/charge";
import { runJanitor } from "../src/core/janitor";
import { CHARGE_JOB_PRIORITY } from "../src/queues/renewals.config";
import { redisConnection } from "../src/redis";
import {
  attemptsOf,
  confirmedCharges,
  createSubscriber,
  createWorld,
  DAY,
  db,
  HOUR,
  loadSubscription,
  paymentsOf,
  REDIS_INDEX,
  type World,
} from "./harness";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

function expectExactlyOnce(w: World, subscriptionIds: number[]) {
  const confirmed = confirmedCharges(w);
  expect(confirmed).toHaveLength(subscriptionIds.length);
  expect(new Set(confirmed.map((t) => t.account)).size).toBe(subscriptionIds.length);
}

describe("renewals through real BullMQ workers", () => {
  it("two worker instances on the same due set charge each subscription exactly once", async () => {
    world = await createWorld(new Date("2032-01-10T12:00:00.000Z"));
    const w = world;
    const subs = [];
    for (let i = 0; i < 12; i++) subs.push((await createSubscriber(w, { endsInMs: (i + 1) * HOUR })).sub);
    const other = w.spawnInstance();
    // Both sweep (their jobs dedupe by id) and a stray duplicate job per subscription under another id
    // gets past the job-id guard, so only the database guard stands between it and a second charge.
    await Promise.all([w.renewals.sweep(), other.sweep()]);
    await w.renewals.queue.addBulk(
      subs.map((s) => ({
        name: RENEWAL_JOBS.charge,
        data: { subscriptionId: s.id, periodEnd: s.endDate.toISOString() },
        opts: { jobId: `dup-${s.id}` },
      })),
    );
    await Promise.all([w.renewals.start({ schedulers: false }), other.start({ schedulers: false })]);
    await vi.waitFor(
      async () => {
        const counts = await w.renewals.queue.getJobCounts("waiting", "active", "prioritized", "delayed");
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
        expect(await db.select().from(payments)).toHaveLength(12);
      },
      { timeout: 30_000, interval: 50 },
    );
    expectExactlyOnce(
      w,
      subs.map((s) => s.id),
    );
    for (const s of subs) {
      expect((await loadSubscription(s.id)).endDate.getTime()).toBe(s.endDate.getTime() + 30 * DAY);
    }
  });

  it("a charge job that failed for good before starting its attempt is queued again by the next sweep", async () => {
    world = await createWorld(new Date("2032-01-13T12:00:00.000Z"));
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: HOUR });
    const other = await createSubscriber(w, { endsInMs: 2 * HOUR, card: "humo2" });
    // The sweep queued the first subscription's job, and two workers died holding it (`maxStalledCount:
    // 1`): BullMQ fails it with this reason and keeps it 30 days under its id. A stand-in worker fails it
    // the same way; it never touches the database, so no attempt exists, as after a real stall before
    // the attempt is started.
    const data = { subscriptionId: sub.id, periodEnd: sub.endDate.toISOString() };
    const jobId = renewalChargeJobId(data, 1);
    const queue = w.renewals.queue;
    await queue.add(RENEWAL_JOBS.charge, data, { jobId, priority: CHARGE_JOB_PRIORITY });
    const stalling = new Worker(
      queue.name,
      async () => {
        throw new UnrecoverableError("job stalled more than allowable limit");
      },
      { connection: redisConnection(testRedisUrl(REDIS_INDEX), "worker"), prefix: queue.opts.prefix },
    );
    await vi.waitFor(async () => expect(await queue.getJobState(jobId)).toBe("failed"), { timeout: 10_000 });
    await stalling.close();
    expect(await attemptsOf(sub.id)).toHaveLength(0);

    // The next sweep finds it still due with attempt 1: the failed job runs again under its own id.
    await w.renewals.sweep();
    await w.renewals.start({ schedulers: false });
    await vi.waitFor(
      async () => {
        expect(await paymentsOf(sub.id)).toHaveLength(1);
        expect(await paymentsOf(other.sub.id)).toHaveLength(1);
        // The payment commits before the job returns (it still hands the notification over), so the
        // job's completion is waited for too, not read once right after the payment shows.
        expect(await queue.getJobState(jobId)).toBe("completed");
      },
      { timeout: 30_000, interval: 50 },
    );
    expect((await loadSubscription(sub.id)).endDate.getTime()).toBe(sub.endDate.getTime() + 30 * DAY);
    expectExactlyOnce(w, [sub.id, other.sub.id]);
  });

  it("a charge skipped because auto-renew was off when it ran runs again once the user turns it back on in the same period", async () => {
    world = await createWorld(new Date("2032-01-14T12:00:00.000Z"));
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: HOUR });
    await w.renewals.sweep();
    const jobId = renewalChargeJobId({ subscriptionId: sub.id, periodEnd: sub.endDate.toISOString() }, 1);
    // Cancelled between the sweep and the run: the job completes as skipped and is kept 8 days.
    await db.update(subscriptions).set({ autoRenew: false }).where(eq(subscriptions.id, sub.id));
    await w.renewals.start({ schedulers: false });
    await vi.waitFor(async () => expect(await w.renewals.queue.getJobState(jobId)).toBe("completed"), {
      timeout: 10_000,
    });
    expect((await w.renewals.queue.getJob(jobId))?.returnvalue).toMatchObject({ status: "skipped" });
    expect(await paymentsOf(sub.id)).toHaveLength(0);

    // Resumed within the period: the next sweep computes the same job id and must not be ignored.
    await db.update(subscriptions).set({ autoRenew: true }).where(eq(subscriptions.id, sub.id));
    await w.renewals.sweep();
    await vi.waitFor(async () => expect(await paymentsOf(sub.id)).toHaveLength(1), {
      timeout: 15_000,
      interval: 50,
    });
    expectExactlyOnce(w, [sub.id]);
  });

  it("concurrent charges of one subscription: the attempt row is the guard", async () => {
    world = await createWorld(new Date("2032-01-11T12:00:00.000Z"));
    const w = world;
    const other = w.spawnInstance();
    const { sub } = await createSubscriber(w, { endsInMs: HOUR });
    const outcomes = await Promise.all(
      [w.renewals.ctx, other.ctx, w.renewals.ctx, other.ctx, w.renewals.ctx, other.ctx].map((ctx) =>
        chargeSubscription(ctx, { subscriptionId: sub.id, periodEnd: sub.endDate }),
      ),
    );
    expect(outcomes.filter((o) => o.status === "success")).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "skipped")).toHaveLength(5);
    expect(confirmedCharges(w)).toHaveLength(1);
    expect(await paymentsOf(sub.id)).toHaveLength(1);
  });

  it("a hard decline fails its job without retries; only the owner's retry-now from the bot charges at once", async () => {
    world = await createWorld(new Date("2032-01-12T12:00:00.000Z"));
    const w = world;
    const { sub, user } = await createSubscriber(w, { endsInMs: HOUR });
    w.sandbox.configure({ cardOutcomes: { [SANDBOX_CARDS.humo1.pan]: "insufficient_funds" } });
    await w.renewals.start({ schedulers: false });
    await w.renewals.sweep();
    await vi.waitFor(async () => expect((await loadSubscription(sub.id)).status).toBe("past_due"), {
      timeout: 10_000,
    });

    // Someone else's "retry now" is refused without touching ATMOS.
    const stranger = await w.renewals.queue.add(RENEWAL_JOBS.retryNow, {
      subscriptionId: sub.id,
      requestedByTelegramId: user.telegramId + 1,
    });
    await vi.waitFor(async () => expect(await stranger.getState()).toBe("failed"), { timeout: 10_000 });
    expect(w.sandbox.ledger()).toHaveLength(1);

    w.sandbox.configure({ cardOutcomes: {} });
    const retry = await w.renewals.queue.add(RENEWAL_JOBS.retryNow, {
      subscriptionId: sub.id,
      requestedByTelegramId: user.telegramId,
    });
    await vi.waitFor(async () => expect(await retry.getState()).toBe("completed"), { timeout: 10_000 });
    expect(await loadSubscription(sub.id)).toMatchObject({ status: "active", renewalAttempts: 0 });
    expect(confirmedCharges(w)).toHaveLength(1);

    const blocked = await createSubscriber(w, { endsInMs: 2 * HOUR, card: "humo2" });
    w.sandbox.configure({ cardOutcomes: { [SANDBOX_CARDS.humo2.pan]: "card_blocked" } });
    await w.renewals.sweep();
    const jobId = `renewal-${blocked.sub.id}-${blocked.sub.endDate.getTime()}-1`;
    await vi.waitFor(async () => expect(await w.renewals.queue.getJobState(jobId)).toBe("failed"), {
      timeout: 10_000,
    });
    const job = await w.renewals.queue.getJob(jobId);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/hard decline/);
  });
});

describe("payload validation", () => {
  it("a malformed job fails at once, before any side effect", async () => {
    world = await createWorld(new Date("2032-01-13T12:00:00.000Z"));
    const w = world;
    await w.renewals.start({ schedulers: false });
    const bad = await w.renewals.queue.add(RENEWAL_JOBS.charge, {
      subscriptionId: "1; drop table",
      periodEnd: "soon",
    });
    await vi.waitFor(async () => expect(await bad.getState()).toBe("failed"), { timeout: 10_000 });
    const job = await w.renewals.queue.getJob(bad.id!);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/invalid renewal-charge payload/);
    expect(w.sandbox.ledger()).toHaveLength(0);
  });
});

/** The environment of a worker process started from env alone, pointing at this test's sandbox. */
function processEnv(w: World) {
  return {
    ...process.env,
    DATABASE_URL: testDatabaseUrl("renewals"),
    REDIS_URL: testRedisUrl(REDIS_INDEX),
    ATMOS_BASE_URL: w.sandbox.url,
    ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
    ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
    ATMOS_STORE_ID: "11054",
    CARD_TOKEN_KEY: "0f".repeat(32),
    ADMIN_TOKEN: "test-admin-token-0123456789",
    RENEWALS_PORT: "0",
    RENEWALS_SWEEP_INTERVAL_MS: "1000",
    LOG_LEVEL: "warn",
  };
}

describe("worker processes started from env alone", () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    children.length = 0;
  });

  it("charge each due subscription exactly once and stop gracefully on SIGTERM", async () => {
    world = await createWorld(new Date());
    const w = world;
    const subs = [];
    for (let i = 0; i < 8; i++) subs.push((await createSubscriber(w, { endsInMs: (i + 1) * HOUR })).sub);
    // The processes use the default "bull" prefix on this package's Redis index: start it empty.
    const connection = redisConnection(testRedisUrl(REDIS_INDEX), "producer");
    const queue = new Queue("renewals", { connection });
    const notifications = new Queue("notifications", { connection });
    await queue.obliterate({ force: true });
    await notifications.obliterate({ force: true });
    const env = processEnv(w);
    for (let i = 0; i < 2; i++) {
      children.push(
        spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
          cwd: `${__dirname}/..`,
          env,
          stdio: "pipe",
        }),
      );
    }
    try {
      await vi.waitFor(async () => expect(await db.select().from(payments)).toHaveLength(8), {
        timeout: 60_000,
        interval: 200,
      });
      expectExactlyOnce(
        w,
        subs.map((s) => s.id),
      );
      const exits = children.map((c) => once(c, "exit"));
      for (const c of children) c.kill("SIGTERM");
      const codes = (await Promise.all(exits)).map(([code]) => code);
      expect(codes).toEqual([0, 0]);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await notifications.obliterate({ force: true }).catch(() => {});
      await Promise.all([queue.close(), notifications.close()]);
    }
  }, 90_000);

  it("a worker process SIGKILLed during apply: the janitor ends it as the ledger shows, with no second charge", async () => {
    world = await createWorld(new Date());
    const w = world;
    w.sandbox.configure({ latencyMs: 300 });
    const { sub, plan } = await createSubscriber(w, { endsInMs: HOUR });
    const connection = redisConnection(testRedisUrl(REDIS_INDEX), "producer");
    const queue = new Queue("renewals", { connection });
    const notifications = new Queue("notifications", { connection });
    await queue.obliterate({ force: true });
    await notifications.obliterate({ force: true });
    const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: `${__dirname}/..`,
      env: processEnv(w),
      stdio: "pipe",
    });
    children.push(child);
    try {
      // The apply request reached ATMOS: kill the worker before it can hear the answer.
      await vi.waitFor(
        () =>
          expect(w.sandbox.requests().some((r) => r.path === "/merchant/pay/confirm-with-ofd-list")).toBe(
            true,
          ),
        {
          timeout: 60_000,
          interval: 5,
        },
      );
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
      await vi.waitFor(() => expect(confirmedCharges(w)).toHaveLength(1), { timeout: 10_000 });
      const [attempt] = await attemptsOf(sub.id);
      // `unknown`: the worker recorded "charge about to be sent" (under the lock) before its apply.
      expect(attempt).toMatchObject({
        status: "unknown",
        externalId: String(confirmedCharges(w)[0]!.transactionId),
      });

      w.clock.set(new Date(Date.now() + 6 * 60_000));
      expect(await runJanitor(w.renewals.ctx)).toMatchObject({ success: 1 });
      const after = await loadSubscription(sub.id);
      expect(after.endDate.getTime()).toBe(sub.endDate.getTime() + plan.durationDays * DAY);
      expect(await paymentsOf(sub.id)).toHaveLength(1);
      expect(
        await chargeSubscription(w.renewals.ctx, { subscriptionId: sub.id, periodEnd: sub.endDate }),
      ).toMatchObject({
        status: "skipped",
      });
      expect(confirmedCharges(w)).toHaveLength(1);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await notifications.obliterate({ force: true }).catch(() => {});
      await Promise.all([queue.close(), notifications.close()]);
    }
  }, 90_000);
});
