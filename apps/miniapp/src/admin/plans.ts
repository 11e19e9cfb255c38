/**
 * The plan forms of the admin panel (`/admin/plan?mode=&id=`): create a plan, edit its names /
 * period / active flag / sort order / fiscal receipt codes, change its price. Each is its own confirmation page: what will
 * happen, the fields, a required reason, then `POST /api/admin/plan` → the gateway (audited,
 * Idempotency-Key). Only `mode` and `id` come from the URL.
 */
export const PLAN_MODES = {
  create: { title: "New plan", submit: "Create the plan", gatewayPath: () => "plans" },
  edit: { title: "Edit plan", submit: "Save the changes", gatewayPath: (id: number) => `plans/${id}/edit` },
  price: {
    title: "Change price",
    submit: "Change the price",
    gatewayPath: (id: number) => `plans/${id}/price`,
  },
} as const;
export type PlanMode = keyof typeof PLAN_MODES;

export function isPlanMode(value: unknown): value is PlanMode {
  return typeof value === "string" && Object.hasOwn(PLAN_MODES, value);
}

/**
 * The fiscal receipt settings (docs/operations.md "Fiscal receipts"). Left empty on a new plan they
 * get the placeholders; the gateway checks them (17-digit IKPU, 1–20 digit package code, VAT 0–100).
 */
export const FISCAL_FIELDS = ["ikpu_code", "package_code", "vat_percent"] as const;

/** The form fields each mode sends. */
export const PLAN_FIELDS = {
  create: [
    "slug",
    "name_uz",
    "name_ru",
    "name_en",
    "price_som",
    "duration_days",
    "is_active",
    "sort_order",
    "stars_price",
    ...FISCAL_FIELDS,
  ],
  edit: [
    "name_uz",
    "name_ru",
    "name_en",
    "duration_days",
    "is_active",
    "sort_order",
    "stars_price",
    ...FISCAL_FIELDS,
  ],
  price: ["price_som"],
} as const satisfies Record<PlanMode, readonly string[]>;

/** "29 000" or "29000.50" so'm → tiyin; null when not a plain amount. */
export function somToTiyin(text: string): number | null {
  const clean = text.replace(/[\s\u00a0]/g, "").replace(",", ".");
  if (!/^\d{1,13}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, fraction = ""] = clean.split(".") as [string, string?];
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}

export function tiyinToSomInput(tiyin: number): string {
  return tiyin % 100 === 0 ? String(tiyin / 100) : (tiyin / 100).toFixed(2);
}

export function planFormHref(mode: PlanMode, id?: number): string {
  const query = new URLSearchParams({ mode, ...(id !== undefined ? { id: String(id) } : {}) });
  return `/admin/plan?${query.toString()}`;
}
