import type { Database, DbOrTx } from "@obuna/db";
import { expirePaymentSessions, sessionPaymentKey } from "@obuna/db/queries";
import { paymentSessions, payments, plans, users } from "@obuna/db/schema";
import { and, eq, sql } from "drizzle-orm";

/** The session writes of the money core live in packages/db; re-exported for the gateway's steps. */
export {
  failSession,
  lockSession,
  sessionPaymentKey,
  setSessionPaymentStatus,
} from "@obuna/db/queries";

/**
 * create-link as ONE statement: find the active plan, upsert the Telegram user (profile refreshed,
 * role kept) and insert the payment session at the plan's price. One statement is atomic without
 * BEGIN/COMMIT and costs one round trip on the busiest write path (docs/benchmarks.md). Returns null,
 * having written nothing, when no active plan has that slug.
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
  },
) {
  // postgres.js tagged template: prepared once per connection and reused.
  const [row] = await db.$client<
    {
      id: string;
      user_id: string;
      language: "uz" | "ru" | "en" | null;
      expires_at: string | Date;
      slug: string;
      name_uz: string;
      name_ru: string;
      name_en: string;
      price: string;
      duration_days: number;
    }[]
  >`
    with plan as (
      select id, slug, name_uz, name_ru, name_en, price, duration_days
      from plans where slug = ${input.planSlug}::text and is_active
    ), upserted_user as (
      insert into users (telegram_id, username, first_name, language_code, language)
      select ${input.telegramId}::bigint, ${input.username}::text, ${input.firstName}::text,
        ${input.languageCode}::text, ${input.language ?? null}::user_language
      where exists (select 1 from plan)
      on conflict (telegram_id) do update set
        username = coalesce(excluded.username, users.username),
        first_name = coalesce(excluded.first_name, users.first_name),
        language_code = coalesce(excluded.language_code, users.language_code),
        language = coalesce(excluded.language, users.language),
        updated_at = now()
      returning id, language
    ), session as (
      insert into payment_sessions (user_id, plan_id, amount, expires_at, created_at, updated_at)
      select u.id, p.id, p.price, ${input.expiresAt.toISOString()}::timestamptz,
        ${input.now.toISOString()}::timestamptz, ${input.now.toISOString()}::timestamptz
      from upserted_user u cross join plan p
      returning id, user_id, expires_at
    )
    select s.id, s.user_id, (select language from upserted_user) as language, s.expires_at, p.slug, p.name_uz, p.name_ru, p.name_en, p.price, p.duration_days
    from session s cross join plan p`;
  if (!row) return null;
  return {
    id: row.id,
    userId: Number(row.user_id),
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

export async function getSessionByAccount(db: DbOrTx, account: string) {
  const [row] = await db
    .select()
    .from(paymentSessions)
    .where(eq(paymentSessions.providerReference, account))
    .limit(1);
  return row ?? null;
}

/** pending → expired once its time is up; returns true when this call expired it. */
export async function expireSession(db: DbOrTx, sessionId: string, now: Date) {
  // The session's pending payment row fails in the same statement (packages/db expirePaymentSessions).
  return (await expirePaymentSessions(db, { now, sessionId })).length > 0;
}

/** Records the provider's transaction (ids as text) on a session that has none yet (compare-and-set). */
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

export async function getSessionPayment(db: DbOrTx, sessionId: string) {
  const [row] = await db
    .select()
    .from(payments)
    .where(eq(payments.idempotencyKey, sessionPaymentKey(sessionId)))
    .limit(1);
  return row ?? null;
}

/** The attempt is recorded before ATMOS is asked to move money. */
export async function ensurePendingPayment(
  db: DbOrTx,
  input: {
    sessionId: string;
    userId: number;
    amount: number;
    externalId: string;
    cardMasked: string | null;
    offerVersion?: string | null;
    offerAcceptedAt?: Date | null;
  },
) {
  await db
    .insert(payments)
    .values({
      userId: input.userId,
      sessionId: input.sessionId,
      kind: "initial",
      status: "pending",
      amount: input.amount,
      externalId: input.externalId,
      cardMasked: input.cardMasked,
      offerVersion: input.offerVersion ?? null,
      offerAcceptedAt: input.offerAcceptedAt ?? null,
      idempotencyKey: sessionPaymentKey(input.sessionId),
    })
    .onConflictDoNothing({ target: payments.idempotencyKey });
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
