import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";

/** The admin session cookie: the gateway's signed session token, never readable by page scripts. */
export const ADMIN_COOKIE = "obuna_admin";

/** The session token from the request's cookie, if any. */
export function readAdminSession(req: IncomingMessage): string | null {
  return readCookie(req, ADMIN_COOKIE);
}

/** One cookie's value from the request, if any. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return value ? decodeURIComponent(value) : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** https directly, or behind a proxy that says so (then the cookie gets `Secure`). */
export function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  const forwarded = req.headers["x-forwarded-proto"];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
  return proto === "https";
}

function cookie(value: string, maxAgeS: number, secure: boolean): string {
  return [
    `${ADMIN_COOKIE}=${encodeURIComponent(value)}`,
    "Path=/",
    `Max-Age=${Math.max(0, Math.floor(maxAgeS))}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/** Adds a Set-Cookie header, keeping the ones already set (session and flash cookies in one response). */
export function appendSetCookie(res: ServerResponse, value: string): void {
  const current = res.getHeader("set-cookie");
  const list = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  res.setHeader("set-cookie", [...list, value]);
}

export function setAdminSession(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  expiresAt: Date,
  now = new Date(),
): void {
  appendSetCookie(res, cookie(token, (expiresAt.getTime() - now.getTime()) / 1000, isHttps(req)));
}

export function clearAdminSession(req: IncomingMessage, res: ServerResponse): void {
  appendSetCookie(res, cookie("", 0, isHttps(req)));
}

/**
 * A form post must come from this origin (the cookie is SameSite=Strict already). Browsers say so in
 * `Sec-Fetch-Site`; with `Referrer-Policy: no-referrer` their Origin is "null", so Origin is only
 * compared when there is no Sec-Fetch-Site. Requests with neither (curl, old browsers) pass.
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (typeof site === "string") return site === "same-origin";
  const origin = req.headers.origin;
  if (!origin) return true;
  if (origin === "null") return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * A place inside the admin panel to go back to (never another site, and never /admin/logout or
 * /admin/login: a redirect must not sign anyone out).
 */
export function safeAdminPath(value: unknown, fallback = "/admin"): string {
  if (typeof value !== "string") return fallback;
  const match = /^\/admin(\/[a-z-]*)?(\?[^#\\]*)?$/.exec(value);
  if (!match) return fallback;
  if (match[1] === "/logout" || match[1] === "/login") return fallback;
  return value;
}
