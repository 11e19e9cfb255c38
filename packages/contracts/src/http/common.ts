import { z } from "zod";

export const LanguageSchema = z.enum(["uz", "ru", "en"]).meta({ id: "Language" });
export type Language = z.infer<typeof LanguageSchema>;

/** Maps a Telegram `language_code` (e.g. "ru", "en-US", "uz") to one of our languages; Uzbek by default. */
export function pickLanguage(code: string | null | undefined): Language {
  const base = (code ?? "").toLowerCase().split(/[-_]/)[0];
  return base === "ru" || base === "en" || base === "uz" ? base : "uz";
}

/** A plan's stable identifier: the seeded `monthly`/`quarterly`/`yearly`, or one an admin created. */
export const PlanSlugSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{1,31}$/, "2-32 characters: lowercase letters, digits, - and _")
  .meta({ id: "PlanSlug" });
export type PlanSlug = z.infer<typeof PlanSlugSchema>;

export const TelegramIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const SessionIdSchema = z.string().uuid();
export const TransactionIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Integer tiyin, never negative, never fractional. */
export const TiyinSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const IsoDateTimeSchema = z.string().datetime({ offset: true });

export const PaymentSessionStatusSchema = z
  .enum(["pending", "processing", "completed", "failed", "expired"])
  .meta({ id: "PaymentSessionStatus" });
export type PaymentSessionStatus = z.infer<typeof PaymentSessionStatusSchema>;
export const PaymentStatusSchema = z
  .enum(["pending", "success", "failed", "unknown", "reversed"])
  .meta({ id: "PaymentStatus" });
export const PaymentKindSchema = z.enum(["initial", "renewal"]).meta({ id: "PaymentKind" });
export const SubscriptionStatusSchema = z
  .enum(["active", "past_due", "canceled", "expired"])
  .meta({ id: "SubscriptionStatus" });
export const CardTypeSchema = z.enum(["uzcard", "humo", "visa", "mastercard"]).meta({ id: "CardType" });

/** A plan's name in every language, so a page can follow a language switch. */
export const PlanNamesSchema = z
  .object({ uz: z.string(), ru: z.string(), en: z.string() })
  .meta({ id: "PlanNames" });
export type PlanNames = z.infer<typeof PlanNamesSchema>;

export const PlanSummarySchema = z
  .object({
    slug: PlanSlugSchema,
    /** In the language of the request (the user's chosen one, else Telegram's). */
    name: z.string(),
    /** Every language's name (the gateway always sends it), so a page can follow a language switch. */
    names: PlanNamesSchema.optional(),
    /** For people: "29 000 so'm". */
    price: z.string(),
    /** Integer tiyin. */
    price_raw: TiyinSchema,
    duration_days: z.number().int().positive(),
    /** For people: "30 kun". */
    period: z.string(),
  })
  .meta({ id: "PlanSummary" });
export type PlanSummary = z.infer<typeof PlanSummarySchema>;
