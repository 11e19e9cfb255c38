import { type NotificationJob, notificationJobId } from "@obuna/contracts/jobs";
import { schema } from "@obuna/db";
import { getUserById } from "@obuna/db/queries";
import { payments, subscriptions } from "@obuna/db/schema";
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
        "To'lov qabul qilindi: 29\u00a0000\u00a0soʻm (860049******1234)",
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
        "had already been sent to the bank: UZS\u00a029,000 was charged (860049******1234)",
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
        "30.11.2026 kuni Premium (1 Oylik) uchun 29\u00a0000\u00a0soʻm 860049******1234",
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
        "from the charge on 30.12.2026, your subscription costs UZS\u00a035,000 instead of UZS\u00a029,000",
      ],
      [
        {
          kind: "renewal_reminder",
          userId: remindedOldPrice.user.id,
          subscriptionId: remindedOldPrice.subscription.id,
          chargeAt: "2026-11-30T00:00:00.000Z",
        },
        remindedOldPrice.user.telegramId,
        "30.11.2026 kuni Premium (1 Oylik) uchun 25\u00a0000\u00a0soʻm",
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

describe("receipt links", () => {
  it("the payment and renewal messages carry the fiscal receipt link; none when there is no receipt", async () => {
    const { sends } = startWorker();
    const paid = await createPayingUser(db);
    const renewed = await createPayingUser(db, { languageCode: "ru" });
    const noReceipt = await createPayingUser(db, { languageCode: "en" });
    const url = (id: number) => `https://ofd.soliq.uz/check?t=UZ170&r=${id}&c=20261120&s=1`;
    for (const p of [paid, renewed]) {
      await db
        .update(payments)
        .set({ receiptUrl: url(p.payment.id) })
        .where(eq(payments.id, p.payment.id));
    }
    const jobs: [NotificationJob, number][] = [
      [
        {
          kind: "payment_succeeded",
          userId: paid.user.id,
          paymentId: paid.payment.id,
          subscriptionId: paid.subscription.id,
        },
        paid.user.telegramId,
      ],
      [
        {
          kind: "renewal_succeeded",
          userId: renewed.user.id,
          paymentId: renewed.payment.id,
          subscriptionId: renewed.subscription.id,
        },
        renewed.user.telegramId,
      ],
      [
        {
          kind: "payment_succeeded",
          userId: noReceipt.user.id,
          paymentId: noReceipt.payment.id,
          subscriptionId: noReceipt.subscription.id,
        },
        noReceipt.user.telegramId,
      ],
    ];
    for (const [job] of jobs) expect((await settled(await enqueue(job, "receipt"))).state).toBe("completed");
    const textTo = (chatId: number) =>
      String(sends().find((c) => c.payload.chat_id === chatId)!.payload.text);
    expect(textTo(paid.user.telegramId)).toContain(`🧾 Chek: ${url(paid.payment.id)}`);
    expect(textTo(renewed.user.telegramId)).toContain(`🧾 Чек: ${url(renewed.payment.id)}`);
    expect(textTo(noReceipt.user.telegramId)).not.toContain("Receipt");
    expect(textTo(noReceipt.user.telegramId)).not.toContain("https://");
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

  it("a burst of 300 notifications stays within the 25/s budget, leaving Telegram's other ~5/s for replies", async () => {
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
    // Telegram allows ~30/s overall: no one-second window of sends may ever exceed it. The worker's
    // own budget is 25 per 1.1 s (issue 16: about 22.7/s, leaving Telegram's other ~5/s for command
    // replies), so 300 messages take at least ~12 s. The peak is measured where the worker hands a
    // message to the Bot API, after its Redis grant: an event-loop stall on a loaded machine can bunch
    // a few sends together, so the peak is held to Telegram's limit and the budget to the average
    // (26.5/s allows a stall of ~0.8 s; the old budget of 30 per 1.1 s averages about 30/s and fails).
    expect(busiest).toBeLessThanOrEqual(30);
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    expect(times.length / seconds).toBeLessThanOrEqual(26.5);
    expect(new Set(sends().map((c) => c.payload.chat_id)).size).toBe(300);
  }, 30_000);
});

describe("money changes made by an operator (admin)", () => {
  const NBSP = "\u00a0";
  const cases = {
    uz: {
      refunded: [
        `To'lov qaytarildi: 29${NBSP}000${NBSP}soʻm 860049******1234 kartasiga`,
        "Premium (1 Oylik) to'xtatildi",
      ],
      refundedKept: "Premium (1 Oylik) 15.12.2026 gacha faol.",
      canceled: ["Premium (1 Oylik) obunangiz xizmat tomonidan bekor qilindi", "/paysupport"],
      extended: ["Premium (1 Oylik) 7 kunga uzaytirildi", "08.12.2026 gacha faol"],
      card: ["860049******1234 kartasi xizmat tomonidan o'chirildi", "/premium"],
    },
    ru: {
      refunded: [
        `Платёж возвращён: 29${NBSP}000${NBSP}сум вернётся на карту 860049******1234`,
        "Premium (1 месяц) отключён",
      ],
      refundedKept: "Premium (1 месяц) действует до 15.12.2026.",
      canceled: ["Ваша подписка Premium (1 месяц) отменена службой поддержки", "/paysupport"],
      extended: ["Premium (1 месяц) продлён на 7 дней", "до 08.12.2026"],
      card: ["Карта 860049******1234 отключена службой поддержки", "/premium"],
    },
    en: {
      refunded: [
        `Your payment was refunded: UZS${NBSP}29,000 goes back to your card 860049******1234`,
        "Your Premium (1 Month) has ended",
      ],
      refundedKept: "Your Premium (1 Month) is active until 15.12.2026.",
      canceled: ["Your Premium (1 Month) subscription was cancelled by our team", "/paysupport"],
      extended: ["Your Premium (1 Month) was extended by 7 days", "active until 08.12.2026"],
      card: ["Your card 860049******1234 was deactivated by our team", "/premium"],
    },
  } as const;

  for (const lang of ["uz", "ru", "en"] as const) {
    it(`refund, cancel, extend and card deactivation are told in ${lang}, in the language chosen in the bot`, async () => {
      const { sends } = startWorker();
      // Telegram says Uzbek (or English for uz), the user chose `lang` in the bot: the choice wins.
      const a = await createPayingUser(db, { languageCode: lang === "uz" ? "en" : "uz" });
      const b = await createPayingUser(db, { languageCode: lang === "uz" ? "en" : "uz" });
      for (const id of [a.user.id, b.user.id])
        await db.update(schema.users).set({ language: lang }).where(eq(schema.users.id, id));
      const expect_ = cases[lang];
      const jobs: [NotificationJob, number, readonly string[]][] = [
        [
          {
            kind: "payment_refunded",
            userId: a.user.id,
            paymentId: a.payment.id,
            subscriptionId: a.subscription.id,
            endDate: "2026-11-01T00:00:00.000Z",
            accessEnded: true,
          },
          a.user.telegramId,
          expect_.refunded,
        ],
        [
          {
            kind: "payment_refunded",
            userId: b.user.id,
            paymentId: b.payment.id,
            subscriptionId: b.subscription.id,
            endDate: "2026-12-15T00:00:00.000Z",
            accessEnded: false,
          },
          b.user.telegramId,
          [expect_.refundedKept],
        ],
        [
          { kind: "subscription_canceled_by_admin", userId: a.user.id, subscriptionId: a.subscription.id },
          a.user.telegramId,
          expect_.canceled,
        ],
        [
          {
            kind: "subscription_extended",
            userId: b.user.id,
            subscriptionId: b.subscription.id,
            days: 7,
            endDate: "2026-12-08T00:00:00.000Z",
          },
          b.user.telegramId,
          expect_.extended,
        ],
        [
          { kind: "card_deactivated", userId: a.user.id, boundCardId: a.card.id },
          a.user.telegramId,
          expect_.card,
        ],
      ];
      const ids = [];
      for (const [job] of jobs) ids.push(await enqueue(job, `admin-${lang}`));
      for (const id of ids) expect((await settled(id)).state).toBe("completed");
      expect(sends()).toHaveLength(jobs.length);
      for (const [job, chatId, fragments] of jobs) {
        const texts = sends()
          .filter((c) => c.payload.chat_id === chatId)
          .map((c) => String(c.payload.text));
        const text = texts.find((t) => fragments.every((f) => t.includes(f)));
        expect(text, `${job.kind}: ${JSON.stringify(texts)}`).toBeDefined();
      }
      // An ended subscription gets the way back in; nothing says why the operator acted.
      const ended = sends().find((c) => expect_.refunded.every((f) => String(c.payload.text).includes(f)));
      expect(JSON.stringify(ended?.payload.reply_markup ?? null)).toContain("premium");
      const kept = sends().find((c) => String(c.payload.text).includes(expect_.refundedKept));
      expect(kept?.payload.reply_markup).toBeUndefined();
    });
  }

  it("a message about someone else's payment or card is not sent", async () => {
    const { sends } = startWorker();
    const owner = await createPayingUser(db);
    const other = await createPayingUser(db);
    const a = await enqueue(
      { kind: "card_deactivated", userId: other.user.id, boundCardId: owner.card.id },
      "foreign-card",
    );
    const b = await enqueue(
      {
        kind: "payment_refunded",
        userId: other.user.id,
        paymentId: owner.payment.id,
        subscriptionId: null,
        endDate: null,
        accessEnded: false,
      },
      "foreign-payment",
    );
    for (const id of [a, b]) expect((await settled(id)).state).toBe("completed");
    expect(sends()).toHaveLength(0);
  });
});
