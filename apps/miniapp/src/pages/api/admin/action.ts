import type { NextApiRequest, NextApiResponse } from "next";
import { ADMIN_ACTIONS, isAdminAction, REASON_MAX, REASON_MIN } from "../../../admin/actions";
import { setFlash } from "../../../admin/server/flash";
import { acceptAdminFormPost, FORM_KEY_PATTERN, formField } from "../../../admin/server/form-post";
import { adminGateway } from "../../../admin/server/gateway";
import { clearAdminSession, safeAdminPath } from "../../../admin/server/session";

export const config = { api: { bodyParser: { sizeLimit: "8kb" } } };

/**
 * POST /api/admin/action (the confirmation form): runs one admin action at the gateway with the
 * session as Bearer and the form's Idempotency-Key (a resubmitted form is the same action), then
 * goes back to the list with a notice, or back to the confirmation page with the gateway's message
 * (both through the flash cookie, never the URL).
 */
export default async function handler(req: NextApiRequest, res: NextApiResponse): Promise<void> {
  const bearer = acceptAdminFormPost(req, res);
  if (!bearer) return;

  const body = req.body as unknown;
  const action = formField(body, "action");
  const idText = formField(body, "id");
  const returnTo = safeAdminPath(formField(body, "return_to"));
  const reason = formField(body, "reason").trim();
  const daysText = formField(body, "days").trim();
  const key = formField(body, "idempotency_key");

  /**
   * Back to the confirmation page with the message and the form as typed, both in the flash cookie
   * (never in the URL); the same key only when the outcome is not known (5xx, in progress).
   */
  const again = (message: string, retryWithSameKey = false) => {
    setFlash(
      req,
      res,
      {
        error: message,
        form: {
          action,
          id: idText,
          reason,
          days: daysText,
          ...(retryWithSameKey && FORM_KEY_PATTERN.test(key) ? { key } : {}),
        },
      },
      bearer,
    );
    const query = new URLSearchParams({ action, id: idText, return_to: returnTo });
    res.redirect(303, `/admin/confirm?${query.toString()}`);
  };

  if (!isAdminAction(action) || !/^\d{1,12}$/.test(idText)) {
    setFlash(req, res, { error: "Unknown action" }, bearer);
    res.redirect(303, returnTo);
    return;
  }
  if (reason.length < REASON_MIN || reason.length > REASON_MAX) {
    return again(`Give a reason of ${REASON_MIN} to ${REASON_MAX} characters.`);
  }
  let days: number | undefined;
  if (action === "subscription.extend") {
    days = /^\d{1,4}$/.test(daysText) ? Number(daysText) : Number.NaN;
    if (!Number.isInteger(days) || days < 1 || days > 3660)
      return again("Days must be a whole number from 1 to 3660.");
  }

  const definition = ADMIN_ACTIONS[action];
  const result = await adminGateway()({
    method: "POST",
    path: definition.path(Number(idText)),
    bearer,
    body: days === undefined ? { reason } : { days, reason },
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
  setFlash(req, res, { notice: `${definition.title} #${idText}: done.` }, bearer);
  res.redirect(303, returnTo);
}
