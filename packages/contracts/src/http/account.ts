import { z } from "zod";
import {
  CardTypeSchema,
  IsoDateTimeSchema,
  LanguageSchema,
  PaymentKindSchema,
  PaymentStatusSchema,
  PlanNamesSchema,
  PlanSlugSchema,
  SubscriptionStatusSchema,
  TiyinSchema,
} from "./common";

/** GET /api/v1/user/{telegram_id}/payments */
export const PaymentHistoryItemSchema = z.object({
  id: z.number().int(),
  kind: PaymentKindSchema,
  status: PaymentStatusSchema,
  amount: TiyinSchema,
  amount_formatted: z.string(),
  card_masked: z.string().nullable(),
  plan_slug: PlanSlugSchema.nullable(),
  /** Fiscal receipt link (ATMOS `ofd_url`) of a successful charge; null when none was issued. */
  receipt_url: z.string().nullable(),
  created_at: IsoDateTimeSchema,
});
export const PaymentHistoryResponseSchema = z.object({
  payments: z.array(PaymentHistoryItemSchema),
});
export type PaymentHistoryItem = z.infer<typeof PaymentHistoryItemSchema>;
export type PaymentHistoryResponse = z.infer<typeof PaymentHistoryResponseSchema>;

export const BoundCardSchema = z.object({
  id: z.number().int(),
  pan_masked: z.string(),
  card_type: CardTypeSchema,
  /** YYMM */
  expiry: z.string(),
  is_active: z.boolean(),
  created_at: IsoDateTimeSchema,
  last_used_at: IsoDateTimeSchema.nullable(),
});
export type BoundCard = z.infer<typeof BoundCardSchema>;

/** GET /api/v1/user/{telegram_id}/subscription — `subscription` is null for a user who never paid. */
export const SubscriptionSchema = z.object({
  id: z.number().int(),
  plan: z.object({
    slug: PlanSlugSchema,
    /** In the user's language. */
    name: z.string(),
    /** Every language's name (the gateway always sends it). */
    names: PlanNamesSchema.optional(),
    price: z.string(),
    price_raw: TiyinSchema,
  }),
  status: SubscriptionStatusSchema,
  is_active: z.boolean(),
  auto_renew: z.boolean(),
  start_date: IsoDateTimeSchema,
  end_date: IsoDateTimeSchema,
  cancelled_at: IsoDateTimeSchema.nullable(),
  /**
   * What renews the subscription next (one rail at a time): `card` (auto-renew with a saved card),
   * `stars` (a Telegram Stars subscription, renewed by Telegram every 30 days), null = nothing.
   */
  renews_with: z.enum(["card", "stars"]).nullable().optional(),
  card: BoundCardSchema.nullable(),
  /**
   * When the renewal charge will be tried (RENEWAL_LEAD_HOURS before end_date, or the planned retry
   * while past due); null when auto-renew is off, no card is saved or access ended.
   */
  next_charge_at: IsoDateTimeSchema.nullable(),
  /** The next automatic charge, when auto-renew is on and a card is saved; `date` = next_charge_at. */
  next_charge: z
    .object({
      date: IsoDateTimeSchema,
      amount: TiyinSchema,
      amount_formatted: z.string(),
      card_masked: z.string(),
    })
    .nullable(),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;
export const SubscriptionResponseSchema = z.object({
  subscription: SubscriptionSchema.nullable(),
  /** The language the user chose in the bot; null until they chose one (then use Telegram's). */
  language: LanguageSchema.nullable().optional(),
});
export type SubscriptionResponse = z.infer<typeof SubscriptionResponseSchema>;

/** GET /api/v1/user/{telegram_id}/cards */
export const CardsResponseSchema = z.object({ cards: z.array(BoundCardSchema) });
export type CardsResponse = z.infer<typeof CardsResponseSchema>;

/** GET /api/v1/plans — the active plans, for the bot's /premium keyboard. */
export const PlanListResponseSchema = z.object({
  plans: z.array(
    z.object({
      slug: PlanSlugSchema,
      names: PlanNamesSchema,
      price: z.string(),
      price_raw: TiyinSchema,
      duration_days: z.number().int().positive(),
      /** Price in Telegram Stars; null (or absent, older gateways) = not sold for Stars. */
      stars_price: z.number().int().positive().nullable().optional(),
    }),
  ),
});
export type PlanListResponse = z.infer<typeof PlanListResponseSchema>;

/** PUT /api/v1/user/{telegram_id}/language — the language the user chose (the bot, or the Mini App). */
export const SetLanguageRequestSchema = z.object({
  language: LanguageSchema,
  username: z.string().max(64).nullish(),
  first_name: z.string().max(256).nullish(),
});
export type SetLanguageRequest = z.infer<typeof SetLanguageRequestSchema>;
export const SetLanguageResponseSchema = z.object({ language: LanguageSchema });
export type SetLanguageResponse = z.infer<typeof SetLanguageResponseSchema>;
