// The "payment succeeded" message is recorded in the same transaction as the payment (outbox). When
// Redis cannot take it at that moment, the payment still answers and commits, the message stays owed,
// and the periodic relay (the renewals worker's `outbox-relay` job, over the same packages/db relay)
// hands it to the queue later: delayed, never lost, never doubled.
import { NOTIFICATION_JOB_OPTIONS, QUEUES } from "@obuna/contracts/jobs";
import { type OwedNotification, relayNotifications } from "@obuna/db/queries";
import { notificationOutbox, payments } from "@obuna/db/schema";
import { testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { eq } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_DB_INDEX } from "./constants";
import { apply, type Harness, prepareSession, startHarness } from "./harness";

let h: Harness;
let unreachable: Queue;
let unreachableRedis: Redis;
/** The notifications queue once Redis is back; its own key prefix, so earlier files' job ids cannot collide. */
let reachable: Queue;
beforeAll(async () => {
  // A real BullMQ queue whose Redis does not answer (nothing listens on port 1).
  unreachableRedis = new Redis("redis://127.0.0.1:1", {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 1_000,
  });
  unreachableRedis.on("error", () => {});
  unreachable = new Queue(QUEUES.notifications, { connection: unreachableRedis });
  unreachable.on("error", () => {});
  h = await startHarness({}, { notificationsQueue: unreachable });
  reachable = new Queue(QUEUES.notifications, {
    connection: new Redis(testRedisUrl(REDIS_DB_INDEX), { maxRetriesPerRequest: 1 }),
    prefix: `outbox-test-${Date.now()}`,
  });
});
afterAll(async () => {
  await reachable?.obliterate({ force: true });
  await reachable?.close();
  await h?.close();
  // Its connection never became ready: drop it without waiting for Redis.
  unreachableRedis?.disconnect();
});

describe("notification outbox", () => {
  it("a payment made while Redis is unreachable commits, and its message is relayed once Redis is back", async () => {
    const prepared = await prepareSession(h);
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");

    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(payment?.status).toBe("success");
    const jobId = `ntf-payment_succeeded-${payment!.userId}-${payment!.id}`;
    const [owed] = await h.db.db.select().from(notificationOutbox).where(eq(notificationOutbox.jobId, jobId));
    expect(owed).toMatchObject({ kind: "payment_succeeded", queuedAt: null });
    expect(await reachable.getJob(jobId)).toBeUndefined();

    // Redis is back: the periodic relay sends it.
    const relayOwed = () =>
      relayNotifications(
        h.db.db,
        (n: OwedNotification) =>
          reachable.add(n.kind, n.payload, { ...NOTIFICATION_JOB_OPTIONS, jobId: n.jobId }),
        { now: new Date(), minAgeMs: 0 },
      );
    expect(await relayOwed()).toEqual({ queued: 1, left: 0 });
    const job = await reachable.getJob(jobId);
    expect(job?.data).toEqual({
      kind: "payment_succeeded",
      userId: payment!.userId,
      paymentId: payment!.id,
      subscriptionId: payment!.subscriptionId,
    });
    const [sent] = await h.db.db.select().from(notificationOutbox).where(eq(notificationOutbox.jobId, jobId));
    expect(sent?.queuedAt).toBeInstanceOf(Date);

    // A second relay has nothing left to send.
    expect(await relayOwed()).toEqual({ queued: 0, left: 0 });
    expect(await reachable.getJobCounts("waiting", "delayed", "active", "completed")).toMatchObject({
      waiting: 1,
    });
  });
});
