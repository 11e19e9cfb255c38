import { createHash, timingSafeEqual } from "node:crypto";
import { verifyInitData } from "@obuna/contracts/telegram-init-data";
import { createMiddleware } from "hono/factory";
import type { Caller, HonoEnv } from "../context";
import { ApiError } from "../errors";

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
    if (credentials && sameSecret(credentials, config.internalApiToken)) return { kind: "internal" };
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

/** A Mini App user reaches only their own resources; the bot reaches every one. */
export function assertOwner(caller: Caller, ownerTelegramId: number): void {
  if (caller.kind === "internal") return;
  if (caller.telegramId !== ownerTelegramId)
    throw new ApiError("FORBIDDEN", "This resource belongs to another user");
}

export function callerScope(caller: Caller): string {
  return caller.kind === "internal" ? "internal" : `tg:${caller.telegramId}`;
}
