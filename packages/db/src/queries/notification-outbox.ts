import { type NotificationJob, NotificationJobSchema, notificationJobId } from "@obuna/contracts/jobs";
import { and, asc, count, isNull, lte, min, sql } from "drizzle-orm";
import type { Database, DbOrTx } from "../client";
import { preparedQuery } from "../prepared";
import { notificationOutbox } from "../schema/index";

/** A notification owed to someone: what the relay hands to the `notifications` queue. */
export interface OwedNotification {
  jobId: string;
  kind: string;
  payload: NotificationJob;
}

/**
 * Records a notification in the outbox, inside the transaction of the event that owes it. The job
 * is validated here (a bad payload fails the event's transaction, not a relay later). The job id is
 * deterministic, so recording the same notification twice keeps one row. Returns the job id.
 */
export async function recordNotification(
  tx: DbOrTx,
  job: NotificationJob,
  discriminator: string | number,
  now: Date,
): Promise<string> {
  const payload = NotificationJobSchema.parse(job);
  const jobId = notificationJobId(payload, discriminator);
  await recordNotificationQuery(tx, { jobId, kind: payload.kind, payload, createdAt: now });
  return jobId;
}

// Every payment and renewal records one: built once, prepared (src/prepared.ts).
const recordNotificationQuery = preparedQuery("record_notification", (db) =>
  db
    .insert(notificationOutbox)
    .values({
      jobId: sql.placeholder("jobId"),
      kind: sql.placeholder("kind"),
      payload: sql.placeholder("payload"),
      createdAt: sql.placeholder("createdAt"),
    })
    .onConflictDoNothing({ target: notificationOutbox.jobId })
    .prepare("record_notification"),
);

export interface RelayResult {
  /** Handed to the queue and marked. */
  queued: number;
  /** Left owed because the queue refused (Redis down): the next relay tries again. */
  left: number;
}

/**
 * Hands owed notifications to the queue: either the given job ids (right after their commit) or
 * every row owed for at least `minAgeMs` (the periodic relay, which leaves fresh rows to their own
 * producer). Rows are locked `for update skip locked`, so concurrent relays never send one twice;
 * a row is marked only after `enqueue` resolved, and the first refusal stops the batch (Redis is
 * down: the rest would fail too). `enqueue` must be idempotent per job id (BullMQ's jobId is).
 * An `enqueue` that has not answered within `enqueueTimeoutMs` (default 2 s) counts as a refusal:
 * BullMQ waits for an unreachable Redis indefinitely, and a payment's answer must not wait with it.
 * Should it still land later, the next relay's add of the same job id is a no-op.
 */
export async function relayNotifications(
  db: Database,
  enqueue: (notification: OwedNotification) => Promise<unknown>,
  options: { now: Date; jobIds?: string[]; minAgeMs?: number; limit?: number; enqueueTimeoutMs?: number },
): Promise<RelayResult> {
  const timeoutMs = options.enqueueTimeoutMs ?? 2_000;
  if (options.jobIds?.length === 0) return { queued: 0, left: 0 };
  return db.transaction(async (tx) => {
    const owed = options.jobIds
      ? // Right after a payment's commit (every charge): the prepared form of the same query.
        await owedByJobIdQuery(tx, { jobIds: options.jobIds, limit: options.limit ?? 500 })
      : await tx
          .select(owedColumns)
          .from(notificationOutbox)
          .where(
            and(
              isNull(notificationOutbox.queuedAt),
              lte(notificationOutbox.createdAt, new Date(options.now.getTime() - (options.minAgeMs ?? 0))),
            ),
          )
          .orderBy(asc(notificationOutbox.createdAt))
          .limit(options.limit ?? 500)
          .for("update", { skipLocked: true });
    const done: number[] = [];
    for (const row of owed) {
      try {
        await withTimeout(
          enqueue({ jobId: row.jobId, kind: row.kind, payload: row.payload as NotificationJob }),
          timeoutMs,
        );
      } catch {
        break;
      }
      done.push(row.id);
    }
    if (done.length > 0) await markQueuedQuery(tx, { ids: done, now: options.now });
    return { queued: done.length, left: owed.length - done.length };
  });
}

const owedColumns = {
  id: notificationOutbox.id,
  jobId: notificationOutbox.jobId,
  kind: notificationOutbox.kind,
  payload: notificationOutbox.payload,
};

const owedByJobIdQuery = preparedQuery("owed_notifications_by_job_id", (db) =>
  db
    .select(owedColumns)
    .from(notificationOutbox)
    .where(
      and(
        isNull(notificationOutbox.queuedAt),
        sql`${notificationOutbox.jobId} = any(${sql.placeholder("jobIds")}::text[])`,
      ),
    )
    .orderBy(asc(notificationOutbox.createdAt))
    .limit(sql.placeholder("limit"))
    .for("update", { skipLocked: true })
    .prepare("owed_notifications_by_job_id"),
);

const markQueuedQuery = preparedQuery("mark_notifications_queued", (db) =>
  db
    .update(notificationOutbox)
    .set({ queuedAt: sql.placeholder("now") as unknown as Date })
    .where(sql`${notificationOutbox.id} = any(${sql.placeholder("ids")}::bigint[])`)
    .prepare("mark_notifications_queued"),
);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // a late rejection after the timeout must not be unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How many notifications are owed and since when (for metrics and alerts). */
export async function owedNotifications(db: DbOrTx): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({ count: count(), oldest: min(notificationOutbox.createdAt) })
    .from(notificationOutbox)
    .where(isNull(notificationOutbox.queuedAt));
  return { count: Number(row?.count ?? 0), oldest: row?.oldest ? new Date(row.oldest) : null };
}

/**
 * Deletes rows the queue took before `before` (the bot keeps its own sent markers), at most `limit`
 * per call; returns how many went. Owed rows are never deleted.
 */
export async function purgeRelayedNotifications(db: DbOrTx, before: Date, limit: number): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    delete from ${notificationOutbox} where ${notificationOutbox.id} in (
      select ${notificationOutbox.id} from ${notificationOutbox}
      where ${notificationOutbox.queuedAt} < ${before.toISOString()}::timestamptz
      order by ${notificationOutbox.id}
      limit ${limit}
      for update skip locked
    ) returning ${notificationOutbox.id}`);
  return rows.length;
}
