import { timingSafeEqual } from "node:crypto";
import { parse, SignatureInvalidError, signData, validate, validate3rd } from "@tma.js/init-data-node";

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
 * The expected `hash`, computed by the library's `signData` over the library's data-check string
 * (every field but `hash`), so it can be compared in constant time. `validate` below re-checks with
 * the library's own construction: both must agree.
 */
function expectedHash(params: URLSearchParams, botToken: string): Buffer {
  const pairs: string[] = [];
  params.forEach((value, key) => {
    if (key !== "hash") pairs.push(`${key}=${value}`);
  });
  return Buffer.from(signData(pairs.sort().join("\n"), botToken), "hex");
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
  try {
    // Expiry is ours (below, with the injected clock): the library's uses Date.now().
    validate(params, botToken, { expiresIn: 0 });
  } catch (error) {
    return { ok: false, problem: error instanceof SignatureInvalidError ? "bad_signature" : "malformed" };
  }

  // Only now, on signed data, read the fields. Clients older than Bot API 8.0 send no `signature`,
  // which the library's parser requires: it reads a copy with an empty one.
  let parsed: ReturnType<typeof parse>;
  try {
    const readable = new URLSearchParams(params);
    if (!readable.has("signature")) readable.set("signature", "");
    parsed = parse(readable);
  } catch {
    return { ok: false, problem: params.has("user") ? "malformed" : "no_user" };
  }
  const authSeconds = Number(params.get("auth_date"));
  if (!Number.isInteger(authSeconds) || authSeconds <= 0) return { ok: false, problem: "malformed" };
  const now = options.now ?? new Date();
  const age = now.getTime() / 1000 - authSeconds;
  if (age > options.maxAgeSeconds || age < -INIT_DATA_FUTURE_SKEW_S) return { ok: false, problem: "expired" };
  const user = parsed.user;
  if (!user || !Number.isSafeInteger(user.id) || user.id <= 0) return { ok: false, problem: "no_user" };
  return {
    ok: true,
    data: {
      user: {
        id: user.id,
        ...(user.first_name ? { first_name: user.first_name } : {}),
        ...(user.last_name ? { last_name: user.last_name } : {}),
        ...(user.username ? { username: user.username } : {}),
        ...(user.language_code ? { language_code: user.language_code } : {}),
      },
      authDate: new Date(authSeconds * 1000),
      queryId: parsed.query_id ?? null,
      raw,
    },
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
