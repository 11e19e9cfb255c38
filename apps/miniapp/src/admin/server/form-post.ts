import type { NextApiRequest, NextApiResponse } from "next";
import { isSameOrigin, readAdminSession } from "./session";

/** An Idempotency-Key a panel form may carry (made on the server when the form was rendered). */
export const FORM_KEY_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;

/** A string field of a posted form body ("" when absent or not a string). */
export function formField(body: unknown, name: string): string {
  const value =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value : "";
}

/**
 * The gate every admin form POST passes first: POST only (405), a signed-in admin (else to the
 * login page), a same-site form (403: a cross-site page cannot make an admin act). Returns the
 * session's Bearer token, or null once it has answered.
 */
export function acceptAdminFormPost(req: NextApiRequest, res: NextApiResponse): string | null {
  res.setHeader("cache-control", "no-store");
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    res.status(405).json({ success: false, error: { code: "METHOD_NOT_ALLOWED", message: "Use POST" } });
    return null;
  }
  const bearer = readAdminSession(req);
  if (!bearer) {
    res.redirect(303, "/admin/login");
    return null;
  }
  if (!isSameOrigin(req)) {
    res.status(403).json({ success: false, error: { code: "FORBIDDEN", message: "Cross-site form" } });
    return null;
  }
  return bearer;
}
