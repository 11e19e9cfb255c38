import { type NotificationJob, notificationJobId } from "@obuna/contracts/jobs";
import { getUserById } from "@obuna/db/queries";
import { subscriptions } from "@obuna/db/schema";
import { testRedisUrl } from "@obuna/db/testing";
import { type Job, Queue, type Worker } from "bullmq";
import { eq } from "drizzle-orm";
import { Api } from "grammy";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createRedisLanguageStore } from "../src/language-store";
import { clearBotBlocked } from "../src/notifications/queries";
import {
  createNotificationWorker,
  type NotificationWorkerDeps,
  processNotification,
} from "../src/notifications/worker";
import { createExpiredUsers, createPayingUser, openTestDb } from "./fixtures";
import { BOT_TOKEN, type Responder, recordApiCalls, silentLogger, waitFor } from "./helpers";

const ADMIN_CHAT_ID = -100_123;
const dbHandle = openTestDb();
const db = dbHandle.db;
const redis = new Redis(testRedisUrl(3));
const connection = new Redis(testRedisUrl(3), { maxRetriesPerRequest: null });
const languages = createRedisLanguageStore(redis, "bot:lang:ntf-test:");

let suite = 0;
let queue: Queue;
let worker: Worker | null = null;

/** A fresh queue, worker and recording Bot API per test, so counts never leak between tests. */
function startWorker(respond?: Responder, overrides: Partial<NotificationWorkerDeps> = {}) {
  suite++;
  const queueName = `notifications-test-${Date.now()}-${suite}`;
  queue = new Queue(queueName, { connection });
  const api = new Api(BOT_TOKEN);
  const calls = recordApiCalls(api, respond);
  const deps: NotificationWorkerDeps = {
    connection,
    redis,
    db,
    api,
    languages,
    adminChatId: ADMIN_CHAT_ID,
    logger: silentLogger,
    queueName,
    sentMarkerPrefix: `bot:ntf-sent:${queueName}:`,
    rateLimit: { keyPrefix: `bot:rate:${queueName}:` },
    ...overrides,
  };
  worker = createNotificationWorker(deps);
  return { calls, deps, sends: () => calls.filter((c) => c.method === "sendMessage") };
}

async function enqueue(
  job: NotificationJob,
  discriminator: string | number,
  opts: { attempts?: number } = {},
) {
  const jobId = notificationJobId(job, discriminator);
  await queue.add(job.kind, job, {
    jobId,
    attempts: opts.attempts ?? 3,
    backoff: { type: "fixed", delay: 100 },
  });
  return jobId;
}

async function settled(jobId: string) {
  return waitFor(
    async () => {
      const job = await queue.getJob(jobId);
      const state = await job?.getState();
      return state === "completed" || state === "failed" ? { job: job!, state } : null;
    },
    15_000,
    `job ${jobId}`,
  );
}

afterEach(async () => {
  await worker?.close();
  worker = null;
  await queue?.obliterate({ force: true });
  await queue?.close();
});

afterAll(async () => {
  await dbHandle.close();
  redis.disconnect();
  connection.disconnect();
});

describe("each notification kind", () => {
  it("reaches the right chat once, in the user's language, even when the job runs again", async () => {
    const { sends, deps } = startWorker();
    const paid = await createPayingUser(db);
    const renewed = await createPayingUser(db, { languageCode: "ru" });
    const failed = await createPayingUser(db, { status: "past_due", languageCode: "en" });
    const reminded = await createPayingUser(db);
    const expired = await createPayingUser(db, { status: "expired", autoRenew: false });
    const expiring = await createPayingUser(db);
    const cancelledInFlight = await createPayingUser(db, { languageCode: "en", autoRenew: false });
    // i16-admin: a plan price change. The reminder shows the subscription's own (old) price.
    const repriced = await createPayingUser(db, { languageCode: "en" });
    const remindedOldPrice = await createPayingUser(db);
    await db
      .update(subscriptions)
      .set({ renewalPrice: 2_500_000, newRenewalPrice: 2_900_000, newPriceSetAt: new Date() })
      .where(eq(subscriptions.id, remindedOldPrice.subscription.id));

    const jobs: [NotificationJob, number, string][] = [
      [
        {
          kind: "payment_succeeded",
          userId: paid.user.id,
          paymentId: paid.payment.id,
          subscriptionId: paid.subscription.id,
        },
        paid.user.telegramId,
        "To'lov qabul qilindi: 29 000 so'm (860049******1234)",
      ],
      [
        {
          kind: "renewal_succeeded",
          userId: renewed.user.id,
          paymentId: renewed.payment.id,
          subscriptionId: renewed.subscription.id,
        },
        renewed.user.telegramId,
        "Подписка продлена",
      ],
      [
        {
          kind: "renewal_charged_after_cancel",
          userId: cancelledInFlight.user.id,
          paymentId: cancelledInFlight.payment.id,
          subscriptionId: cancelledInFlight.subscription.id,
        },
        cancelledInFlight.user.telegramId,
        "had already been sent to the bank: 29 000 so'm was charged (860049******1234)",
      ],
      [
        {
          kind: "renewal_failed",
          userId: failed.user.id,
          subscriptionId: failed.subscription.id,
          hardDecline: false,
          nextAttemptAt: "2026-11-29T05:00:00.000Z",
          errorKind: "insufficient_funds",
        },
        failed.user.telegramId,
        "Next attempt: 29.11.2026 10:00",
      ],
      [
        {
          kind: "renewal_reminder",
          userId: reminded.user.id,
          subscriptionId: reminded.subscription.id,
          chargeAt: "2026-11-30T00:00:00.000Z",
        },
        reminded.user.telegramId,
        "30.11.2026 kuni Premium (1 Oylik) uchun 29 000 so'm 860049******1234",
      ],
      [
        {
          kind: "price_change_notice",
          userId: repriced.user.id,
          subscriptionId: repriced.subscription.id,
          oldAmount: 2_900_000,
          newAmount: 3_500_000,
          effectiveAt: "2026-12-30T00:00:00.000Z",
        },
        repriced.user.telegramId,
        "from the charge on 30.12.2026, your subscription costs 35 000 so'm instead of 29 000 so'm",
      ],
      [
        {
          kind: "renewal_reminder",
          userId: remindedOldPrice.user.id,
          subscriptionId: remindedOldPrice.subscription.id,
          chargeAt: "2026-11-30T00:00:00.000Z",
        },
        remindedOldPrice.user.telegramId,
        "30.11.2026 kuni Premium (1 Oylik) uchun 25 000 so'm",
      ],
      [
        { kind: "subscription_expired", userId: expired.user.id, subscriptionId: expired.subscription.id },
        expired.user.telegramId,
        "muddati tugadi",
      ],
      [
        { kind: "card_expiring", userId: expiring.user.id, boundCardId: expiring.card.id },
        expiring.user.telegramId,
        "860049******1234 kartasining muddati 12/2026",
      ],
      [
        { kind: "admin_alert", alert: "unknown_outcomes", text: "3 payments with unknown outcome" },
        ADMIN_CHAT_ID,
        "3 payments with unknown outcome",
      ],
    ];
    const ids = [];
    for (const [job] of jobs) ids.push(await enqueue(job, "p1"));
    for (const id of ids) expect((await settled(id)).state).toBe("completed");

    expect(sends()).toHaveLength(jobs.length);
    for (const [job, chatId, fragment] of jobs) {
      const mine = sends().filter((c) => c.payload.chat_id === chatId);
      expect(mine, job.kind).toHaveLength(1);
      expect(String(mine[0]!.payload.text), job.kind).toContain(fragment);
    }
    const failedMessage = sends().find((c) => c.payload.chat_id === failed.user.telegramId)!;
    const buttons = (
      failedMessage.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] }
    ).inline_keyboard.flat();
    expect(buttons.map((b) => b.callback_data)).toEqual([
      `rf:retry:${failed.subscription.id}`,
      `rf:pay:${failed.subscription.id}`,
      `rf:off:${failed.subscription.id}`,
    ]);

    // The producer retries (the old job record is gone) and the same id is enqueued again: no second message.
    await queue.obliterate({ force: true });
    for (const [job] of jobs) await settled(await enqueue(job, "p1"));
    // A crashed attempt re-run by BullMQ (stalled job) with the same id: no second message either.
    const [firstJob] = jobs[0]!;
    const stalled = { id: notificationJobId(firstJob, "p1"), data: firstJob } as unknown as Job;
    expect((await processNotification(stalled, undefined, deps)).status).toBe("duplicate");
    expect(sends()).toHaveLength(jobs.length);
  });

  it("a hard decline offers no retry with the same card", async () => {
    const { sends } = startWorker();
    const failed = await createPayingUser(db, { status: "past_due" });
    const job: NotificationJob = {
      kind: "renewal_failed",
      userId: failed.user.id,
      subscriptionId: failed.subscription.id,
      hardDecline: true,
      nextAttemptAt: null,
      errorKind: "card_blocked",
    };
    await settled(await enqueue(job, "hard"));
    const markup = sends()[0]!.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] };
    expect(markup.inline_keyboard.flat().map((b) => b.callback_data)).toEqual([
      `rf:pay:${failed.subscription.id}`,
      `rf:off:${failed.subscription.id}`,
    ]);
    expect(String(sends()[0]!.payload.text)).toContain("boshqa karta");
  });
});

describe("delivery rules", () => {
  it("on 429 waits retry_after without spending an attempt, then sends once", async () => {
    let refused = 0;
    const { sends } = startWorker((method) => {
      if (method === "sendMessage" && refused++ === 0) {
        return {
          ok: false,
          error_code: 429,
          description: "Too Many Requests: retry after 1",
          parameters: { retry_after: 1 },
        };
      }
      return undefined;
    });
    const paid = await createPayingUser(db);
    const job: NotificationJob = {
      kind: "payment_succeeded",
      userId: paid.user.id,
      paymentId: paid.payment.id,
      subscriptionId: paid.subscription.id,
    };
    const { job: done, state } = await settled(await enqueue(job, "429", { attempts: 1 }));
    expect(state).toBe("completed");
    expect(done.attemptsMade).toBeLessThanOrEqual(1);
    const attempts = sends();
    expect(attempts).toHaveLength(2); // the refused one and the delivered one
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it("on 403 marks the user as having blocked the bot and does not retry", async () => {
    const { sends } = startWorker((method) =>
      method === "sendMessage"
        ? { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" }
        : undefined,
    );
    const paid = await createPayingUser(db);
    const job: NotificationJob = {
      kind: "payment_succeeded",
      userId: paid.user.id,
      paymentId: paid.payment.id,
      subscriptionId: paid.subscription.id,
    };
    const { state, job: done } = await settled(await enqueue(job, "403"));
    expect(state).toBe("completed");
    expect(done.attemptsMade).toBe(1);
    expect((await getUserById(db, paid.user.id))!.botBlockedAt).toBeInstanceOf(Date);
    expect(sends()).toHaveLength(1);
    // Later notifications for that user are not even attempted.
    const next: NotificationJob = {
      kind: "subscription_expired",
      userId: paid.user.id,
      subscriptionId: paid.subscription.id,
    };
    const later = await settled(await enqueue(next, "403-later"));
    expect(later.job.returnvalue).toMatchObject({ status: "skipped" });
    expect(sends()).toHaveLength(1);
    // Writing to the bot again unblocks it (the bot calls this for every update's sender).
    expect(await clearBotBlocked(db, paid.user.telegramId)).toBe(true);
    expect((await getUserById(db, paid.user.id))!.botBlockedAt).toBeNull();
    expect(await clearBotBlocked(db, paid.user.telegramId)).toBe(false);
  });

  it("rejects an invalid payload before any side effect, without retrying", async () => {
    const { calls } = startWorker();
    await queue.add(
      "payment_succeeded",
      { kind: "payment_succeeded", userId: "1; drop table", card_number: "8600490000001234" },
      { jobId: "ntf-bad-1", attempts: 3 },
    );
    const { state, job } = await settled("ntf-bad-1");
    expect(state).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(calls).toHaveLength(0);
  });

  it("keeps about one message per second per chat", async () => {
    const { sends } = startWorker();
    const paid = await createPayingUser(db);
    const a: NotificationJob = {
      kind: "payment_succeeded",
      userId: paid.user.id,
      paymentId: paid.payment.id,
      subscriptionId: paid.subscription.id,
    };
    const b: NotificationJob = { kind: "card_expiring", userId: paid.user.id, boundCardId: paid.card.id };
    const ids = [await enqueue(a, "chat"), await enqueue(b, "chat")];
    for (const id of ids) expect((await settled(id)).state).toBe("completed");
    const [first, second] = sends();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it("a burst of 300 notifications never exceeds 30 messages in any one-second window", async () => {
    const { sends } = startWorker();
    const people = await createExpiredUsers(db, 300);
    await queue.addBulk(
      people.map((p) => {
        const data: NotificationJob = {
          kind: "subscription_expired",
          userId: p.id,
          subscriptionId: p.subscriptionId,
        };
        return { name: data.kind, data, opts: { jobId: notificationJobId(data, "burst") } };
      }),
    );
    await waitFor(() => sends().length >= 300, 20_000, "300 messages");
    await waitFor(
      async () => (await queue.getJobCounts("completed")).completed === 300,
      5_000,
      "300 completed jobs",
    );
    const times = sends()
      .map((c) => c.at)
      .sort((x, y) => x - y);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1_000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(30);
    expect(new Set(sends().map((c) => c.payload.chat_id)).size).toBe(300);
  }, 30_000);
});
