import { createHash, timingSafeEqual } from "node:crypto";
import { verifyInitData } from "@obuna/contracts/telegram-init-data";
import { createMiddleware } from "hono/factory";
import type { Caller, HonoEnv } from "../context";
import { ApiError } from "../errors";

function sameSecret(given: string, expected: string): boolean {
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
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
