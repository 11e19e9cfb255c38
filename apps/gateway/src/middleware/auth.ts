import { createHash, timingSafeEqual } from "node:crypto";
import type { ErrorCode } from "@obuna/contracts/errors";
import { verifyInitData } from "@obuna/contracts/telegram-init-data";
import { createMiddleware } from "hono/factory";
import type { Caller, HonoEnv, InternalScope } from "../context";
import { ApiError } from "../errors";

/**
 * The internal token's scopes (security item 8): create links, read a user's session, subscription,
 * payments and cards, cancel or resume. Never `/atmos/*` (paying) or card removal: those need the
 * user's own signed Telegram identity, so a leaked bot token cannot pay or unbind for anyone.
 */
export const INTERNAL_SCOPES: ReadonlySet<InternalScope> = new Set<InternalScope>([
  "links:create",
  "session:read",
  "subscription:read",
  "subscription:manage",
  "payments:read",
  "cards:read",
]);

const sha256 = (value: string) => createHash("sha256").update(value).digest();

/** The expected secret's digest, hashed once per secret instead of on every request. */
const expectedDigests = new Map<string, Buffer>();

/** Constant-time comparison of a presented secret with the configured one. */
export function sameSecret(given: string, expected: string): boolean {
  // Hash both sides so the comparison is constant-time whatever the lengths.
  let expectedDigest = expectedDigests.get(expected);
  if (!expectedDigest) {
    expectedDigest = sha256(expected);
    expectedDigests.set(expected, expectedDigest);
  }
  return timingSafeEqual(sha256(given), expectedDigest);
}

export function authenticate(
  header: string | undefined,
  config: {
    internalApiToken: string;
    botToken: string;
    initDataMaxAgeS: number;
    devAllowUnsignedInitData: boolean;
  },
  now: Date,
): Caller {
  if (!header) throw new ApiError("UNAUTHORIZED", "Authorization header required");
  const space = header.indexOf(" ");
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
  const credentials = space > 0 ? header.slice(space + 1).trim() : "";
  if (scheme === "bearer") {
    if (credentials && sameSecret(credentials, config.internalApiToken))
      return { kind: "internal", scopes: INTERNAL_SCOPES };
    throw new ApiError("UNAUTHORIZED", "Invalid internal token");
  }
  if (scheme === "tma") {
    if (config.devAllowUnsignedInitData && credentials.startsWith("dev:")) {
      const telegramId = Number(credentials.slice(4));
      if (Number.isSafeInteger(telegramId) && telegramId > 0) return { kind: "user", telegramId };
      throw new ApiError("UNAUTHORIZED", "Invalid development identity");
    }
    const verified = verifyInitData(credentials, config.botToken, {
      maxAgeSeconds: config.initDataMaxAgeS,
      now,
    });
    if (!verified.ok) {
      const message =
        verified.problem === "expired" ? "Telegram initData has expired" : "Invalid Telegram initData";
      throw new ApiError("UNAUTHORIZED", message, { details: { reason: verified.problem } });
    }
    const { user } = verified.data;
    return {
      kind: "user",
      telegramId: user.id,
      ...(user.first_name ? { firstName: user.first_name } : {}),
      ...(user.username ? { username: user.username } : {}),
    };
  }
  throw new ApiError("UNAUTHORIZED", "Unsupported authorization scheme (use Bearer or tma)");
}

/** Bot-only endpoints (create-link): the internal token. */
export const requireInternal = createMiddleware<HonoEnv>(async (c, next) => {
  const { config, clock } = c.get("deps");
  const caller = authenticate(c.req.header("authorization"), config, clock());
  if (caller.kind !== "internal")
    throw new ApiError("FORBIDDEN", "This endpoint is for internal callers only");
  c.set("caller", caller);
  await next();
});

/** Endpoints for the bot (acting for anyone) and for Mini App users (acting for themselves). */
export const requireCaller = createMiddleware<HonoEnv>(async (c, next) => {
  const { config, clock } = c.get("deps");
  c.set("caller", authenticate(c.req.header("authorization"), config, clock()));
  await next();
});

/**
 * After requireCaller: an internal caller must hold `scope` (403 otherwise); a Mini App user acts
 * only for themselves, which assertOwner checks per resource.
 */
export function requireScope(scope: InternalScope) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    const caller = c.get("caller");
    if (caller.kind === "internal" && !caller.scopes?.has(scope))
      throw new ApiError("FORBIDDEN", "The internal token may not call this endpoint");
    await next();
  });
}

/**
 * A Mini App user reaches only their own resources; the bot reaches every one. Another user's
 * resource answers exactly like a missing one (`notFound`), so ids cannot be probed (item 15).
 */
export function assertOwner(
  caller: Caller,
  ownerTelegramId: number,
  notFound: { code: ErrorCode; message: string } = { code: "NOT_FOUND", message: "Not found" },
): void {
  if (caller.kind === "internal") return;
  if (caller.telegramId !== ownerTelegramId) throw new ApiError(notFound.code, notFound.message);
}

export function callerScope(caller: Caller): string {
  return caller.kind === "internal" ? "internal" : `tg:${caller.telegramId}`;
}
