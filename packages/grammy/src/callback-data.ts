import { type PlanSlug, PlanSlugSchema } from "@obuna/contracts/http";

/**
 * Every inline button's callback data, in one place (Telegram allows 64 bytes).
 * Parsers return null for anything malformed, so a forged or ancient button is treated as stale.
 */
export const callbackData = {
  language: (lang: string) => `lang:${lang}`,
  plan: (slug: PlanSlug) => `plan:${slug}`,
  cancelYes: (subscriptionId: number) => `cancel:yes:${subscriptionId}`,
  cancelNo: () => "cancel:no",
  retryNow: (subscriptionId: number) => `rf:retry:${subscriptionId}`,
  otherCard: (subscriptionId: number) => `rf:pay:${subscriptionId}`,
  autoRenewOff: (subscriptionId: number) => `rf:off:${subscriptionId}`,
  premium: () => "premium",
  supportClose: () => "support:close",
} as const;

export const CALLBACK_PATTERNS = {
  language: /^lang:(uz|ru|en)$/,
  // Any plan slug (admins create plans: docs/plans.md); parsePlanSlug checks the exact form.
  plan: /^plan:([a-z0-9_-]{1,32})$/,
  cancelYes: /^cancel:yes:(\d{1,15})$/,
  cancelNo: /^cancel:no$/,
  recovery: /^rf:(retry|pay|off):(\d{1,15})$/,
  premium: /^premium$/,
  supportClose: /^support:close$/,
} as const;

export function parsePlanSlug(value: string | undefined): PlanSlug | null {
  const parsed = PlanSlugSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export function parseId(value: string | undefined): number | null {
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
