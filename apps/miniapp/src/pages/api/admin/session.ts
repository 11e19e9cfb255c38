import type { AdminSessionResponse } from "@obuna/contracts/http";
import type { NextApiRequest, NextApiResponse } from "next";
import { type LoginMessageCode, setFlash } from "../../../admin/server/flash";
import { adminGateway } from "../../../admin/server/gateway";
import { isSameOrigin, safeAdminPath, setAdminSession } from "../../../admin/server/session";

export const config = { api: { bodyParser: { sizeLimit: "8kb" } } };

function field(body: unknown, name: string): string {
  const value =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === "string" ? value : "";
}

/** The TCP peer of this request (never a client-sent header such as X-Forwarded-For). */
function clientIpOf(req: NextApiRequest): { clientIp?: string } {
  const address = req.socket.remoteAddress;
  return address ? { clientIp: address } : {};
}

/** Back to the login page; the message travels in the flash cookie as one of our own codes, never in the URL. */
function backToLogin(
  req: NextApiRequest,
  res: NextApiResponse,
  login: LoginMessageCode,
  next: string,
  gatewayCode?: string,
): void {
  setFlash(req, res, { login, ...(gatewayCode ? { gatewayCode } : {}) }, null);
  res.redirect(303, `/admin/login?${new URLSearchParams({ next }).toString()}`);
}

/**
 * POST /api/admin/session (the login form): exchanges ADMIN_TOKEN, or inside Telegram the Mini App
 * initData of a user in ADMIN_TELEGRAM_IDS, at the gateway for a session token and keeps it in an
 * httpOnly, SameSite=Strict cookie. The token itself is never stored or echoed.
 */
export default async function handler(req: NextApiRequest, res: NextApiResponse): Promise<void> {
  res.setHeader("cache-control", "no-store");
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    res.status(405).json({ success: false, error: { code: "METHOD_NOT_ALLOWED", message: "Use POST" } });
    return;
  }
  const next = safeAdminPath(field(req.body, "next"));
  if (!isSameOrigin(req)) return backToLogin(req, res, "cross_site", next);
  const initData = field(req.body, "init_data").trim();
  if (initData) {
    // Opened inside Telegram by a user in ADMIN_TELEGRAM_IDS: the gateway checks the signature.
    const result = await adminGateway()<AdminSessionResponse>({
      method: "POST",
      path: "session/telegram",
      telegramInitData: initData,
      ...clientIpOf(req),
    });
    if (!result.ok) {
      return result.status === 401
        ? backToLogin(req, res, "telegram_not_admin", next)
        : backToLogin(req, res, "gateway_refused", next, result.code);
    }
    setAdminSession(req, res, result.data.session_token, new Date(result.data.expires_at));
    res.redirect(303, next);
    return;
  }
  const token = field(req.body, "token").trim();
  if (!token) return backToLogin(req, res, "empty_token", next);
  // No actor here: the gateway records everyone signing in with ADMIN_TOKEN as `admin`.
  const result = await adminGateway()<AdminSessionResponse>({
    method: "POST",
    path: "session",
    body: { token },
    ...clientIpOf(req),
  });
  if (!result.ok) {
    return result.status === 401
      ? backToLogin(req, res, "invalid_token", next)
      : backToLogin(req, res, "gateway_refused", next, result.code);
  }
  setAdminSession(req, res, result.data.session_token, new Date(result.data.expires_at));
  res.redirect(303, next);
}
