import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Telegram Mini App launch data (`initData`), signed by Telegram with the bot token:
 * secret = HMAC_SHA256(key="WebAppData", bot_token); hash = hex(HMAC_SHA256(key=secret, data_check_string)),
 * where data_check_string is every field but `hash` as `key=value`, sorted by key, joined by "\n".
 * Server-side only (node:crypto): the gateway verifies, tests sign.
 */

export interface InitDataUser {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface VerifiedInitData {
  user: InitDataUser;
  authDate: Date;
  queryId: string | null;
  raw: string;
}

export type InitDataProblem = "malformed" | "missing_hash" | "bad_signature" | "expired" | "no_user";

function secretKey(botToken: string): Buffer {
  return createHmac("sha256", "WebAppData").update(botToken).digest();
}

function dataCheckString(params: URLSearchParams): string {
  return [...params.entries()]
    .filter(([key]) => key !== "hash" && key !== "signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

export function verifyInitData(
  raw: string,
  botToken: string,
  options: { maxAgeSeconds: number; now?: Date },
): { ok: true; data: VerifiedInitData } | { ok: false; problem: InitDataProblem } {
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(raw);
  } catch {
    return { ok: false, problem: "malformed" };
  }
  const hash = params.get("hash");
  if (!hash || !/^[0-9a-f]{64}$/i.test(hash)) return { ok: false, problem: "missing_hash" };
  const expected = createHmac("sha256", secretKey(botToken)).update(dataCheckString(params)).digest();
  const given = Buffer.from(hash, "hex");
  // Also refuses data with a repeated `hash` or other tricks that change the checked string.
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, problem: "bad_signature" };
  const authSeconds = Number(params.get("auth_date"));
  if (!Number.isInteger(authSeconds) || authSeconds <= 0) return { ok: false, problem: "malformed" };
  const now = options.now ?? new Date();
  const age = now.getTime() / 1000 - authSeconds;
  if (age > options.maxAgeSeconds || age < -300) return { ok: false, problem: "expired" };
  let user: InitDataUser;
  try {
    user = JSON.parse(params.get("user") ?? "null");
  } catch {
    return { ok: false, problem: "malformed" };
  }
  if (!user || typeof user !== "object" || !Number.isSafeInteger(user.id) || user.id <= 0) {
    return { ok: false, problem: "no_user" };
  }
  return {
    ok: true,
    data: { user, authDate: new Date(authSeconds * 1000), queryId: params.get("query_id"), raw },
  };
}

/** Builds initData exactly as Telegram would (for tests and local tools). */
export function signInitData(
  user: InitDataUser,
  botToken: string,
  options: { authDate?: Date; queryId?: string } = {},
): string {
  const params = new URLSearchParams();
  params.set("query_id", options.queryId ?? "AAHdF6IQAAAAAN0XohDhrOrc");
  params.set("user", JSON.stringify(user));
  params.set("auth_date", String(Math.floor((options.authDate ?? new Date()).getTime() / 1000)));
  const hash = createHmac("sha256", secretKey(botToken)).update(dataCheckString(params)).digest("hex");
  params.set("hash", hash);
  return params.toString();
}
