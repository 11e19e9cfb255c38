import { randomUUID } from "node:crypto";
import type { AdminPlan, AdminPlanList } from "@obuna/contracts/http";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import { REASON_MAX, REASON_MIN } from "../../admin/actions";
import { AdminLayout, ErrorBox } from "../../admin/components";
import { tr } from "../../admin/i18n";
import { isPlanMode, PLAN_MODES, type PlanMode, tiyinToSomInput } from "../../admin/plans";
import { type AdminPageProps, loadAdminPage, queryValue } from "../../admin/server/guard";

interface PlanFormData {
  mode: PlanMode;
  /** null for a new plan */
  plan: AdminPlan | null;
  noticeDays: number;
  /** The form's values: the plan's current ones, or what was typed before a refusal (same session). */
  values: Record<string, string>;
  reason: string;
  idempotencyKey: string;
}

const input = "rounded border border-gray-300 px-2 py-1";

/**
 * `/admin/plan?mode=create|edit|price&id=`: the plan form is its own confirmation page. Nothing
 * changes before the submit; the values, reason and Idempotency-Key never come from the URL.
 */
export default function AdminPlanFormPage({ actor, result, flash, lang }: AdminPageProps<PlanFormData>) {
  const t = (english: string) => tr(lang, english);
  if (!result.ok) {
    return (
      <AdminLayout title="Plans" actor={actor} flash={flash} lang={lang}>
        <ErrorBox message={result.message} />
      </AdminLayout>
    );
  }
  const f = result.data;
  const mode = PLAN_MODES[f.mode];
  const v = (name: string) => f.values[name] ?? "";
  const text = (name: string, label: string, props: Record<string, unknown> = {}) => (
    <label className="flex flex-col gap-1">
      <span>{t(label)}</span>
      <input type="text" name={name} defaultValue={v(name)} required className={input} {...props} />
    </label>
  );
  return (
    <AdminLayout
      title={`${t(mode.title)}${f.plan ? ` #${f.plan.id} (${f.plan.slug})` : ""}`}
      actor={actor}
      flash={flash}
      lang={lang}
    >
      <form
        method="post"
        action="/api/admin/plan"
        className="flex max-w-xl flex-col gap-3 rounded border border-gray-200 bg-white p-4"
        data-testid="plan-form"
      >
        <p>
          {f.mode === "create" && t("A new plan is offered in the bot as soon as it is active.")}
          {f.mode === "edit" &&
            t(
              "Names, period and the active flag change at once; an inactive plan is no longer sold, its subscribers keep renewing.",
            )}
          {f.mode === "edit" &&
            ` ${t("New fiscal codes apply to the receipts of charges made from then on.")}`}
          {f.mode === "price" && (
            <>
              {t(
                "New purchases pay the new price at once. Subscribers keep their price until they were notified and the notice period passed:",
              )}{" "}
              <strong>
                {f.noticeDays} {t("days")}
              </strong>{" "}
              ({t("Live subscriptions")}: {f.plan?.live_subscriptions ?? 0}; {t("Price")}:{" "}
              {f.plan?.price_formatted})
            </>
          )}
        </p>
        <input type="hidden" name="mode" value={f.mode} />
        <input type="hidden" name="id" value={f.plan?.id ?? ""} />
        <input type="hidden" name="idempotency_key" value={f.idempotencyKey} />
        {f.mode === "create" &&
          text("slug", "Slug", {
            pattern: "[a-z][a-z0-9_\\-]{1,31}",
            maxLength: 32,
            className: `${input} font-mono`,
          })}
        {f.mode !== "price" && (
          <>
            {text("name_uz", "Name (uz)", { maxLength: 80, lang: "uz" })}
            {text("name_ru", "Name (ru)", { maxLength: 80, lang: "ru" })}
            {text("name_en", "Name (en)", { maxLength: 80, lang: "en" })}
          </>
        )}
        {f.mode !== "edit" &&
          text("price_som", f.mode === "price" ? "New price (so'm)" : "Price (so'm)", {
            inputMode: "decimal",
            pattern: "[0-9 ]{1,16}([.,][0-9]{1,2})?",
          })}
        {f.mode !== "price" && (
          <>
            <label className="flex flex-col gap-1">
              <span>{t("Period (days)")}</span>
              <input
                type="number"
                name="duration_days"
                min={1}
                max={3660}
                step={1}
                required
                defaultValue={v("duration_days")}
                className={`${input} w-32`}
              />
            </label>
            <label className="flex flex-col gap-1">
              <span>{t("Sort order")}</span>
              <input
                type="number"
                name="sort_order"
                min={-1000}
                max={1000}
                step={1}
                required
                defaultValue={v("sort_order")}
                className={`${input} w-32`}
              />
            </label>
            <label className="flex flex-col gap-1">
              <span>{t("Price in Telegram Stars (empty: unchanged, none: not sold for Stars)")}</span>
              <input
                type="text"
                name="stars_price"
                inputMode="numeric"
                pattern="[0-9]{1,6}|none"
                defaultValue={v("stars_price")}
                className={`${input} w-32`}
              />
            </label>
            <fieldset className="flex flex-col gap-2 rounded border border-gray-200 p-2">
              <legend className="px-1 text-sm font-semibold">{t("Fiscal receipt")}</legend>
              <p className="text-xs text-gray-600">
                {t(
                  "Printed on the receipt of every charge for this plan. Take the codes from tasnif.soliq.uz; left empty, a new plan gets placeholders that must be set before going live.",
                )}
              </p>
              {text("ikpu_code", "IKPU/MXIK code (17 digits)", {
                inputMode: "numeric",
                pattern: "[0-9]{17}",
                maxLength: 17,
                required: f.mode === "edit",
                className: `${input} font-mono`,
              })}
              {text("package_code", "Package code", {
                inputMode: "numeric",
                pattern: "[0-9]{1,20}",
                maxLength: 20,
                required: f.mode === "edit",
                className: `${input} font-mono`,
              })}
              <label className="flex flex-col gap-1">
                <span>{t("VAT (%)")}</span>
                <input
                  type="number"
                  name="vat_percent"
                  min={0}
                  max={100}
                  step={1}
                  required={f.mode === "edit"}
                  defaultValue={v("vat_percent")}
                  className={`${input} w-32`}
                />
              </label>
            </fieldset>
            <label className="flex items-center gap-2">
              <input type="checkbox" name="is_active" value="on" defaultChecked={v("is_active") === "on"} />
              <span>
                {t("Active")} — {t("Sold to new buyers")}
              </span>
            </label>
          </>
        )}
        <label className="flex flex-col gap-1">
          <span>{t("Reason (kept in the audit log)")}</span>
          <textarea
            name="reason"
            required
            minLength={REASON_MIN}
            maxLength={REASON_MAX}
            rows={3}
            defaultValue={f.reason}
            className={input}
          />
        </label>
        <div className="flex items-center gap-3">
          <button
            type="submit"
            className={`rounded px-3 py-2 font-semibold text-white ${f.mode === "price" ? "bg-red-600" : "bg-blue-600"}`}
          >
            {t(mode.submit)}
          </button>
          <Link href="/admin/plans" className="text-blue-700">
            {t("Back without changing anything")}
          </Link>
        </div>
      </form>
    </AdminLayout>
  );
}

function planValues(plan: AdminPlan | null): Record<string, string> {
  if (!plan) return { duration_days: "30", sort_order: "0", is_active: "on" };
  return {
    name_uz: plan.name_uz,
    name_ru: plan.name_ru,
    name_en: plan.name_en,
    duration_days: String(plan.duration_days),
    sort_order: String(plan.sort_order),
    is_active: plan.is_active ? "on" : "",
    price_som: tiyinToSomInput(plan.price),
    ikpu_code: plan.ikpu_code,
    package_code: plan.package_code,
    vat_percent: String(plan.vat_percent),
    stars_price: plan.stars_price === null ? "none" : String(plan.stars_price),
  };
}

/**
 * Only `mode` and `id` come from the URL. After a refusal, /api/admin/plan puts the form back through
 * the flash cookie (same session only), with the same Idempotency-Key only when the outcome is unknown.
 */
export const getServerSideProps: GetServerSideProps<AdminPageProps<PlanFormData>> = (ctx) =>
  loadAdminPage<PlanFormData>(ctx, async (call, bearer, flash) => {
    const mode = queryValue(ctx, "mode");
    const id = queryValue(ctx, "id") ?? "";
    const invalid = {
      ok: false as const,
      status: 400,
      code: "VALIDATION_ERROR",
      message: "Unknown form or plan.",
      requestId: null,
    };
    if (!isPlanMode(mode) || (mode !== "create" && !/^\d{1,12}$/.test(id))) return invalid;
    const list = await call<AdminPlanList>({ path: "plans", bearer });
    if (!list.ok) return list;
    const plan = mode === "create" ? null : (list.data.items.find((p) => p.id === Number(id)) ?? null);
    if (mode !== "create" && !plan)
      return { ...invalid, status: 404, code: "PLAN_NOT_FOUND", message: "No such plan." };
    const formId = mode === "create" ? "" : id;
    const form = flash?.form?.action === `plan.${mode}` && flash.form.id === formId ? flash.form : undefined;
    const typed = form?.fields && typeof form.fields === "object" ? form.fields : undefined;
    const values = { ...planValues(plan) };
    for (const [name, value] of Object.entries(typed ?? {})) {
      if (typeof value === "string") values[name] = value.slice(0, 100);
    }
    const key = form?.key;
    return {
      ok: true,
      data: {
        mode,
        plan,
        noticeDays: list.data.price_change_notice_days,
        values,
        reason: (typeof form?.reason === "string" ? form.reason : "").slice(0, REASON_MAX),
        idempotencyKey: typeof key === "string" && /^[A-Za-z0-9_-]{8,128}$/.test(key) ? key : randomUUID(),
      },
    };
  });
