import { z } from "zod";

export const LanguageSchema = z.enum(["uz", "ru", "en"]);
export type Language = z.infer<typeof LanguageSchema>;

/** Maps a Telegram `language_code` (e.g. "ru", "en-US", "uz") to one of our languages; Uzbek by default. */
export function pickLanguage(code: string | null | undefined): Language {
  const base = (code ?? "").toLowerCase().split(/[-_]/)[0];
  return base === "ru" || base === "en" || base === "uz" ? base : "uz";
}

/** A plan's stable identifier: the seeded `monthly`/`quarterly`/`yearly`, or one an admin created. */
export const PlanSlugSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{1,31}$/, "2-32 characters: lowercase letters, digits, - and _");
export type PlanSlug = z.infer<typeof PlanSlugSchema>;

export const TelegramIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const SessionIdSchema = z.string().uuid();
export const TransactionIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Integer tiyin, never negative, never fractional. */
export const TiyinSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const IsoDateTimeSchema = z.string().datetime({ offset: true });

export const PaymentSessionStatusSchema = z.enum(["pending", "processing", "completed", "failed", "expired"]);
export type PaymentSessionStatus = z.infer<typeof PaymentSessionStatusSchema>;
export const PaymentStatusSchema = z.enum(["pending", "success", "failed", "unknown", "reversed"]);
export const PaymentKindSchema = z.enum(["initial", "renewal"]);
export const SubscriptionStatusSchema = z.enum(["active", "past_due", "canceled", "expired"]);
export const CardTypeSchema = z.enum(["uzcard", "humo", "visa", "mastercard"]);

export const PlanSummarySchema = z.object({
  slug: PlanSlugSchema,
  name: z.string(),
  /** For people: "29 000 so'm". */
  price: z.string(),
  /** Integer tiyin. */
  price_raw: TiyinSchema,
  duration_days: z.number().int().positive(),
  /** For people: "30 kun". */
  period: z.string(),
});
export type PlanSummary = z.infer<typeof PlanSummarySchema>;
