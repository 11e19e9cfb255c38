import { z } from "zod";
import {
  CardTypeSchema,
  IsoDateTimeSchema,
  PaymentKindSchema,
  PaymentSessionStatusSchema,
  PaymentStatusSchema,
  PlanSlugSchema,
  SessionIdSchema,
  SubscriptionStatusSchema,
  TiyinSchema,
} from "./common";

/**
 * Admin API (`/api/v1/admin/*`), used by the Mini App's server-rendered admin panel.
 *
 * Auth: `Authorization: Bearer <ADMIN_TOKEN>`, or `Bearer <session_token>` from
 * `POST /api/v1/admin/session` (keep it in an httpOnly cookie), or `tma <initData>` of a Telegram
 * user listed in ADMIN_TELEGRAM_IDS. Anything else → 401 in the error envelope.
 * Every action takes a `reason`, writes one `audit_log` row in the same transaction as the change,
 * and honours `Idempotency-Key`. Money is integer tiyin (`*_formatted` for people); times ISO UTC.
 */

// ------------------------------------------------------------------ session

/**
 * POST /api/v1/admin/session — exchange ADMIN_TOKEN for a signed, expiring session token. The actor
 * of such a session is always `admin`: who acts comes from the credential, never from a body field
 * (an `actor` sent here is ignored).
 */
export const AdminSessionRequestSchema = z.object({
  token: z.string().min(1).max(512),
});
export type AdminSessionRequest = z.infer<typeof AdminSessionRequestSchema>;
export const AdminSessionResponseSchema = z.object({
  /** Send back as `Authorization: Bearer <session_token>`. */
  session_token: z.string(),
  actor: z.string(),
  expires_at: IsoDateTimeSchema,
});
export type AdminSessionResponse = z.infer<typeof AdminSessionResponseSchema>;

/** POST /api/v1/admin/logout — ends the session of the Bearer session token on the server. */
export const AdminLogoutResponseSchema = z.object({
  /** false when the credential was not a live session (ADMIN_TOKEN itself, or already ended). */
  ended: z.boolean(),
});
export type AdminLogoutResponse = z.infer<typeof AdminLogoutResponseSchema>;

/** GET /api/v1/admin/me — who the credentials belong to. */
export const AdminMeResponseSchema = z.object({
  actor: z.string(),
  /** token = ADMIN_TOKEN itself, session = a session token, telegram = an ADMIN_TELEGRAM_IDS user. */
  via: z.enum(["token", "session", "telegram"]),
  expires_at: IsoDateTimeSchema.nullable(),
});
export type AdminMeResponse = z.infer<typeof AdminMeResponseSchema>;

// ------------------------------------------------------------------ dashboard

/** GET /api/v1/admin/dashboard */
export const AdminDashboardSchema = z.object({
  generated_at: IsoDateTimeSchema,
  active_subscriptions: z.number().int().nonnegative(),
  /** Each active auto-renewing subscription's renewal price (its own after a plan price change, else the plan's) normalised to 30 days, summed (tiyin). */
  mrr: TiyinSchema,
  mrr_formatted: z.string(),
  renewals_last_30_days: z.object({
    succeeded: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  /** Successful payments since midnight Asia/Tashkent (UTC+5). */
  payments_today: z.object({
    count: z.number().int().nonnegative(),
    sum: TiyinSchema,
    sum_formatted: z.string(),
    /** Start of the Tashkent day, as UTC. */
    since: IsoDateTimeSchema,
  }),
  /** Payment sessions in `processing` for more than 10 minutes. */
  stuck_sessions: z.number().int().nonnegative(),
  unknown_outcomes: z.object({
    payments: z.number().int().nonnegative(),
    renewal_attempts: z.number().int().nonnegative(),
  }),
});
export type AdminDashboard = z.infer<typeof AdminDashboardSchema>;

// ------------------------------------------------------------------ lists

const limit = z.coerce.number().int().min(1).max(200).default(50);
const offset = z.coerce.number().int().min(0).max(1_000_000).default(0);
/** Telegram id (digits), username (with or without @) or a masked card fragment (e.g. `1840`, `986009`). */
const search = z.string().trim().min(1).max(64).optional();
const boolParam = z.enum(["true", "false"]).transform((v) => v === "true");

export const AdminPageQuerySchema = z.object({ limit, offset, search });
export type AdminPageQuery = z.infer<typeof AdminPageQuerySchema>;

function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    /** Rows matching the filters, all pages. */
    total: z.number().int().nonnegative(),
    limit: z.number().int(),
    offset: z.number().int(),
  });
}

export const AdminUserRefSchema = z.object({
  id: z.number().int(),
  telegram_id: z.number().int(),
  username: z.string().nullable(),
  first_name: z.string().nullable(),
});
export type AdminUserRef = z.infer<typeof AdminUserRefSchema>;

/** GET /api/v1/admin/payment-sessions?status=&search=&limit=&offset= */
export const AdminPaymentSessionsQuerySchema = AdminPageQuerySchema.extend({
  status: PaymentSessionStatusSchema.optional(),
});
export type AdminPaymentSessionsQuery = z.infer<typeof AdminPaymentSessionsQuerySchema>;
export const AdminPaymentSessionSchema = z.object({
  id: SessionIdSchema,
  user: AdminUserRefSchema,
  plan_slug: PlanSlugSchema,
  status: PaymentSessionStatusSchema,
  amount: TiyinSchema,
  amount_formatted: z.string(),
  /** MINIAPP_URL/?session_id=<id> */
  payment_url: z.string(),
  transaction_id: z.number().int().nullable(),
  card_masked: z.string().nullable(),
  auto_renew: z.boolean(),
  otp_attempts: z.number().int(),
  failure_reason: z.string().nullable(),
  /** The session's payment, if one was recorded. */
  payment_id: z.number().int().nullable(),
  payment_status: PaymentStatusSchema.nullable(),
  expires_at: IsoDateTimeSchema,
  completed_at: IsoDateTimeSchema.nullable(),
  created_at: IsoDateTimeSchema,
  updated_at: IsoDateTimeSchema,
});
export type AdminPaymentSession = z.infer<typeof AdminPaymentSessionSchema>;
export const AdminPaymentSessionListSchema = page(AdminPaymentSessionSchema);
export type AdminPaymentSessionList = z.infer<typeof AdminPaymentSessionListSchema>;

/** GET /api/v1/admin/payments?status=&kind=&without_receipt=&search=&limit=&offset= */
export const AdminPaymentsQuerySchema = AdminPageQuerySchema.extend({
  status: PaymentStatusSchema.optional(),
  kind: PaymentKindSchema.optional(),
  /** true = only successful charges without a fiscal receipt. */
  without_receipt: boolParam.optional(),
});
export type AdminPaymentsQuery = z.infer<typeof AdminPaymentsQuerySchema>;
export const AdminPaymentSchema = z.object({
  id: z.number().int(),
  user: AdminUserRefSchema,
  kind: PaymentKindSchema,
  status: PaymentStatusSchema,
  amount: TiyinSchema,
  amount_formatted: z.string(),
  session_id: SessionIdSchema.nullable(),
  subscription_id: z.number().int().nullable(),
  bound_card_id: z.number().int().nullable(),
  transaction_id: z.number().int().nullable(),
  success_trans_id: z.number().int().nullable(),
  card_masked: z.string().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  period_start: IsoDateTimeSchema.nullable(),
  period_end: IsoDateTimeSchema.nullable(),
  reversed_at: IsoDateTimeSchema.nullable(),
  reverse_reason: z.string().nullable(),
  /** Fiscal receipt link (ATMOS `ofd_url`). */
  receipt_url: z.string().nullable(),
  /** A successful charge without a fiscal receipt (the operator must issue one by hand). */
  missing_receipt: z.boolean(),
  /** Only `success` payments can be refunded. */
  refundable: z.boolean(),
  created_at: IsoDateTimeSchema,
  updated_at: IsoDateTimeSchema,
});
export type AdminPayment = z.infer<typeof AdminPaymentSchema>;
export const AdminPaymentListSchema = page(AdminPaymentSchema);
export type AdminPaymentList = z.infer<typeof AdminPaymentListSchema>;

/** GET /api/v1/admin/subscriptions?status=&auto_renew=&search=&limit=&offset= */
export const AdminSubscriptionsQuerySchema = AdminPageQuerySchema.extend({
  status: SubscriptionStatusSchema.optional(),
  auto_renew: boolParam.optional(),
});
export type AdminSubscriptionsQuery = z.input<typeof AdminSubscriptionsQuerySchema>;
export const AdminSubscriptionSchema = z.object({
  id: z.number().int(),
  user: AdminUserRefSchema,
  plan_slug: PlanSlugSchema,
  plan_price: TiyinSchema,
  status: SubscriptionStatusSchema,
  is_active: z.boolean(),
  auto_renew: z.boolean(),
  start_date: IsoDateTimeSchema,
  end_date: IsoDateTimeSchema,
  bound_card_id: z.number().int().nullable(),
  card_masked: z.string().nullable(),
  renewal_attempts: z.number().int(),
  renewal_error: z.string().nullable(),
  grace_until: IsoDateTimeSchema.nullable(),
  next_renewal_at: IsoDateTimeSchema.nullable(),
  cancelled_at: IsoDateTimeSchema.nullable(),
  created_at: IsoDateTimeSchema,
  updated_at: IsoDateTimeSchema,
});
export type AdminSubscription = z.infer<typeof AdminSubscriptionSchema>;
export const AdminSubscriptionListSchema = page(AdminSubscriptionSchema);
export type AdminSubscriptionList = z.infer<typeof AdminSubscriptionListSchema>;

/** GET /api/v1/admin/cards?active=&search=&limit=&offset= */
export const AdminCardsQuerySchema = AdminPageQuerySchema.extend({
  /** true = usable (active, not removed); false = deactivated or removed. */
  active: boolParam.optional(),
});
export type AdminCardsQuery = z.input<typeof AdminCardsQuerySchema>;
export const AdminBoundCardSchema = z.object({
  id: z.number().int(),
  user: AdminUserRefSchema,
  /** ATMOS card_id */
  card_id: z.number().int(),
  pan_masked: z.string(),
  card_type: CardTypeSchema,
  /** YYMM */
  expiry: z.string(),
  is_active: z.boolean(),
  removed_at: IsoDateTimeSchema.nullable(),
  last_used_at: IsoDateTimeSchema.nullable(),
  created_at: IsoDateTimeSchema,
  updated_at: IsoDateTimeSchema,
});
export type AdminBoundCard = z.infer<typeof AdminBoundCardSchema>;
export const AdminCardListSchema = page(AdminBoundCardSchema);
export type AdminCardList = z.infer<typeof AdminCardListSchema>;

/** GET /api/v1/admin/users?role=&search=&limit=&offset= */
export const AdminUsersQuerySchema = AdminPageQuerySchema.extend({
  role: z.enum(["user", "premium", "admin"]).optional(),
});
export type AdminUsersQuery = z.infer<typeof AdminUsersQuerySchema>;
export const AdminUserSchema = AdminUserRefSchema.extend({
  language_code: z.string().nullable(),
  role: z.enum(["user", "premium", "admin"]),
  bot_blocked_at: IsoDateTimeSchema.nullable(),
  /** The live (active/past_due) subscription, if any. */
  subscription_id: z.number().int().nullable(),
  subscription_end_date: IsoDateTimeSchema.nullable(),
  created_at: IsoDateTimeSchema,
});
export type AdminUser = z.infer<typeof AdminUserSchema>;
export const AdminUserListSchema = page(AdminUserSchema);
export type AdminUserList = z.infer<typeof AdminUserListSchema>;

/** GET /api/v1/admin/audit-log?entity_type=&entity_id=&actor=&action=&limit=&offset= (newest first) */
export const AdminAuditQuerySchema = z.object({
  limit,
  offset,
  entity_type: z.string().trim().min(1).max(64).optional(),
  entity_id: z.string().trim().min(1).max(64).optional(),
  actor: z.string().trim().min(1).max(80).optional(),
  action: z.string().trim().min(1).max(64).optional(),
});
export type AdminAuditQuery = z.infer<typeof AdminAuditQuerySchema>;
export const AdminAuditEntrySchema = z.object({
  id: z.number().int(),
  actor: z.string(),
  action: z.string(),
  entity_type: z.string(),
  entity_id: z.string(),
  reason: z.string().nullable(),
  details: z.unknown().nullable(),
  created_at: IsoDateTimeSchema,
});
export type AdminAuditEntry = z.infer<typeof AdminAuditEntrySchema>;
export const AdminAuditListSchema = page(AdminAuditEntrySchema);
export type AdminAuditList = z.infer<typeof AdminAuditListSchema>;

// ------------------------------------------------------------------ actions

/** Every action says why (shown in the audit log). */
export const AdminReasonSchema = z.string().trim().min(3).max(500);
export const AdminActionRequestSchema = z.object({ reason: AdminReasonSchema });
export type AdminActionRequest = z.infer<typeof AdminActionRequestSchema>;

/**
 * POST /api/v1/admin/cards/{id}/deactivate | /reactivate | /remove   body {reason}
 * remove = ATMOS remove-card, then removed_at + inactive (subscriptions using it stop auto-renewing).
 */
export const AdminCardActionResponseSchema = z.object({
  card: AdminBoundCardSchema,
  audit_id: z.number().int(),
});
export type AdminCardActionResponse = z.infer<typeof AdminCardActionResponseSchema>;

/**
 * POST /api/v1/admin/payments/{id}/refund   body {reason}
 * ATMOS reverse with the payment's success_trans_id; payment → `reversed`; the subscription loses
 * the payment's period (expires, role back to `user`, when its end falls into the past).
 * A second refund of the same payment → 409 INVALID_STATE. ATMOS answer unknown → 503, nothing
 * marked reversed (the attempt is in the audit log; run `pnpm reconcile`).
 */
export const AdminRefundResponseSchema = z.object({
  payment: AdminPaymentSchema,
  subscription: AdminSubscriptionSchema.nullable(),
  audit_id: z.number().int(),
});
export type AdminRefundResponse = z.infer<typeof AdminRefundResponseSchema>;

/** POST /api/v1/admin/subscriptions/{id}/extend   body {days, reason} */
export const AdminExtendRequestSchema = z.object({
  days: z.number().int().min(1).max(3660),
  reason: AdminReasonSchema,
});
export type AdminExtendRequest = z.infer<typeof AdminExtendRequestSchema>;
/** POST /api/v1/admin/subscriptions/{id}/cancel   body {reason} — status `canceled` now, role back to `user`. */
export const AdminSubscriptionActionResponseSchema = z.object({
  subscription: AdminSubscriptionSchema,
  audit_id: z.number().int(),
});
export type AdminSubscriptionActionResponse = z.infer<typeof AdminSubscriptionActionResponseSchema>;

// ------------------------------------------------------------------ plans (i16-admin)

const PlanNameSchema = z.string().trim().min(1).max(80);
const PlanDurationSchema = z.number().int().min(1).max(3660);
/** A price in tiyin: at least 1 so'm (ATMOS takes no zero charges). */
const PlanPriceSchema = TiyinSchema.min(100);
/**
 * Fiscal receipt settings of a plan (docs/operations.md "Fiscal receipts"), with the same rules as
 * the `plans` CHECK constraints so a bad value is a 400 naming the field, never a constraint error.
 */
const PlanIkpuCodeSchema = z
  .string()
  .trim()
  .regex(/^[0-9]{17}$/, "the IKPU/MXIK code is exactly 17 digits");
const PlanPackageCodeSchema = z
  .string()
  .trim()
  .regex(/^[0-9]{1,20}$/, "the package code is 1 to 20 digits");
const PlanVatPercentSchema = z.number().int().min(0).max(100);
/**
 * A plan's price in Telegram Stars (whole Stars); null = not sold for Stars. A 30-day plan is a native
 * Stars subscription, which Telegram caps at 10 000 Stars (docs/stars.md).
 */
const PlanStarsPriceSchema = z.number().int().min(1).max(100_000).nullable();

export const AdminPlanSchema = z.object({
  id: z.number().int(),
  slug: PlanSlugSchema,
  name_uz: z.string(),
  name_ru: z.string(),
  name_en: z.string(),
  /** The list price of new purchases (tiyin). Existing subscribers: see docs/plans.md. */
  price: TiyinSchema,
  price_formatted: z.string(),
  duration_days: z.number().int(),
  is_active: z.boolean(),
  sort_order: z.number().int(),
  /** IKPU/MXIK code (17 digits) on the fiscal receipt of every charge for the plan. */
  ikpu_code: z.string(),
  /** Package code (unit of measure) on the fiscal receipt. */
  package_code: z.string(),
  /** VAT rate in percent on the fiscal receipt. */
  vat_percent: z.number().int(),
  /** Price in Telegram Stars (XTR); null = not sold for Stars. */
  stars_price: z.number().int().nullable(),
  /** True while the plan still has the seeded placeholder codes: set them before going live. */
  fiscal_placeholder: z.boolean(),
  /** Live (active/past_due) subscriptions on the plan. */
  live_subscriptions: z.number().int().nonnegative(),
  /** Live subscriptions that renew at another price than the list price (until their notice period passed). */
  on_other_price: z.number().int().nonnegative(),
  created_at: IsoDateTimeSchema,
  updated_at: IsoDateTimeSchema,
});
export type AdminPlan = z.infer<typeof AdminPlanSchema>;

/** GET /api/v1/admin/plans — every plan, by sort order. */
export const AdminPlanListSchema = z.object({
  items: z.array(AdminPlanSchema),
  /** PRICE_CHANGE_NOTICE_DAYS: how long before the first renewal at a new price the subscriber is told. */
  price_change_notice_days: z.number().int().nonnegative(),
});
export type AdminPlanList = z.infer<typeof AdminPlanListSchema>;

/**
 * POST /api/v1/admin/plans   body {slug, names, price, duration_days, is_active?, sort_order?,
 * ikpu_code?, package_code?, vat_percent?, reason}. Fiscal fields left out get the column defaults
 * (the placeholders that `pnpm reconcile` warns about).
 */
export const AdminPlanCreateRequestSchema = z.object({
  slug: PlanSlugSchema,
  name_uz: PlanNameSchema,
  name_ru: PlanNameSchema,
  name_en: PlanNameSchema,
  price: PlanPriceSchema,
  duration_days: PlanDurationSchema,
  is_active: z.boolean().default(true),
  sort_order: z.number().int().min(-1000).max(1000).default(0),
  ikpu_code: PlanIkpuCodeSchema.optional(),
  package_code: PlanPackageCodeSchema.optional(),
  vat_percent: PlanVatPercentSchema.optional(),
  stars_price: PlanStarsPriceSchema.optional(),
  reason: AdminReasonSchema,
});
export type AdminPlanCreateRequest = z.input<typeof AdminPlanCreateRequestSchema>;

/**
 * POST /api/v1/admin/plans/{id}/edit   body {name_*?, duration_days?, is_active?, sort_order?,
 * ikpu_code?, package_code?, vat_percent?, reason}
 * Only the fields sent change; the price has its own action (it owes subscribers a notice).
 */
export const AdminPlanUpdateRequestSchema = z
  .object({
    name_uz: PlanNameSchema.optional(),
    name_ru: PlanNameSchema.optional(),
    name_en: PlanNameSchema.optional(),
    duration_days: PlanDurationSchema.optional(),
    is_active: z.boolean().optional(),
    sort_order: z.number().int().min(-1000).max(1000).optional(),
    ikpu_code: PlanIkpuCodeSchema.optional(),
    package_code: PlanPackageCodeSchema.optional(),
    vat_percent: PlanVatPercentSchema.optional(),
    stars_price: PlanStarsPriceSchema.optional(),
    reason: AdminReasonSchema,
  })
  .refine((b) => Object.keys(b).some((k) => k !== "reason"), "change at least one field");
export type AdminPlanUpdateRequest = z.infer<typeof AdminPlanUpdateRequestSchema>;

/**
 * POST /api/v1/admin/plans/{id}/price   body {price, reason}
 * New purchases pay the new price at once. Live subscriptions keep renewing at the price they have
 * until PRICE_CHANGE_NOTICE_DAYS after they were sent a price-change notice (docs/plans.md).
 */
export const AdminPlanPriceRequestSchema = z.object({ price: PlanPriceSchema, reason: AdminReasonSchema });
export type AdminPlanPriceRequest = z.infer<typeof AdminPlanPriceRequestSchema>;

export const AdminPlanActionResponseSchema = z.object({
  plan: AdminPlanSchema,
  audit_id: z.number().int(),
  /** Price change only: live subscriptions that now owe a notice before they pay the new price. */
  subscriptions_to_notify: z.number().int().nonnegative().optional(),
});
export type AdminPlanActionResponse = z.infer<typeof AdminPlanActionResponseSchema>;

// ------------------------------------------------------------------ dashboard series (i16-admin)

/** GET /api/v1/admin/dashboard/series?days=30|90 — daily series over Tashkent days, by rail and plan. */
export const AdminDashboardSeriesQuerySchema = z.object({
  days: z.coerce
    .number()
    .int()
    .refine((d) => d === 30 || d === 90, "30 or 90")
    .default(30),
});
export type AdminDashboardSeriesQuery = z.input<typeof AdminDashboardSeriesQuerySchema>;

/** A payment rail: `atmos` (UzCard/Humo through ATMOS) today; Telegram Stars later. */
const RailSchema = z.string();
const dimension = { rail: RailSchema, plan_slug: z.string() };
const DaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const AdminDashboardSeriesSchema = z.object({
  generated_at: IsoDateTimeSchema,
  days: z.number().int(),
  /** Every Tashkent day of the window, oldest first (today last). */
  dates: z.array(DaySchema),
  rails: z.array(RailSchema),
  plans: z.array(z.string()),
  /** Successful payments (refunded ones excluded) per day: sum in tiyin and count. Zero days omitted. */
  revenue: z.array(z.object({ date: DaySchema, ...dimension, amount: TiyinSchema, count: z.number().int() })),
  /** Renewal attempts resolved per day; success rate = succeeded / (succeeded + failed). Zero days omitted. */
  renewals: z.array(
    z.object({
      date: DaySchema,
      ...dimension,
      succeeded: z.number().int(),
      failed: z.number().int(),
      /** Successes of a period's 2nd+ attempt: money dunning got back. */
      recovered: z.number().int(),
      recovered_amount: TiyinSchema,
    }),
  ),
  /** Subscriptions with access at the end of each day (now for today), per rail and plan. */
  active: z.array(z.object({ date: DaySchema, ...dimension, count: z.number().int() })),
  /** Of the subscriptions with access N days ago, how many have none now. */
  churn: z.array(
    z.object({
      window_days: z.union([z.literal(30), z.literal(90)]),
      ...dimension,
      base: z.number().int(),
      churned: z.number().int(),
      /** churned / base, 0 when base is 0. */
      rate: z.number(),
    }),
  ),
});
export type AdminDashboardSeries = z.infer<typeof AdminDashboardSeriesSchema>;

// ------------------------------------------------------------------ signed events (delivery log)

/** GET /api/v1/admin/event-deliveries: the delivery log of signed premium events, newest first. */
export const AdminEventDeliveriesQuerySchema = z.object({
  limit,
  offset,
  status: z.enum(["pending", "delivered", "failed"]).optional(),
  type: z.string().trim().min(1).max(64).optional(),
  telegram_id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  event_id: z.string().uuid().optional(),
});
export type AdminEventDeliveriesQuery = z.infer<typeof AdminEventDeliveriesQuerySchema>;

/** One HTTP attempt: the endpoint's status (null = no answer), the error, how long it took. */
export const AdminEventAttemptSchema = z.object({
  generation: z.number().int(),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number().int(),
  created_at: IsoDateTimeSchema,
});
export const AdminEventDeliverySchema = z.object({
  id: z.number().int(),
  event_id: z.string(),
  event_type: z.string(),
  telegram_id: z.number().int(),
  subscription_id: z.number().int(),
  endpoint: z.string(),
  /** pending = owed (queued or waiting for a retry), delivered = a 2xx, failed = every attempt used. */
  status: z.enum(["pending", "delivered", "failed"]),
  /** Bumped by each manual resend. */
  generation: z.number().int(),
  attempts: z.number().int(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  last_attempt_at: IsoDateTimeSchema.nullable(),
  delivered_at: IsoDateTimeSchema.nullable(),
  created_at: IsoDateTimeSchema,
  /** The event's body as every endpoint receives it. */
  payload: z.unknown(),
  /** The latest attempts (up to 10), newest first. */
  recent_attempts: z.array(AdminEventAttemptSchema),
});
export type AdminEventDelivery = z.infer<typeof AdminEventDeliverySchema>;
export const AdminEventDeliveryListSchema = page(AdminEventDeliverySchema);
export type AdminEventDeliveryList = z.infer<typeof AdminEventDeliveryListSchema>;

/**
 * POST /api/v1/admin/event-deliveries/{id}/resend   body {reason}
 * Sends the same event (same id and body, signed anew) to the same endpoint again: a new generation,
 * delivered by the renewals worker within RENEWALS_EVENTS_RELAY_INTERVAL_MS. Audited (`event.resent`).
 */
export const AdminEventResendResponseSchema = z.object({
  delivery: AdminEventDeliverySchema,
  audit_id: z.number().int(),
});
export type AdminEventResendResponse = z.infer<typeof AdminEventResendResponseSchema>;
