import { type NotificationJob, NotificationJobSchema, QUEUES } from "@obuna/contracts/jobs";
import type { DbOrTx } from "@obuna/db";
import { markBotBlocked } from "@obuna/db/queries";
import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import { type Api, GrammyError } from "grammy";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { LanguageStore } from "../language-store";
import { createSendRateLimiter, type RateLimitOptions } from "./rate-limit";
import { renderNotification } from "./render";

export interface NotificationWorkerDeps {
  /** BullMQ's connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  /** For sent markers and rate limiting. */
  redis: Redis;
  db: DbOrTx;
  api: Api;
  languages: LanguageStore;
  adminChatId: number | null;
  logger: Logger;
  queueName?: string;
  concurrency?: number;
  rateLimit?: RateLimitOptions;
  /** How long a sent job id is remembered (default 7 days, longer than any retry schedule). */
  sentMarkerTtlSeconds?: number;
  sentMarkerPrefix?: string;
}

export type NotificationOutcome =
  | { status: "sent"; chatId: number }
  | { status: "duplicate" }
  | { status: "skipped"; reason: string }
  | { status: "blocked"; chatId: number }
  | { status: "outcome_unknown"; chatId: number };

/**
 * Processes one notification job. At most once per job id:
 *
 * The "sent" marker (`SET NX` on the job id, with a TTL) is taken *immediately before* calling
 * sendMessage. A retried or duplicated job that finds it does nothing. The crash window is between
 * taking the marker and Telegram's answer: if the process dies there, the message may be lost but is
 * never doubled. We chose that (at most once) because a doubled "payment received" or a second set
 * of recovery buttons confuses people about their money, while a lost one is still visible in /status.
 * When Telegram definitely did not deliver (429, 400), the marker is released so the job can run again.
 */
export async function processNotification(
  job: Job,
  token: string | undefined,
  deps: NotificationWorkerDeps,
  limiter = createSendRateLimiter(deps.redis, deps.rateLimit),
): Promise<NotificationOutcome> {
  const parsed = NotificationJobSchema.safeParse(job.data);
  if (!parsed.success) {
    deps.logger.error(
      { jobId: job.id, issues: parsed.error.issues.map((i) => i.path.join(".")) },
      "invalid notification payload",
    );
    throw new UnrecoverableError("invalid notification payload");
  }
  const notification: NotificationJob = parsed.data;
  const log = deps.logger.child({ jobId: job.id, kind: notification.kind });
  const markerKey = `${deps.sentMarkerPrefix ?? "bot:ntf-sent:"}${job.id}`;

  if ((await deps.redis.exists(markerKey)) === 1) {
    log.info("notification already sent; skipping");
    return { status: "duplicate" };
  }

  const rendered = await renderNotification(notification, deps);
  if (!rendered.send) {
    log.info({ reason: rendered.reason }, "notification skipped");
    return { status: "skipped", reason: rendered.reason };
  }

  const chatSlot = await limiter.tryAcquireChat(rendered.chatId);
  if (!chatSlot.ok) {
    // About one message per second per chat: come back later without spending an attempt.
    await job.moveToDelayed(Date.now() + chatSlot.retryInMs, token);
    throw new DelayedError();
  }
  await limiter.acquireGlobal();

  const claimed = await deps.redis.set(
    markerKey,
    String(Date.now()),
    "EX",
    deps.sentMarkerTtlSeconds ?? 7 * 86_400,
    "NX",
  );
  if (claimed !== "OK") {
    log.info("notification sent by another attempt; skipping");
    return { status: "duplicate" };
  }

  try {
    await deps.api.sendMessage(rendered.chatId, rendered.text, {
      reply_markup: rendered.replyMarkup,
      link_preview_options: { is_disabled: true },
    });
  } catch (error) {
    if (error instanceof GrammyError) {
      if (error.error_code === 429) {
        await deps.redis.del(markerKey);
        const retryAfterS = error.parameters.retry_after ?? 1;
        log.warn({ retryAfterS }, "telegram rate limit; delaying notification");
        await job.moveToDelayed(Date.now() + retryAfterS * 1000, token);
        throw new DelayedError();
      }
      if (error.error_code === 403) {
        if (rendered.userId !== null) await markBotBlocked(deps.db, rendered.userId, new Date());
        log.info({ userId: rendered.userId }, "user blocked the bot; not retrying");
        return { status: "blocked", chatId: rendered.chatId };
      }
      if (error.error_code >= 500) {
        log.warn(
          { code: error.error_code },
          "telegram failed; delivery unknown, not retrying (at most once)",
        );
        return { status: "outcome_unknown", chatId: rendered.chatId };
      }
      await deps.redis.del(markerKey);
      log.error(
        { code: error.error_code, description: error.description },
        "telegram refused the notification",
      );
      throw new UnrecoverableError(`telegram refused: ${error.error_code}`);
    }
    log.warn(
      { err: { message: (error as Error).message } },
      "notification delivery unknown (network); not retrying",
    );
    return { status: "outcome_unknown", chatId: rendered.chatId };
  }
  log.info({ chatId: rendered.chatId }, "notification sent");
  return { status: "sent", chatId: rendered.chatId };
}

/** The BullMQ consumer of `QUEUES.notifications` inside the bot process. */
export function createNotificationWorker(deps: NotificationWorkerDeps): Worker {
  const limiter = createSendRateLimiter(deps.redis, deps.rateLimit);
  const worker = new Worker(
    deps.queueName ?? QUEUES.notifications,
    (job, token) => processNotification(job, token, deps, limiter),
    {
      connection: deps.connection,
      concurrency: deps.concurrency ?? 10,
      removeOnComplete: { age: 7 * 86_400, count: 10_000 },
      removeOnFail: { age: 30 * 86_400 },
    },
  );
  worker.on("failed", (job, error) => {
    deps.logger.error(
      { jobId: job?.id, attemptsMade: job?.attemptsMade, err: { message: error.message } },
      "notification job failed",
    );
  });
  worker.on("error", (error) =>
    deps.logger.error({ err: { message: error.message } }, "notification worker error"),
  );
  return worker;
}
