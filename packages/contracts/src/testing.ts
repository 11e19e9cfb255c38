import { randomBytes } from "node:crypto";
import { sign } from "@tma.js/init-data-node";

/**
 * Test-only helpers (never imported by app code): Telegram launch data in the shape real clients
 * send, signed with the maintained @tma.js/init-data-node `sign`. One helper for every test suite
 * (gateway, bot e2e, Mini App Chromium tests, chaos) so no test passes on data no client sends.
 */

export interface TestTelegramUser {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
  allows_write_to_pm?: boolean;
  photo_url?: string;
}

export interface SignInitDataOptions {
  authDate?: Date;
  /** Present when launched from a keyboard/menu button (answerWebAppQuery); `null` leaves it out. */
  queryId?: string | null;
  /** Launched from a chat (inline button, direct link): `chat_instance` + `chat_type`. */
  chatInstance?: string;
  chatType?: "sender" | "private" | "group" | "supergroup" | "channel";
  chat?: Record<string, unknown>;
  receiver?: Record<string, unknown>;
  startParam?: string;
  canSendAfter?: number;
  /** Telegram's Ed25519 third-party signature (base64url, 64 bytes). Random unless given. */
  signature?: string;
}

/** JSON as Telegram's servers write it: `/` escaped as `\/` (photo_url has many). */
export function telegramJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, "\\/");
}

/** A value shaped like Telegram's `signature` (we cannot make Telegram's key sign test data). */
export function fakeTelegramSignature(): string {
  return randomBytes(64).toString("base64url");
}

/**
 * initData as a Telegram client sends it (Bot API 8.0+): `query_id` (menu/keyboard button launch;
 * `queryId: null` for chat launches), `user` as Telegram's JSON, the chat fields when given,
 * `auth_date`, `signature`, `hash` — in that order, `hash` over every field but itself.
 */
export function signInitData(
  user: TestTelegramUser,
  botToken: string,
  options: SignInitDataOptions = {},
): string {
  const data: Record<string, unknown> = {};
  if (options.queryId !== null)
    data.query_id = options.queryId ?? `AAH${randomBytes(12).toString("base64url")}`;
  data.user = telegramJson(user);
  if (options.receiver) data.receiver = telegramJson(options.receiver);
  if (options.chat) data.chat = telegramJson(options.chat);
  if (options.chatInstance !== undefined) data.chat_instance = options.chatInstance;
  if (options.chatType !== undefined) data.chat_type = options.chatType;
  if (options.startParam !== undefined) data.start_param = options.startParam;
  if (options.canSendAfter !== undefined) data.can_send_after = options.canSendAfter;
  // Key order as clients send it: `sign` overwrites these two in place and appends `hash`.
  data.auth_date = 0;
  data.signature = options.signature ?? fakeTelegramSignature();
  // `sign` writes strings as they are, so the JSON fields keep Telegram's escaping.
  return sign(data as unknown as Parameters<typeof sign>[0], botToken, options.authDate ?? new Date());
}

/** `tma <initData>`: the Authorization header the Mini App sends. */
export function tmaHeader(
  user: TestTelegramUser,
  botToken: string,
  options: SignInitDataOptions = {},
): string {
  return `tma ${signInitData(user, botToken, options)}`;
}

/**
 * The URL fragment a Telegram client appends when it opens a Mini App:
 * `#tgWebAppData=…&tgWebAppVersion=…&tgWebAppPlatform=…&tgWebAppThemeParams=…`.
 */
export function telegramLaunchFragment(
  initData: string,
  options: { version?: string; platform?: string; themeParams?: Record<string, string> } = {},
): string {
  const fragment = new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: options.version ?? "8.0",
    tgWebAppPlatform: options.platform ?? "android",
    tgWebAppThemeParams: JSON.stringify(options.themeParams ?? {}),
  });
  return `#${fragment.toString()}`;
}
