import { timingSafeEqual } from "node:crypto";
import { hashToken, signData, validate3rd } from "@tma.js/init-data-node";

/**
 * Telegram Mini App launch data (`initData`), checked with the maintained @tma.js/init-data-node.
 *
 * Telegram signs it with the bot token: `hash` = HMAC over every received field but `hash` itself
 * (`signature` included: clients on Bot API 8.0+ send it), `key=value` sorted and joined by "\n".
 * `signature` is a second, Ed25519 signature for third parties (Telegram's public key + the bot id),
 * checked here only when asked ({@link verifyInitDataThirdParty}).
 * Server-side only (node:crypto). Tests sign with `@obuna/contracts/testing`.
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

export type InitDataProblem =
  | "malformed"
  | "missing_hash"
  | "bad_signature"
  | "expired"
  | "no_user"
  /** Third-party check only: no `signature`, or Telegram's Ed25519 key did not sign this data. */
  | "bad_third_party_signature";

/** Telegram's launch strings are a few hundred bytes; anything this long is not one. */
const MAX_RAW_LENGTH = 8192;
/** A device clock a little ahead of ours is tolerated, more is refused (replayed "future" data). */
export const INIT_DATA_FUTURE_SKEW_S = 300;

type Verdict<T> = { ok: true; data: T } | { ok: false; problem: InitDataProblem };

function readParams(raw: string): URLSearchParams | null {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_RAW_LENGTH) return null;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(raw);
  } catch {
    return null;
  }
  // Telegram never repeats a field. A repeated one would let the signature check and the reader
  // below see different values (first vs. last), so it is refused outright.
  const keys = [...params.keys()];
  return new Set(keys).size === keys.length ? params : null;
}

/**
 * The secret key Telegram derives from the bot token (HMAC-SHA256 of the token with "WebAppData"),
 * computed once per token: a function of the configuration, not of any request, so keeping it
 * accepts nothing that would not be accepted anyway. Every request's `hash` is still computed and
 * compared, and its age checked, on every call.
 */
const secretKeys = new Map<string, ArrayBuffer>();
function secretKey(botToken: string): ArrayBuffer {
  let key = secretKeys.get(botToken);
  if (!key) {
    const hashed = hashToken(botToken);
    key = new Uint8Array(hashed).buffer;
    secretKeys.set(botToken, key);
  }
  return key;
}

/**
 * The expected `hash`: the library's `signData` (HMAC-SHA256 with the derived key) over Telegram's
 * data-check string, every field but `hash` as `key=value`, sorted and joined by "\n" (the same
 * construction as the library's `validate`, which compares with `===`; this one is compared in
 * constant time).
 */
function expectedHash(params: URLSearchParams, botToken: string): Buffer {
  const pairs: string[] = [];
  params.forEach((value, key) => {
    if (key !== "hash") pairs.push(`${key}=${value}`);
  });
  return Buffer.from(signData(pairs.sort().join("\n"), secretKey(botToken), { tokenHashed: true }), "hex");
}

const OPTIONAL_USER_STRINGS = ["first_name", "last_name", "username", "language_code"] as const;

/**
 * The signed `user` field (Telegram's JSON). Read directly rather than through the library's `parse`,
 * which validates every field of the launch data with valibot: about 60 µs a request, two thirds of
 * the verification, for fields (chat, receiver…) nothing here reads. Only signed data reaches this.
 */
function readUser(raw: string | null): InitDataUser | InitDataProblem {
  if (raw === null) return "no_user";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "malformed";
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return "malformed";
  const user = value as Record<string, unknown>;
  for (const field of OPTIONAL_USER_STRINGS) {
    if (user[field] !== undefined && typeof user[field] !== "string") return "malformed";
  }
  const id = user.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return "no_user";
  return {
    id,
    ...(user.first_name ? { first_name: user.first_name as string } : {}),
    ...(user.last_name ? { last_name: user.last_name as string } : {}),
    ...(user.username ? { username: user.username as string } : {}),
    ...(user.language_code ? { language_code: user.language_code as string } : {}),
  };
}

export function verifyInitData(
  raw: string,
  botToken: string,
  options: { maxAgeSeconds: number; now?: Date },
): Verdict<VerifiedInitData> {
  const params = readParams(raw);
  if (!params) return { ok: false, problem: "malformed" };
  const hash = params.get("hash");
  if (!hash || !/^[0-9a-f]{64}$/.test(hash)) return { ok: false, problem: "missing_hash" };
  const given = Buffer.from(hash, "hex");
  const expected = expectedHash(params, botToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, problem: "bad_signature" };

  // Only now, on signed data, read the fields. Expiry is ours, with the injected clock.
  const authDate = params.get("auth_date");
  const authSeconds = authDate !== null && /^[0-9]{1,12}$/.test(authDate) ? Number(authDate) : 0;
  if (authSeconds <= 0) return { ok: false, problem: "malformed" };
  const user = readUser(params.get("user"));
  if (typeof user === "string") return { ok: false, problem: user };
  const now = options.now ?? new Date();
  const age = now.getTime() / 1000 - authSeconds;
  if (age > options.maxAgeSeconds || age < -INIT_DATA_FUTURE_SKEW_S) return { ok: false, problem: "expired" };
  return {
    ok: true,
    data: { user, authDate: new Date(authSeconds * 1000), queryId: params.get("query_id"), raw },
  };
}

/** The bot id is the part of the token before the colon. */
export function botIdFromToken(botToken: string): number | null {
  const id = Number(botToken.split(":", 1)[0]);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * Third-party check: the `signature` field is Telegram's Ed25519 signature (its public key, this
 * bot's id) over the launch data. Proves the data came from Telegram even to someone without the
 * bot token. Run it after {@link verifyInitData} (which checks age and the bot-token `hash`).
 * `test: true` uses the key of Telegram's test environment.
 */
export async function verifyInitDataThirdParty(
  raw: string,
  botId: number,
  options: { test?: boolean } = {},
): Promise<{ ok: true } | { ok: false; problem: InitDataProblem }> {
  const params = readParams(raw);
  if (!params) return { ok: false, problem: "malformed" };
  if (!params.get("signature")) return { ok: false, problem: "bad_third_party_signature" };
  try {
    await validate3rd(params, botId, { expiresIn: 0, test: options.test ?? false });
    return { ok: true };
  } catch {
    return { ok: false, problem: "bad_third_party_signature" };
  }
}
