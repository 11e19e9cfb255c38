// Renewal messages are recorded in the charge's own transaction (outbox). A charge made while the
// notifications queue cannot be reached still commits; its receipt (or decline notice) is owed and
// the maintenance job relays it once Redis answers: delayed, never lost, never doubled.
import { SANDBOX_CARDS } from "@obuna/atmos/sandbox";
import { QUEUES, RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { recordNotification } from "@obuna/db/queries";
import { notificationOutbox } from "@obuna/db/schema";
import { Queue } from "bullmq";
import { eq, isNull } from "drizzle-orm";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chargeSubscription } from "../src/core/charge";
import type { RenewalContext } from "../src/core/deps";
import { coalesced, outboxRelay } from "../src/core/notifications";
import { createSubscriber, createWorld, db, HOUR, notificationJob, paymentsOf, type World } from "./harness";

const START = new Date("2031-09-01T04:00:00.000Z");
let world: World;
let unreachableRedis: Redis;
let unreachable: Queue;

beforeAll(() => {
  // A real BullMQ queue on a Redis that does not answer (nothing listens on port 1).
  unreachableRedis = new Redis("redis://127.0.0.1:1", {
    maxRetriesPerRequest: 1,
    retryStrategy: () => 1_000,
  });
  unreachableRedis.on("error", () => {});
  unreachable = new Queue(QUEUES.notifications, { connection: unreachableRedis });
  unreachable.on("error", () => {});
});
afterAll(() => {
  unreachableRedis.disconnect();
});
beforeEach(async () => {
  world = await createWorld(START);
});
afterEach(async () => {
  await world.close();
});

/** The world's worker context, but its messages go to the unreachable queue. */
function contextWithoutRedis(): RenewalContext {
  const ctx = world.renewals.ctx;
  return {
    ...ctx,
    ...outboxRelay({ db, notifications: unreachable, logger: pino({ level: "silent" }), clock: ctx.clock }),
  };
}

async function owedRows() {
  return db.select().from(notificationOutbox).where(isNull(notificationOutbox.queuedAt));
}

describe("renewal notifications through the outbox", () => {
  it("a renewal charged while Redis is unreachable commits, and its receipt is relayed by maintenance", async () => {
    const { sub, user } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    const result = await chargeSubscription(contextWithoutRedis(), {
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
    });
    expect(result).toMatchObject({ status: "success" });
    const [payment] = await paymentsOf(sub.id);
    expect(payment?.status).toBe("success");

    const receipt = {
      kind: "renewal_succeeded",
      userId: user.id,
      paymentId: payment!.id,
      subscriptionId: sub.id,
    } as const;
    expect(await notificationJob(world, receipt, payment!.id)).toBeUndefined();
    expect((await owedRows()).map((r) => r.kind)).toEqual(["renewal_succeeded"]);

    // Too fresh for the periodic relay (its producer may still be flushing it)…
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.outboxRelay)).toMatchObject({ queued: 0 });
    // …then, a minute later, the `outbox-relay` job hands it to the (reachable) queue.
    world.clock.advance(60_000);
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.outboxRelay)).toMatchObject({ queued: 1 });
    expect((await notificationJob(world, receipt, payment!.id))?.data).toEqual(receipt);
    expect(await owedRows()).toEqual([]);
    expect(await world.renewals.runPeriodicJob(RENEWAL_JOBS.outboxRelay)).toMatchObject({ queued: 0 });
  });

  it("a declined renewal owes its notice, recorded with the decline", async () => {
    const { sub, user } = await createSubscriber(world, { endsInMs: 20 * HOUR, card: "humo1" });
    world.sandbox.configure({ cardOutcomes: { [SANDBOX_CARDS.humo1.pan]: "insufficient_funds" } });
    const result = await chargeSubscription(contextWithoutRedis(), {
      subscriptionId: sub.id,
      periodEnd: sub.endDate,
    });
    expect(result).toMatchObject({ status: "declined" });
    const owed = await owedRows();
    expect(owed.map((r) => r.kind)).toEqual(["renewal_failed"]);
    expect(owed[0]!.payload).toMatchObject({ userId: user.id, subscriptionId: sub.id, hardDecline: false });

    world.clock.advance(60_000);
    await world.renewals.runPeriodicJob(RENEWAL_JOBS.outboxRelay);
    expect(await owedRows()).toEqual([]);
    const [sent] = await db
      .select()
      .from(notificationOutbox)
      .where(eq(notificationOutbox.kind, "renewal_failed"));
    expect((await world.renewals.notifications.getJob(sent!.jobId))?.data).toMatchObject({
      kind: "renewal_failed",
      userId: user.id,
      subscriptionId: sub.id,
    });
  });
});

describe("coalesced flushes (group commit)", () => {
  function recorder() {
    const runs: string[][] = [];
    let release: (() => void)[] = [];
    const run = (ids: string[]) => {
      runs.push(ids);
      return new Promise<void>((resolve) => release.push(resolve));
    };
    const finishRun = async () => {
      const [next, ...rest] = release;
      release = rest;
      next?.();
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { runs, run, finishRun };
  }

  it("runs the first at once and everything asked for meanwhile together in the next run", async () => {
    const r = recorder();
    const flush = coalesced(r.run, 500);
    const first = flush(["a"]);
    const rest = [flush(["b"]), flush(["c", "d"]), flush(["e"])];
    expect(r.runs).toEqual([["a"]]);
    await r.finishRun();
    await first;
    expect(r.runs).toEqual([["a"], ["b", "c", "d", "e"]]);
    await r.finishRun();
    await Promise.all(rest);
    expect(r.runs).toHaveLength(2);
  });

  it("never puts more than max ids in one run, and never splits one caller's ids", async () => {
    const r = recorder();
    const flush = coalesced(r.run, 3);
    const all = [flush(["a"]), flush(["b", "c"]), flush(["d", "e"]), flush(["f"])];
    for (let i = 0; i < 3; i++) await r.finishRun();
    await Promise.all(all);
    expect(r.runs).toEqual([["a"], ["b", "c"], ["d", "e", "f"]]);
  });

  it("a failed run fails its own callers only", async () => {
    let calls = 0;
    const flush = coalesced(async () => {
      if (++calls === 1) {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error("refused");
      }
    }, 500);
    const first = flush(["a"]);
    const second = flush(["b"]);
    await expect(first).rejects.toThrow("refused");
    await expect(second).resolves.toBeUndefined();
  });

  it("hands every notification of many charges flushed at once to the queue, each once", async () => {
    const { sub, user } = await createSubscriber(world, { endsInMs: 20 * HOUR });
    const notice = {
      kind: "renewal_failed",
      userId: user.id,
      subscriptionId: sub.id,
      hardDecline: false,
      nextAttemptAt: null,
      errorKind: null,
    } as const;
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) => recordNotification(db, notice, `coalesced-${i}`, new Date())),
    );
    await Promise.all(ids.map((id) => world.renewals.ctx.flushNotifications([id])));
    expect(await owedRows()).toEqual([]);
    const jobs = await Promise.all(ids.map((id) => world.renewals.notifications.getJob(id)));
    expect(jobs.every((job) => job !== undefined)).toBe(true);
  });
});
