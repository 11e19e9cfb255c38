import type {
  AdminAuditEntry,
  AdminBoundCard,
  AdminPayment,
  AdminPaymentSession,
  AdminSubscription,
  AdminUser,
  AdminUserRef,
} from "@obuna/contracts/http";
import { formatSom } from "@obuna/contracts/money";
import type { AuditLogEntry, BoundCard, Payment, PaymentSession, Subscription, User } from "@obuna/db";

/** Row → admin API shape. Card tokens never appear here (the card rows are selected without them). */

type UserRefRow = { id: number; telegramId: number; username: string | null; firstName: string | null };
type PlanSlug = AdminSubscription["plan_slug"];

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
/**
 * The admin API keeps ATMOS ids as the numbers it always answered with; the database holds a
 * provider's ids as text (ATMOS ids are their digits).
 */
const atmosIdNumber = (id: string | null) => (id === null ? null : Number(id));

export function userRefView(u: UserRefRow): AdminUserRef {
  return { id: u.id, telegram_id: u.telegramId, username: u.username, first_name: u.firstName };
}

export function paymentSessionView(
  row: {
    session: PaymentSession;
    user: UserRefRow;
    planSlug: string;
    paymentId: number | null;
    paymentStatus: Payment["status"] | null;
  },
  miniappUrl: string,
): AdminPaymentSession {
  const s = row.session;
  const url = new URL(miniappUrl);
  url.searchParams.set("session_id", s.id);
  return {
    id: s.id,
    user: userRefView(row.user),
    plan_slug: row.planSlug as PlanSlug,
    status: s.status,
    amount: s.amount,
    amount_formatted: formatSom(s.amount),
    payment_url: url.toString(),
    transaction_id: atmosIdNumber(s.externalId),
    card_masked: s.cardMasked,
    auto_renew: s.autoRenew,
    otp_attempts: s.otpAttempts,
    failure_reason: s.failureReason,
    payment_id: row.paymentId,
    payment_status: row.paymentStatus,
    expires_at: s.expiresAt.toISOString(),
    completed_at: iso(s.completedAt),
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

export function paymentView(row: { payment: Payment; user: UserRefRow }): AdminPayment {
  const p = row.payment;
  return {
    id: p.id,
    user: userRefView(row.user),
    kind: p.kind,
    status: p.status,
    amount: p.amount,
    amount_formatted: formatSom(p.amount),
    session_id: p.sessionId,
    subscription_id: p.subscriptionId,
    bound_card_id: p.boundCardId,
    transaction_id: atmosIdNumber(p.externalId),
    success_trans_id: atmosIdNumber(p.settlementId),
    card_masked: p.cardMasked,
    error_code: p.errorCode,
    error_message: p.errorMessage,
    period_start: iso(p.periodStart),
    period_end: iso(p.periodEnd),
    reversed_at: iso(p.reversedAt),
    reverse_reason: p.reverseReason,
    receipt_url: p.receiptUrl,
    // A card charge owes a fiscal receipt; a Telegram Stars payment never has one.
    missing_receipt: p.status === "success" && p.receiptUrl === null && p.provider === "atmos",
    refundable: p.status === "success" && p.settlementId !== null,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export function subscriptionView(row: {
  subscription: Subscription;
  user: UserRefRow;
  planSlug: string;
  planPrice: number;
  cardMasked: string | null;
}): AdminSubscription {
  const s = row.subscription;
  return {
    id: s.id,
    user: userRefView(row.user),
    plan_slug: row.planSlug as PlanSlug,
    plan_price: row.planPrice,
    status: s.status,
    is_active: s.isActive,
    auto_renew: s.autoRenew,
    start_date: s.startDate.toISOString(),
    end_date: s.endDate.toISOString(),
    bound_card_id: s.boundCardId,
    card_masked: row.cardMasked,
    renewal_attempts: s.renewalAttempts,
    renewal_error: s.renewalError,
    grace_until: iso(s.graceUntil),
    next_renewal_at: iso(s.nextRenewalAt),
    cancelled_at: iso(s.cancelledAt),
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

export function boundCardView(row: {
  card: Omit<BoundCard, "cardToken" | "userId" | "status" | "provider">;
  user: UserRefRow;
}): AdminBoundCard {
  const c = row.card;
  return {
    id: c.id,
    user: userRefView(row.user),
    card_id: Number(c.cardRef),
    pan_masked: c.panMasked,
    card_type: c.cardType,
    expiry: c.expiry,
    is_active: c.isActive,
    removed_at: iso(c.removedAt),
    last_used_at: iso(c.lastUsedAt),
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function userView(row: {
  user: User;
  subscriptionId: number | null;
  subscriptionEndDate: Date | null;
}): AdminUser {
  const u = row.user;
  return {
    ...userRefView(u),
    language_code: u.languageCode,
    role: u.role,
    bot_blocked_at: iso(u.botBlockedAt),
    subscription_id: row.subscriptionId,
    subscription_end_date: iso(row.subscriptionEndDate),
    created_at: u.createdAt.toISOString(),
  };
}

export function auditView(row: AuditLogEntry): AdminAuditEntry {
  return {
    id: row.id,
    actor: row.actor,
    action: row.action,
    entity_type: row.entityType,
    entity_id: row.entityId,
    reason: row.reason,
    details: row.details ?? null,
    created_at: row.createdAt.toISOString(),
  };
}
