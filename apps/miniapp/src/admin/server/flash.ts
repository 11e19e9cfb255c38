import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AdminLang, tr } from "../i18n";
import { appendSetCookie, isHttps, readCookie } from "./session";

/**
 * One-off banners ("Refund #12: done.", the gateway's refusal) and the confirmation form's state
 * after a refused action travel in a short-lived, httpOnly cookie that only our API routes set —
 * never in the URL, so a link cannot put words on an admin page or pre-fill a decision.
 *
 * The value is `<base64url JSON>.<HMAC>`; the key is derived from the admin session cookie, so a
 * flash is read back only by the session that caused it. Login-page flashes (no session yet) carry
 * only a code from LOGIN_MESSAGES, which the login page turns into its own text.
 */
export const FLASH_COOKIE = "obuna_admin_flash";
const FLASH_PATH = "/admin";
const FLASH_MAX_AGE_S = 120;

/** What the confirmation form held when the action was refused (shown again, with the same key only when the outcome is unknown). */
export interface ConfirmFormState {
  action: string;
  id: string;
  reason: string;
  days: string;
  key?: string;
  /** The plan form's fields as typed (plans page: create, edit, price). */
  fields?: Record<string, string>;
}

export interface Flash {
  notice?: string;
  error?: string;
  form?: ConfirmFormState;
  /** Login page only: a LOGIN_MESSAGES code, and the gateway's error code when there was one. */
  login?: LoginMessageCode;
  gatewayCode?: string;
}

export const LOGIN_MESSAGES = {
  invalid_token: "That admin token is not valid.",
  empty_token: "Enter the admin token.",
  cross_site: "The form was sent from another site.",
  telegram_not_admin: "This Telegram account is not an admin (ADMIN_TELEGRAM_IDS).",
  gateway_refused: "The gateway refused the sign-in.",
  signed_out: "You are signed out.",
} as const;
export type LoginMessageCode = keyof typeof LOGIN_MESSAGES;

function key(session: string | null): Buffer {
  return createHmac("sha256", "obuna-admin-flash-v1")
    .update(session ?? "")
    .digest();
}

function sign(payload: string, session: string | null): string {
  return createHmac("sha256", key(session)).update(payload).digest("base64url");
}

function cookie(value: string, maxAgeS: number, secure: boolean): string {
  return [
    `${FLASH_COOKIE}=${value}`,
    `Path=${FLASH_PATH}`,
    `Max-Age=${maxAgeS}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/** Sets the flash for the next admin page; `session` = the admin session it belongs to (null: login page). */
export function setFlash(
  req: IncomingMessage,
  res: ServerResponse,
  flash: Flash,
  session: string | null,
): void {
  const payload = Buffer.from(JSON.stringify(flash)).toString("base64url");
  appendSetCookie(res, cookie(`${payload}.${sign(payload, session)}`, FLASH_MAX_AGE_S, isHttps(req)));
}

/** Reads the flash once (and clears it); null when absent, forged, or set for another session. */
export function takeFlash(req: IncomingMessage, res: ServerResponse, session: string | null): Flash | null {
  const value = readCookie(req, FLASH_COOKIE);
  if (value === null) return null;
  appendSetCookie(res, cookie("", 0, isHttps(req)));
  const [payload, signature] = value.split(".");
  if (!payload || !signature) return null;
  const expected = Buffer.from(sign(payload, session));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Flash) : null;
  } catch {
    return null;
  }
}

/** The banner text of a login-page flash: only our own sentences (in `lang`), whatever the cookie says. */
export function loginMessage(
  flash: Flash | null,
  lang: AdminLang = "en",
): { text: string; error: boolean } | null {
  const code = flash?.login;
  if (!code || !Object.hasOwn(LOGIN_MESSAGES, code)) return null;
  const gatewayCode =
    typeof flash.gatewayCode === "string" && /^[A-Z][A-Z0-9_]{0,39}$/.test(flash.gatewayCode)
      ? ` (${flash.gatewayCode})`
      : "";
  return { text: `${tr(lang, LOGIN_MESSAGES[code])}${gatewayCode}`, error: code !== "signed_out" };
}
