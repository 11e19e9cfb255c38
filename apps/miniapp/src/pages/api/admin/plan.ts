import type { NextApiRequest, NextApiResponse } from "next";
import { REASON_MAX, REASON_MIN } from "../../../admin/actions";
import { isPlanMode, PLAN_FIELDS, PLAN_MODES, somToTiyin } from "../../../admin/plans";
import { setFlash } from "../../../admin/server/flash";
import { acceptAdminFormPost, FORM_KEY_PATTERN, formField } from "../../../admin/server/form-post";
import { adminGateway } from "../../../admin/server/gateway";
import { clearAdminSession } from "../../../admin/server/session";

export const config = { api: { bodyParser: { sizeLimit: "8kb" } } };

/**
 * POST /api/admin/plan (the plan forms): create a plan, edit it, or change its price at the gateway
 * with the session as Bearer and the form's Idempotency-Key; then back to /admin/plans with a notice,
 * or back to the form with the gateway's message and the values as typed (flash cookie, never the URL).
 */
export default async function handler(req: NextApiRequest, res: NextApiResponse): Promise<void> {
  const bearer = acceptAdminFormPost(req, res);
  if (!bearer) return;
  const body = req.body as unknown;
  const mode = formField(body, "mode").trim();
  const idText = formField(body, "id").trim();
  const reason = formField(body, "reason").trim();
  const key = formField(body, "idempotency_key").trim();
  if (!isPlanMode(mode) || (mode !== "create" && !/^\d{1,12}$/.test(idText))) {
    setFlash(req, res, { error: "Unknown plan form" }, bearer);
    res.redirect(303, "/admin/plans");
    return;
  }
  const id = mode === "create" ? "" : idText;
  const fields: Record<string, string> = {};
  for (const name of PLAN_FIELDS[mode]) fields[name] = formField(body, name).trim().slice(0, 100);

  const again = (message: string, retryWithSameKey = false) => {
    setFlash(
      req,
      res,
      {
        error: message,
        form: {
          action: `plan.${mode}`,
          id,
          reason,
          days: "",
          fields,
          ...(retryWithSameKey && FORM_KEY_PATTERN.test(key) ? { key } : {}),
        },
      },
      bearer,
    );
    const query = new URLSearchParams({ mode, ...(id ? { id } : {}) });
    res.redirect(303, `/admin/plan?${query.toString()}`);
  };

  if (reason.length < REASON_MIN || reason.length > REASON_MAX) {
    return again(`Give a reason of ${REASON_MIN} to ${REASON_MAX} characters.`);
  }
  const whole = (name: string) =>
    /^-?\d{1,5}$/.test(fields[name] ?? "") ? Number(fields[name]) : Number.NaN;
  let request: Record<string, unknown>;
  if (mode === "price" || mode === "create") {
    const price = somToTiyin(fields.price_som ?? "");
    if (price === null) return again("The price must be an amount in so'm, e.g. 29000 or 29000.50.");
    request = { price };
  } else {
    request = {};
  }
  if (mode !== "price") {
    const duration = whole("duration_days");
    const sort = whole("sort_order");
    if (!Number.isInteger(duration) || !Number.isInteger(sort))
      return again("Period and sort order must be whole numbers.");
    Object.assign(request, {
      name_uz: fields.name_uz,
      name_ru: fields.name_ru,
      name_en: fields.name_en,
      duration_days: duration,
      sort_order: sort,
      is_active: fields.is_active === "on",
    });
    // Fiscal codes: an empty field is left out (a new plan gets the placeholders, an edit keeps them).
    if (fields.ikpu_code) request.ikpu_code = fields.ikpu_code;
    if (fields.package_code) request.package_code = fields.package_code;
    // Stars price: a whole number of Stars; "none" (or 0) = not sold for Stars; empty = left as is.
    const stars = (fields.stars_price ?? "").trim().toLowerCase();
    if (stars === "none" || stars === "0") request.stars_price = null;
    else if (stars) {
      const value = whole("stars_price");
      if (!Number.isInteger(value) || value < 1)
        return again("The Stars price must be a whole number of Stars (or none).");
      request.stars_price = value;
    }
    if (fields.vat_percent) {
      const vat = whole("vat_percent");
      if (!Number.isInteger(vat)) return again("VAT must be a whole number of percent (0 to 100).");
      request.vat_percent = vat;
    }
  }
  if (mode === "create") request.slug = fields.slug;
  request.reason = reason;

  const result = await adminGateway()({
    method: "POST",
    path: PLAN_MODES[mode].gatewayPath(Number(id)),
    bearer,
    body: request,
    idempotencyKey: FORM_KEY_PATTERN.test(key) ? key : undefined,
  });
  if (!result.ok) {
    if (result.status === 401) {
      clearAdminSession(req, res);
      res.redirect(303, "/admin/login");
      return;
    }
    const unknownOutcome = result.status >= 500 || result.code === "IDEMPOTENCY_IN_PROGRESS";
    return again(`${result.message} (${result.code})`, unknownOutcome);
  }
  const plan = (result.data as { plan?: { id?: number; slug?: string } }).plan;
  setFlash(
    req,
    res,
    { notice: `${PLAN_MODES[mode].title} #${plan?.id ?? id} (${plan?.slug ?? ""}): done.` },
    bearer,
  );
  res.redirect(303, "/admin/plans");
}
