import type { NextApiRequest, NextApiResponse } from "next";
import { ADMIN_LANG_COOKIE, isAdminLang } from "../../../admin/i18n";
import { appendSetCookie, isHttps, isSameOrigin, safeAdminPath } from "../../../admin/server/session";

export const config = { api: { bodyParser: { sizeLimit: "2kb" } } };

/**
 * POST /api/admin/lang (the header's uz/ru/en switch): sets the `obuna_admin_lang` cookie for a year
 * and goes back to the page (`return_to`, inside /admin only). Same-site forms only.
 */
export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  res.setHeader("cache-control", "no-store");
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    res.status(405).json({ success: false, error: { code: "METHOD_NOT_ALLOWED", message: "Use POST" } });
    return;
  }
  if (!isSameOrigin(req)) {
    res.status(403).json({ success: false, error: { code: "FORBIDDEN", message: "Cross-site form" } });
    return;
  }
  const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const lang = body.lang;
  if (isAdminLang(lang)) {
    appendSetCookie(
      res,
      [
        `${ADMIN_LANG_COOKIE}=${lang}`,
        "Path=/",
        `Max-Age=${365 * 86_400}`,
        "HttpOnly",
        "SameSite=Strict",
        ...(isHttps(req) ? ["Secure"] : []),
      ].join("; "),
    );
  }
  res.redirect(303, safeAdminPath(body.return_to));
}
