import { randomUUID } from "node:crypto";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import {
  ADMIN_ACTIONS,
  type AdminActionName,
  isAdminAction,
  REASON_MAX,
  REASON_MIN,
} from "../../admin/actions";
import { AdminLayout, ErrorBox } from "../../admin/components";
import { tr } from "../../admin/i18n";
import { type AdminPageProps, loadAdminPage, queryValue } from "../../admin/server/guard";
import { safeAdminPath } from "../../admin/server/session";

interface ConfirmData {
  action: AdminActionName;
  id: number;
  returnTo: string;
  reason: string;
  days: string;
  /** One key per confirmation: a resubmitted form is the same action at the gateway. */
  idempotencyKey: string;
}

/**
 * `/admin/confirm?action=&id=&return_to=`: says what will happen and asks why; nothing changes before
 * "Confirm". The reason and days are typed here, never pre-filled from the URL.
 */
export default function AdminConfirmPage({ actor, result, flash, lang }: AdminPageProps<ConfirmData>) {
  if (!result.ok) {
    return (
      <AdminLayout title="Confirm" actor={actor} flash={flash} lang={lang}>
        <ErrorBox message={result.message} />
      </AdminLayout>
    );
  }
  const c = result.data;
  const definition = ADMIN_ACTIONS[c.action];
  const t = (english: string) => tr(lang, english);
  return (
    <AdminLayout title={`${t(definition.title)} #${c.id}?`} actor={actor} flash={flash} lang={lang}>
      <form
        method="post"
        action="/api/admin/action"
        className="flex max-w-xl flex-col gap-3 rounded border border-gray-200 bg-white p-4"
      >
        <p>{t(definition.consequence)}</p>
        <input type="hidden" name="action" value={c.action} />
        <input type="hidden" name="id" value={c.id} />
        <input type="hidden" name="return_to" value={c.returnTo} />
        <input type="hidden" name="idempotency_key" value={c.idempotencyKey} />
        {c.action === "subscription.extend" && (
          <label className="flex flex-col gap-1">
            <span>{t("Days to add")}</span>
            <input
              type="number"
              name="days"
              required
              min={1}
              max={3660}
              step={1}
              defaultValue={c.days}
              className="w-32 rounded border border-gray-300 px-2 py-1"
            />
          </label>
        )}
        <label className="flex flex-col gap-1">
          <span>{t("Reason (kept in the audit log)")}</span>
          <textarea
            name="reason"
            required
            minLength={REASON_MIN}
            maxLength={REASON_MAX}
            rows={3}
            defaultValue={c.reason}
            className="rounded border border-gray-300 px-2 py-1"
          />
        </label>
        <div className="flex items-center gap-3">
          <button
            type="submit"
            className={`rounded px-3 py-2 font-semibold text-white ${definition.danger ? "bg-red-600" : "bg-blue-600"}`}
          >
            {t("Confirm:")} {t(definition.title).toLowerCase()}
          </button>
          <Link href={c.returnTo} className="text-blue-700">
            {t("Back without changing anything")}
          </Link>
        </div>
      </form>
    </AdminLayout>
  );
}

/**
 * Only `action`, `id` and `return_to` come from the URL: the reason, the days and the Idempotency-Key
 * are never taken from a link. After a refused action, /api/admin/action puts the form back through
 * the flash cookie (same session only), with the same key only when the outcome is unknown.
 */
export const getServerSideProps: GetServerSideProps<AdminPageProps<ConfirmData>> = (ctx) =>
  loadAdminPage<ConfirmData>(ctx, async (_call, _bearer, flash) => {
    const action = queryValue(ctx, "action");
    const id = queryValue(ctx, "id") ?? "";
    if (!isAdminAction(action) || !/^\d{1,12}$/.test(id)) {
      return {
        ok: false,
        status: 400,
        code: "VALIDATION_ERROR",
        message: "Unknown action or id.",
        requestId: null,
      };
    }
    const form = flash?.form?.action === action && flash.form.id === id ? flash.form : undefined;
    const key = form?.key;
    const days = form?.days ?? "";
    return {
      ok: true,
      data: {
        action,
        id: Number(id),
        returnTo: safeAdminPath(queryValue(ctx, "return_to")),
        reason: (typeof form?.reason === "string" ? form.reason : "").slice(0, REASON_MAX),
        days: /^\d{1,4}$/.test(days) ? days : "30",
        idempotencyKey: typeof key === "string" && /^[A-Za-z0-9_-]{8,128}$/.test(key) ? key : randomUUID(),
      },
    };
  });
