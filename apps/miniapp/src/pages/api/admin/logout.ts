import type { NextApiRequest, NextApiResponse } from "next";
import { clearAdminSession } from "../../../admin/server/session";

/** POST /api/admin/logout: forgets the session cookie and goes to the login page. */
export default function handler(req: NextApiRequest, res: NextApiResponse): void {
  res.setHeader("cache-control", "no-store");
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    res.status(405).json({ success: false, error: { code: "METHOD_NOT_ALLOWED", message: "Use POST" } });
    return;
  }
  clearAdminSession(req, res);
  res.redirect(303, "/admin/login?signed_out=1");
}
