import { and, count, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Database, DbOrTx } from "../client";
import { paymentSessions, payments, plans, users } from "../schema/index";
import { type ListPage, pageTotal, searchCondition, userRef } from "./list-page";
import { expirePaymentSessions } from "./payments";

/**
 * The payment-session reads and writes: the money core's (complete, fail, payment unknown) and the
 * gateway checkout steps' before money moves (create-link, create, card entry, apply claim).
 */

export async function lockSession(tx: DbOrTx, sessionId: string) {
  const [row] = await tx
    .select()
    .from(paymentSessions)
    .where(eq(paymentSessions.id, sessionId))
    .limit(1)
    .for("update");
  return row ?? null;
}

/** pending|processing → failed; returns true when this call failed it. */
export async function failSession(
  db: DbOrTx,
  sessionId: string,
  set: { reason: string; otpAttempts?: number; now: Date },
) {
  const rows = await db
    .update(paymentSessions)
    .set({
      status: "failed",
      failureReason: set.reason,
      updatedAt: set.now,
      ...(set.otpAttempts === undefined ? {} : { otpAttempts: set.otpAttempts }),
    })
    .where(
      and(eq(paymentSessions.id, sessionId), sql`${paymentSessions.status} in ('pending', 'processing')`),
    )
    .returning({ id: paymentSessions.id });
  return rows.length > 0;
}

/** The session paid: `completed`; the pending binding's token is dropped once it lives on a card row. */
export async function completeSession(
  tx: DbOrTx,
  sessionId: string,
  set: { now: Date; dropBindingToken: boolean },
) {
  await tx
    .update(paymentSessions)
    .set({
      status: "completed",
      completedAt: set.now,
      failureReason: null,
      ...(set.dropBindingToken ? { bindCardToken: null } : {}),
      updatedAt: set.now,
    })
    .where(eq(paymentSessions.id, sessionId));
}

export function sessionPaymentKey(sessionId: string) {
  return `session:${sessionId}`;
}

/** The session's payment row (never a `success` one) to failed / unknown / pending. */
export async function setSessionPaymentStatus(
  db: DbOrTx,
  sessionId: string,
  set: {
    status: "failed" | "unknown" | "pending";
    errorCode?: string | null;
    errorMessage?: string | null;
    now?: Date;
  },
) {
  await db
    .update(payments)
    .set({
      status: set.status,
      errorCode: set.errorCode ?? null,
      errorMessage: set.errorMessage ?? null,
      updatedAt: set.now ?? new Date(),
    })
    .where(
      and(eq(payments.idempotencyKey, sessionPaymentKey(sessionId)), sql`${payments.status} <> 'success'`),
    );
}

// ------------------------------------------------------------------ admin reads and figures

/**
 * Payment sessions (filter by status; search incl. the card mask), newest first, with owner, plan and
 * the session's payment, and the total.
 */
export async function listPaymentSessions(
  db: DbOrTx,
  params: ListPage & { status?: (typeof paymentSessions.status.enumValues)[number]; search?: string },
) {
  const where = and(
    params.status ? eq(paymentSessions.status, params.status) : undefined,
    searchCondition(params.search, paymentSessions.cardMasked),
  );
  const rows = await db
    .select({
      session: paymentSessions,
      user: userRef,
      planSlug: plans.slug,
      paymentId: payments.id,
      paymentStatus: payments.status,
    })
    .from(paymentSessions)
    .innerJoin(users, eq(users.id, paymentSessions.userId))
    .innerJoin(plans, eq(plans.id, paymentSessions.planId))
    .leftJoin(payments, eq(payments.idempotencyKey, sql`'session:' || ${paymentSessions.id}::text`))
    .where(where)
    .orderBy(desc(paymentSessions.createdAt), desc(paymentSessions.id))
    .limit(params.limit)
    .offset(params.offset);
  const n = await pageTotal(
    db
      .select({ n: count() })
      .from(paymentSessions)
      .innerJoin(users, eq(users.id, paymentSessions.userId))
      .where(where),
  );
  return { rows, total: n };
}

/** Sessions in `processing` not updated since `updatedBefore` (stuck: the dashboard, /metrics). */
export async function countStuckPaymentSessions(db: DbOrTx, updatedBefore: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, "processing"), lt(paymentSessions.updatedAt, updatedBefore)));
  return Number(row?.n ?? 0);
}

/** One payment session by id, without locking it. */
export async function getPaymentSession(db: DbOrTx, sessionId: string) {
  const [row] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId)).limit(1);
  return row ?? null;
}

/** Sessions left `processing` since before `updatedBefore`, oldest first (the stuck-session re-check). */
export async function findStuckPaymentSessions(db: DbOrTx, o: { updatedBefore: Date; limit: number }) {
  return db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, "processing"), lt(paymentSessions.updatedAt, o.updatedBefore)))
    .orderBy(paymentSessions.updatedAt)
    .limit(o.limit);
}

// ------------------------------------------------------------------ checkout steps (apps/gateway)

/**
 * create-link as ONE statement: find the active plan, upsert the Telegram user (profile refreshed,
 * role kept) and insert the payment session at the plan's price. One statement is atomic without
 * BEGIN/COMMIT and costs one round trip on the busiest write path (docs/benchmarks.md). The same
 * statement keeps the user's payment-link limit: over `linkLimit.max` links in the window it inserts
 * no session and returns `{ limited, retryAfterMs }` (the profile refresh and the count are still
 * written, as a Redis counter counts refused calls). Returns null, having written nothing, when no
 * active plan has that slug.
 *
 * The statement commits asynchronously (`synchronous_commit = off` for its own transaction only): it
 * does not wait for its WAL flush, which a later commit or the WAL writer does within 200 ms. A
 * database crash in that window can lose the new session (and the profile refresh and link count),
 * never money: nothing is paid on a session before a later step writes it, and every such write commits
 * synchronously, which flushes the WAL in order and so the session first. The user then opens a link
 * whose session is gone and asks the bot for another. In return the busiest write path does no fsync of
 * its own (pgbench, this statement: 4 100–4 550 → 6 990–7 570 per second, WAL syncs 6 278 → 37;
 * docs/benchmarks.md, gateway, item 17). Must not run inside a caller's transaction: the setting would cover all of it.
 */
export async function createSessionForTelegramUser(
  db: Database,
  input: {
    telegramId: number;
    username: string | null;
    firstName: string | null;
    languageCode: string | null;
    /** The language the user chose in the bot, if sent: stored on the user. */
    language?: "uz" | "ru" | "en" | null;
    planSlug: string;
    expiresAt: Date;
    now: Date;
    /** At most `max` links per user in a window of `windowS` seconds (refused calls count too). */
    linkLimit: { max: number; windowS: number };
  },
): Promise<CreatedLinkSession | { limited: true; retryAfterMs: number } | null> {
  const now = input.now.toISOString();
  const windowS = `${input.linkLimit.windowS} seconds`;
  // postgres.js tagged template: prepared once per connection and reused. The user row's upsert also
  // advances the user's link window; ON CONFLICT DO UPDATE works on the row's latest version under its
  // lock, so concurrent calls for one user count one by one, as a Redis counter would.
  const [row] = await db.$client<
    {
      id: string | null;
      language: "uz" | "ru" | "en" | null;
      expires_at: string | Date | null;
      links_window_start: string | Date;
      slug: string;
      name_uz: string;
      name_ru: string;
      name_en: string;
      price: string;
      duration_days: number;
    }[]
  >`
    with commit_mode as (
      -- This statement's transaction only (is_local): the setting ends with it.
      select set_config('synchronous_commit', 'off', true)
    ), plan as (
      select id, slug, name_uz, name_ru, name_en, price, duration_days
      from plans cross join commit_mode where slug = ${input.planSlug}::text and is_active
    ), upserted_user as (
      insert into users (telegram_id, username, first_name, language_code, language, links_window_start, links_in_window)
      select ${input.telegramId}::bigint, ${input.username}::text, ${input.firstName}::text,
        ${input.languageCode}::text, ${input.language ?? null}::user_language, ${now}::timestamptz, 1
      where exists (select 1 from plan)
      on conflict (telegram_id) do update set
        username = coalesce(excluded.username, users.username),
        first_name = coalesce(excluded.first_name, users.first_name),
        language_code = coalesce(excluded.language_code, users.language_code),
        language = coalesce(excluded.language, users.language),
        -- excluded.links_window_start is this call's time: a window older than windowS starts over.
        links_in_window = case
          when users.links_window_start > excluded.links_window_start - ${windowS}::interval
          then users.links_in_window + 1 else 1 end,
        links_window_start = case
          when users.links_window_start > excluded.links_window_start - ${windowS}::interval
          then users.links_window_start else excluded.links_window_start end,
        updated_at = now()
      returning id, language, links_in_window, links_window_start
    ), session as (
      insert into payment_sessions (user_id, plan_id, amount, expires_at, created_at, updated_at)
      select u.id, p.id, p.price, ${input.expiresAt.toISOString()}::timestamptz, t.now, t.now
      from upserted_user u cross join plan p cross join (values (${now}::timestamptz)) as t(now)
      where u.links_in_window <= ${input.linkLimit.max}::int
      returning id, expires_at
    )
    select s.id, u.language, s.expires_at, u.links_window_start,
      p.slug, p.name_uz, p.name_ru, p.name_en, p.price, p.duration_days
    from upserted_user u cross join plan p left join session s on true`;
  if (!row) return null;
  if (row.id === null || row.expires_at === null) {
    const windowEnds = new Date(row.links_window_start).getTime() + input.linkLimit.windowS * 1000;
    return { limited: true, retryAfterMs: Math.max(0, windowEnds - input.now.getTime()) };
  }
  return {
    id: row.id,
    language: row.language,
    expiresAt: new Date(row.expires_at),
    plan: {
      slug: row.slug,
      nameUz: row.name_uz,
      nameRu: row.name_ru,
      nameEn: row.name_en,
      price: Number(row.price),
      durationDays: row.duration_days,
    },
  };
}

export interface CreatedLinkSession {
  id: string;
  language: "uz" | "ru" | "en" | null;
  expiresAt: Date;
  plan: {
    slug: string;
    nameUz: string;
    nameRu: string;
    nameEn: string;
    price: number;
    durationDays: number;
  };
}

function buildSessionViewQuery(db: DbOrTx) {
  return db
    .select({
      session: paymentSessions,
      telegramId: users.telegramId,
      languageCode: users.languageCode,
      language: users.language,
      plan: plans,
    })
    .from(paymentSessions)
    .innerJoin(users, eq(users.id, paymentSessions.userId))
    .innerJoin(plans, eq(plans.id, paymentSessions.planId))
    .where(eq(paymentSessions.id, sql.placeholder("sessionId")))
    .limit(1)
    .prepare("payment_session_view");
}

/** Built once per database handle: building the SQL was a quarter of a session read's CPU time. */
const sessionViewQueries = new WeakMap<DbOrTx, ReturnType<typeof buildSessionViewQuery>>();

/** The session with its owner's telegram id and its plan (for ownership checks and responses). */
export async function getSessionView(db: DbOrTx, sessionId: string) {
  let query = sessionViewQueries.get(db);
  if (!query) {
    query = buildSessionViewQuery(db);
    sessionViewQueries.set(db, query);
  }
  const [row] = await query.execute({ sessionId });
  return row ?? null;
}

export type SessionView = NonNullable<Awaited<ReturnType<typeof getSessionView>>>;

export async function getSessionByReference(db: DbOrTx, reference: string) {
  const [row] = await db
    .select()
    .from(paymentSessions)
    .where(eq(paymentSessions.providerReference, reference))
    .limit(1);
  return row ?? null;
}

/** pending → expired once its time is up; returns true when this call expired it. */
export async function expireSession(db: DbOrTx, sessionId: string, now: Date) {
  // The session's pending payment row fails in the same statement (packages/db expirePaymentSessions).
  return (await expirePaymentSessions(db, { now, sessionId })).length > 0;
}

/** Records the provider's payment (ids as text) on a session that has none yet (compare-and-set). */
export async function attachTransaction(
  db: DbOrTx,
  sessionId: string,
  input: { externalId: string; providerReference: string; autoRenew: boolean; now: Date },
) {
  const rows = await db
    .update(paymentSessions)
    .set({
      externalId: input.externalId,
      providerReference: input.providerReference,
      autoRenew: input.autoRenew,
      updatedAt: input.now,
    })
    .where(
      and(
        eq(paymentSessions.id, sessionId),
        eq(paymentSessions.status, "pending"),
        sql`${paymentSessions.externalId} is null`,
      ),
    )
    .returning();
  return rows[0] ?? null;
}

export async function updatePendingSession(
  db: DbOrTx,
  sessionId: string,
  set: Partial<{
    autoRenew: boolean;
    cardMasked: string | null;
    bindingId: string | null;
    otpSentAt: Date | null;
    otpAttempts: number;
    cardEntryUntil: Date | null;
    offerVersion: string | null;
    offerAcceptedAt: Date | null;
  }> &
    Partial<PendingCardBinding> & { now: Date },
) {
  const { now, ...values } = set;
  const rows = await db
    .update(paymentSessions)
    .set({ ...values, updatedAt: now })
    .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.status, "pending")))
    .returning();
  return rows[0] ?? null;
}

/**
 * Starts a card entry (pre-apply): exactly one at a time per pending session, and none while an
 * apply holds it. Returns false when another entry (not yet timed out) or an apply holds the session.
 */
export async function startCardEntry(db: DbOrTx, sessionId: string, now: Date, until: Date) {
  const rows = await db
    .update(paymentSessions)
    .set({ cardEntryUntil: until, updatedAt: now })
    .where(
      and(
        eq(paymentSessions.id, sessionId),
        eq(paymentSessions.status, "pending"),
        sql`(${paymentSessions.cardEntryUntil} is null or ${paymentSessions.cardEntryUntil} <= ${now.toISOString()})`,
      ),
    )
    .returning({ id: paymentSessions.id });
  return rows.length > 0;
}

/** Ends a card entry that failed before recording a card (the success path clears it with the card). */
export async function endCardEntry(db: DbOrTx, sessionId: string, until: Date) {
  await db
    .update(paymentSessions)
    .set({ cardEntryUntil: null })
    .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.cardEntryUntil, until)));
}

/** pending → processing: exactly one concurrent apply wins this compare-and-set. */
export async function claimSessionForApply(db: DbOrTx, sessionId: string, now: Date) {
  const rows = await db
    .update(paymentSessions)
    .set({ status: "processing", updatedAt: now })
    .where(
      and(
        eq(paymentSessions.id, sessionId),
        eq(paymentSessions.status, "pending"),
        sql`${paymentSessions.expiresAt} > ${now.toISOString()}`,
        sql`(${paymentSessions.cardEntryUntil} is null or ${paymentSessions.cardEntryUntil} <= ${now.toISOString()})`,
      ),
    )
    .returning();
  return rows[0] ?? null;
}

/**
 * processing → pending after an answer that leaves the session payable (wrong OTP, expired OTP, a
 * passing ATMOS fault). `clearCardEntry`: the card must be entered again (pre-apply) before apply.
 */
export async function releaseSession(
  db: DbOrTx,
  sessionId: string,
  set: { otpAttempts?: number; clearCardEntry?: boolean; now: Date },
) {
  await db
    .update(paymentSessions)
    .set({
      status: "pending",
      updatedAt: set.now,
      ...(set.otpAttempts === undefined ? {} : { otpAttempts: set.otpAttempts }),
      ...(set.clearCardEntry ? { otpSentAt: null, bindingId: null, ...NO_PENDING_BINDING } : {}),
    })
    .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.status, "processing")));
}

/**
 * A card bound at ATMOS during a payment (bind-card/confirm, or ERR-133's existing card) waits on the
 * session, not in `bound_cards`: no user owns it until a payment that charged exactly this card
 * succeeds. Token encrypted with CARD_TOKEN_KEY.
 */
export interface PendingCardBinding {
  bindCardRef: string | null;
  bindCardToken: string | null;
  bindCardMasked: string | null;
  bindCardExpiry: string | null;
  bindCardType: "uzcard" | "humo" | "visa" | "mastercard" | null;
}

export const NO_PENDING_BINDING: PendingCardBinding = {
  bindCardRef: null,
  bindCardToken: null,
  bindCardMasked: null,
  bindCardExpiry: null,
  bindCardType: null,
};

/** Records the binding bind-card/confirm just made on a session this apply holds (`processing`). */
export async function setProcessingBinding(
  db: DbOrTx,
  sessionId: string,
  binding: PendingCardBinding & { now: Date },
) {
  const { now, ...values } = binding;
  const rows = await db
    .update(paymentSessions)
    .set({ ...values, updatedAt: now })
    .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.status, "processing")))
    .returning({ id: paymentSessions.id });
  return rows.length > 0;
}

/** The sessions whose provider reference (the account sent at creation) is one of these. */
export async function listSessionIdsByReference(db: DbOrTx, references: string[]) {
  if (references.length === 0) return [];
  return db
    .select({ id: paymentSessions.id, reference: paymentSessions.providerReference })
    .from(paymentSessions)
    .where(inArray(paymentSessions.providerReference, references));
}
