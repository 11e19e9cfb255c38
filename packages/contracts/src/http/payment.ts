import { z } from "zod";
import {
  CardTypeSchema,
  IsoDateTimeSchema,
  LanguageSchema,
  PaymentSessionStatusSchema,
  PlanSlugSchema,
  PlanSummarySchema,
  SessionIdSchema,
  TelegramIdSchema,
  TiyinSchema,
  TransactionIdSchema,
} from "./common";

/** POST /api/v1/payment/create-link — called by the bot with the internal token. */
export const CreateLinkRequestSchema = z.object({
  telegram_id: TelegramIdSchema,
  plan_slug: PlanSlugSchema,
  username: z.string().max(64).nullish(),
  first_name: z.string().max(256).nullish(),
  language_code: z.string().max(16).nullish(),
  /** The language the user chose in the bot, if they did: stored on the user (wins over language_code). */
  language: LanguageSchema.nullish(),
});
export type CreateLinkRequest = z.infer<typeof CreateLinkRequestSchema>;

export const CreateLinkResponseSchema = z.object({
  session_id: SessionIdSchema,
  payment_url: z.string().url(),
  expires_at: IsoDateTimeSchema,
  plan: PlanSummarySchema,
});
export type CreateLinkResponse = z.infer<typeof CreateLinkResponseSchema>;

/** GET /api/v1/payment/session/{session_id} */
export const PaymentSessionResponseSchema = z.object({
  session_id: SessionIdSchema,
  plan: PlanSummarySchema,
  status: PaymentSessionStatusSchema,
  auto_renew: z.boolean(),
  amount: TiyinSchema,
  expires_at: IsoDateTimeSchema,
  transaction_id: TransactionIdSchema.nullable(),
  card_masked: z.string().nullable(),
  otp_attempts_left: z.number().int().nonnegative(),
  /** The user's language: the one chosen in the bot, else Telegram's `language_code`. */
  language: LanguageSchema,
  failure_reason: z.string().nullable(),
  completed_at: IsoDateTimeSchema.nullable(),
  /** Present once completed: the subscription this session paid for. */
  subscription: z
    .object({ id: z.number().int(), end_date: IsoDateTimeSchema, auto_renew: z.boolean() })
    .nullable(),
  /**
   * The public offer the checkout links ("by paying you accept…"): OFFER_URL and OFFER_VERSION of the
   * gateway; null when none is configured. Send `version` back as pre-apply's `offer_version`.
   */
  offer: z.object({ url: z.string().url(), version: z.string() }).nullable().optional(),
});
export type PaymentSessionResponse = z.infer<typeof PaymentSessionResponseSchema>;

/** POST /api/v1/checkout/create */
export const AtmosCreateRequestSchema = z.object({
  session_id: SessionIdSchema,
  amount: TiyinSchema,
  auto_renew: z.boolean(),
});
export type AtmosCreateRequest = z.infer<typeof AtmosCreateRequestSchema>;
export const AtmosCreateResponseSchema = z.object({
  session_id: SessionIdSchema,
  transaction_id: TransactionIdSchema,
  amount: TiyinSchema,
  auto_renew: z.boolean(),
  status: PaymentSessionStatusSchema,
});
export type AtmosCreateResponse = z.infer<typeof AtmosCreateResponseSchema>;

/** POST /api/v1/checkout/pre-apply — the card number exists only in this request's memory. */
export const AtmosPreApplyRequestSchema = z.object({
  session_id: SessionIdSchema,
  transaction_id: TransactionIdSchema,
  card_number: z.string().min(1).max(32),
  /** MM/YY or YYMM. */
  expiry: z.string().min(4).max(7),
  /**
   * The public offer version the payer saw and accepts by paying (the session's `offer.version`).
   * Recorded on the session and its payment; an outdated version is refused (409 INVALID_STATE).
   */
  offer_version: z.string().trim().min(1).max(64).optional(),
});
export type AtmosPreApplyRequest = z.infer<typeof AtmosPreApplyRequestSchema>;
export const AtmosPreApplyResponseSchema = z.object({
  session_id: SessionIdSchema,
  transaction_id: TransactionIdSchema,
  card_masked: z.string(),
  card_type: CardTypeSchema,
  /** Masked phone the SMS code went to, when ATMOS tells us. */
  phone_masked: z.string().nullable(),
  otp_length: z.literal(6),
  otp_attempts_left: z.number().int().nonnegative(),
  resend_available_at: IsoDateTimeSchema,
});
export type AtmosPreApplyResponse = z.infer<typeof AtmosPreApplyResponseSchema>;

/** POST /api/v1/checkout/resend-otp */
export const AtmosResendOtpRequestSchema = z.object({
  session_id: SessionIdSchema,
  transaction_id: TransactionIdSchema,
});
export const AtmosResendOtpResponseSchema = z.object({
  session_id: SessionIdSchema,
  resend_available_at: IsoDateTimeSchema,
});

/** POST /api/v1/checkout/apply */
export const AtmosApplyRequestSchema = z.object({
  session_id: SessionIdSchema,
  transaction_id: TransactionIdSchema,
  otp: z.string().regex(/^\d{6}$/, "otp must be 6 digits"),
});
export type AtmosApplyRequest = z.infer<typeof AtmosApplyRequestSchema>;
export const AtmosApplyResponseSchema = z.object({
  session_id: SessionIdSchema,
  /** `completed` once paid; `processing` when ATMOS's answer is not known yet (poll the session). */
  status: z.enum(["completed", "processing"]),
  payment_id: z.number().int().nullable(),
  amount: TiyinSchema,
  card_masked: z.string().nullable(),
  card_saved: z.boolean(),
  subscription: z
    .object({
      id: z.number().int(),
      plan_slug: PlanSlugSchema,
      start_date: IsoDateTimeSchema,
      end_date: IsoDateTimeSchema,
      auto_renew: z.boolean(),
    })
    .nullable(),
});
export type AtmosApplyResponse = z.infer<typeof AtmosApplyResponseSchema>;

/**
 * POST /api/v1/checkout/callback — ATMOS sends strings (sometimes numbers); `invoice` or `account`.
 * Validated loosely here; the signature is checked over the raw received values.
 */
export const AtmosCallbackRequestSchema = z.object({
  store_id: z.union([z.string(), z.number()]),
  transaction_id: z.union([z.string(), z.number()]),
  transaction_time: z.union([z.string(), z.number()]).optional(),
  amount: z.union([z.string(), z.number()]),
  invoice: z.union([z.string(), z.number()]).optional(),
  account: z.union([z.string(), z.number()]).optional(),
  sign: z.string(),
});
export type AtmosCallbackRequest = z.infer<typeof AtmosCallbackRequestSchema>;
export const AtmosCallbackResponseSchema = z.object({
  status: z.union([z.literal(0), z.literal(1)]),
  message: z.string(),
});
export type AtmosCallbackResponse = z.infer<typeof AtmosCallbackResponseSchema>;
