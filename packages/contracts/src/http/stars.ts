import { z } from "zod";

/**
 * Telegram Stars (docs/stars.md): the bot relays Telegram's payment updates to the gateway with its
 * internal token (`stars:pay`); the gateway makes the invoice links and records the money. Field
 * names inside the Telegram objects are the Bot API's (core.telegram.org/bots/api#payments).
 */

const TelegramId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const ChargeId = z.string().min(1).max(256);
const Payload = z.string().min(1).max(128);
const Stars = z.number().int().min(1).max(1_000_000);

/** POST /api/v1/stars/invoice-link — a Stars invoice link for a pending payment session. */
export const StarsInvoiceLinkRequestSchema = z.object({ session_id: z.string().uuid() });
export type StarsInvoiceLinkRequest = z.infer<typeof StarsInvoiceLinkRequestSchema>;
export const StarsInvoiceLinkResponseSchema = z.object({
  invoice_link: z.string().url(),
  /** The price in Stars (XTR). */
  stars_amount: z.number().int().positive(),
  /** True: a native 30-day Stars subscription Telegram renews; false: a one-off invoice. */
  subscription: z.boolean(),
});
export type StarsInvoiceLinkResponse = z.infer<typeof StarsInvoiceLinkResponseSchema>;

/**
 * POST /api/v1/payment/session/{session_id}/stars-invoice — the Mini App's "Pay with Stars": the
 * signed-in user's own pending session's Stars invoice link (opened with Telegram.WebApp.openInvoice).
 * No body; the same answer as the bot's invoice-link.
 */
export const StarsSessionInvoiceResponseSchema = StarsInvoiceLinkResponseSchema;
export type StarsSessionInvoiceResponse = StarsInvoiceLinkResponse;

/** POST /api/v1/stars/pre-checkout — may Telegram charge this pre_checkout_query? (Bot API PreCheckoutQuery.) */
export const StarsPreCheckoutRequestSchema = z.object({
  pre_checkout_query: z.object({
    id: z.string().min(1).max(256),
    from: z.object({ id: TelegramId }).passthrough(),
    currency: z.string().min(1).max(8),
    total_amount: z.number().int().nonnegative(),
    invoice_payload: Payload,
  }),
});
export type StarsPreCheckoutRequest = z.infer<typeof StarsPreCheckoutRequestSchema>;
export const StarsPreCheckoutResponseSchema = z.object({
  ok: z.boolean(),
  /** Why not (our reason code), when `ok` is false. */
  reason: z.string().nullable(),
});
export type StarsPreCheckoutResponse = z.infer<typeof StarsPreCheckoutResponseSchema>;

/** POST /api/v1/stars/successful-payment — a `successful_payment` message (Bot API SuccessfulPayment). */
export const StarsSuccessfulPaymentRequestSchema = z.object({
  telegram_id: TelegramId,
  successful_payment: z.object({
    currency: z.string().min(1).max(8),
    total_amount: Stars,
    invoice_payload: Payload,
    telegram_payment_charge_id: ChargeId,
    provider_payment_charge_id: z.string().max(256).optional(),
    subscription_expiration_date: z.number().int().positive().optional(),
    is_recurring: z.boolean().optional(),
    is_first_recurring: z.boolean().optional(),
  }),
});
export type StarsSuccessfulPaymentRequest = z.infer<typeof StarsSuccessfulPaymentRequestSchema>;
export const StarsSuccessfulPaymentResponseSchema = z.object({
  /** recorded: this charge is now a payment; duplicate: it was already; unmatched: held for an operator. */
  status: z.enum(["recorded", "duplicate", "unmatched"]),
  payment_id: z.number().int().nullable(),
  subscription_id: z.number().int().nullable(),
  end_date: z.string().nullable(),
});
export type StarsSuccessfulPaymentResponse = z.infer<typeof StarsSuccessfulPaymentResponseSchema>;

/** POST /api/v1/stars/refunded-payment — a `refunded_payment` message (Bot API RefundedPayment). */
export const StarsRefundedPaymentRequestSchema = z.object({
  telegram_id: TelegramId,
  refunded_payment: z.object({
    currency: z.string().min(1).max(8),
    total_amount: Stars,
    invoice_payload: Payload,
    telegram_payment_charge_id: ChargeId,
    provider_payment_charge_id: z.string().max(256).optional(),
  }),
});
export type StarsRefundedPaymentRequest = z.infer<typeof StarsRefundedPaymentRequestSchema>;
export const StarsRefundedPaymentResponseSchema = z.object({
  status: z.enum(["refunded", "already_refunded", "not_found"]),
  payment_id: z.number().int().nullable(),
});
export type StarsRefundedPaymentResponse = z.infer<typeof StarsRefundedPaymentResponseSchema>;
