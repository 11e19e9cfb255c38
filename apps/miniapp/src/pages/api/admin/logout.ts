import type { AdminLogoutResponse } from "@obuna/contracts/http";
import type { NextApiRequest, NextApiResponse } from "next";
import { setFlash } from "../../../admin/server/flash";
import { adminGateway } from "../../../admin/server/gateway";
import { clearAdminSession, isSameOrigin, readAdminSession } from "../../../admin/server/session";

/**
 * POST /api/admin/logout (the header's Sign out button): ends the session at the gateway, so the
 * session token stops working everywhere (a copied cookie included), then forgets the cookie and
 * goes to the login page. POST only, from this origin only: a link or another site cannot sign an
 * admin out.
 */
export default async function handler(req: NextApiRequest, res: NextApiResponse): Promise<void> {
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
  const bearer = readAdminSession(req);
  if (bearer) {
    const ended = await adminGateway()<AdminLogoutResponse>({ method: "POST", path: "logout", bearer });
    if (!ended.ok && ended.status !== 401) {
      // The gateway did not confirm: keep the cookie so the admin can try again and knows it.
      res.status(503).json({
        success: false,
        error: { code: ended.code, message: `Sign-out did not reach the gateway: ${ended.message}` },
      });
      return;
    }
  }
  clearAdminSession(req, res);
  setFlash(req, res, { login: "signed_out" }, null);
  res.redirect(303, "/admin/login");
}
