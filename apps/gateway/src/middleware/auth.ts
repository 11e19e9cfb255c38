import { hash, timingSafeEqual } from "node:crypto";
import { TOKEN_SCOPES } from "@obuna/contracts/scopes";
import {
  botIdFromToken,
  verifyInitData,
  verifyInitDataThirdParty,
} from "@obuna/contracts/telegram-init-data";
import { createMiddleware } from "hono/factory";
import type { Caller, HonoEnv, InternalScope, ServiceToken } from "../context";
import { ApiError } from "../errors";

/**
 * The internal token's scopes (security item 8): every token scope (`@obuna/contracts/scopes`):
 * create links, read a user's entitlement, session, subscription, payments and cards, cancel or
 * resume, record the language the user chose. Never `/checkout/*` (paying) or card removal: those need
 * the user's own signed Telegram identity, so a leaked bot token cannot pay or unbind for anyone.
 */
export const INTERNAL_SCOPES: ReadonlySet<InternalScope> = new Set<InternalScope>(TOKEN_SCOPES);

/** One-shot sha256 (`crypto.hash`, no Hash object per call). */
const sha256 = (value: string) => hash("sha256", value, "buffer");

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

/** Default of TMA_INIT_DATA_PAY_MAX_AGE_S: initData older than this may not start a payment. */
export const DEFAULT_INIT_DATA_PAY_MAX_AGE_S = 900;

export interface InitDataAuthConfig {
  internalApiToken: string;
  serviceTokens?: readonly ServiceToken[];
  botToken: string;
  initDataMaxAgeS: number;
  devAllowUnsignedInitData: boolean;
  initDataThirdPartyCheck?: boolean;
}

export function authenticate(
  header: string | undefined,
  config: InitDataAuthConfig,
  now: Date,
  options: { freshWithinS?: number } = {},
): Caller {
  if (!header) throw new ApiError("UNAUTHORIZED", "Authorization header required");
  const space = header.indexOf(" ");
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
  const credentials = space > 0 ? header.slice(space + 1).trim() : "";
  if (scheme === "bearer") {
    if (credentials && sameSecret(credentials, config.internalApiToken))
      return { kind: "internal", scopes: INTERNAL_SCOPES };
    // Every service token is compared (no early exit), so timing does not tell which one matched.
    let service: ServiceToken | undefined;
    for (const candidate of config.serviceTokens ?? []) {
      if (sameSecret(credentials, candidate.token) && credentials !== "") service ??= candidate;
    }
    if (service) return { kind: "internal", scopes: service.scopes, service: service.name };
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
    const { user, authDate } = verified.data;
    // Paying needs launch data from minutes ago: a link or a log line holding someone's initData
    // must not start payments for a day. The Mini App shows "reopen from the bot".
    if (
      options.freshWithinS !== undefined &&
      now.getTime() - authDate.getTime() > options.freshWithinS * 1000
    ) {
      throw new ApiError(
        "UNAUTHORIZED",
        "Telegram initData is too old to pay: reopen the Mini App from the bot",
        {
          details: { reason: "stale" },
        },
      );
    }
    return {
      kind: "user",
      telegramId: user.id,
      ...(user.first_name ? { firstName: user.first_name } : {}),
      ...(user.username ? { username: user.username } : {}),
    };
  }
  throw new ApiError("UNAUTHORIZED", "Unsupported authorization scheme (use Bearer or tma)");
}

/**
 * {@link authenticate}, then (when TMA_INIT_DATA_THIRD_PARTY_CHECK is on) Telegram's Ed25519
 * `signature` of the initData as well. `tma dev:<id>` carries no signature: dev mode skips it.
 */
export async function authenticateRequest(
  header: string | undefined,
  config: InitDataAuthConfig,
  now: Date,
  options: { freshWithinS?: number } = {},
): Promise<Caller> {
  const caller = authenticate(header, config, now, options);
  if (caller.kind === "user" && config.initDataThirdPartyCheck) {
    const credentials = header!.slice(header!.indexOf(" ") + 1).trim();
    if (config.devAllowUnsignedInitData && credentials.startsWith("dev:")) return caller;
    const botId = botIdFromToken(config.botToken);
    const checked = botId
      ? await verifyInitDataThirdParty(credentials, botId)
      : ({ ok: false, problem: "bad_third_party_signature" } as const);
    if (!checked.ok)
      throw new ApiError("UNAUTHORIZED", "Invalid Telegram initData", {
        details: { reason: checked.problem },
      });
  }
  return caller;
}

/** Bot-only endpoints (create-link): the internal token. */
export const requireInternal = createMiddleware<HonoEnv>(async (c, next) => {
  const { config, clock } = c.get("deps");
  const caller = await authenticateRequest(c.req.header("authorization"), config, clock());
  if (caller.kind !== "internal")
    throw new ApiError("FORBIDDEN", "This endpoint is for internal callers only");
  c.set("caller", caller);
  await next();
});

/** Endpoints for the bot (acting for anyone) and for Mini App users (acting for themselves). */
export const requireCaller = createMiddleware<HonoEnv>(async (c, next) => {
  const { config, clock } = c.get("deps");
  c.set("caller", await authenticateRequest(c.req.header("authorization"), config, clock()));
  await next();
});

/**
 * Calls that start or continue a payment (checkout create / pre-apply): as {@link requireCaller}, but a
 * Mini App user's initData must be at most TMA_INIT_DATA_PAY_MAX_AGE_S old (401 reason `stale`).
 */
export const requireFreshCaller = createMiddleware<HonoEnv>(async (c, next) => {
  const { config, clock } = c.get("deps");
  const freshWithinS = config.initDataPayMaxAgeS ?? DEFAULT_INIT_DATA_PAY_MAX_AGE_S;
  c.set(
    "caller",
    await authenticateRequest(c.req.header("authorization"), config, clock(), { freshWithinS }),
  );
  await next();
});

/**
 * After requireCaller: an internal caller must hold `scope` (403 otherwise); a Mini App user acts
 * only for themselves, which the services check per resource (`refuseUnlessOwner`).
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
 * Endpoints for tokens only (entitlements): the caller must be a bearer token holding `scope`
 * (403 for a Mini App user and for a token without it).
 */
export function requireTokenScope(scope: InternalScope) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    const { config, clock } = c.get("deps");
    const caller = await authenticateRequest(c.req.header("authorization"), config, clock());
    if (caller.kind !== "internal" || !caller.scopes?.has(scope))
      throw new ApiError("FORBIDDEN", `This endpoint needs a token with the ${scope} scope`);
    c.set("caller", caller);
    await next();
  });
}

/** Whose idempotency keys and rate counters these are: our bot, one service token, one user. */
export function callerScope(caller: Caller): string {
  if (caller.kind === "internal") return caller.service ? `service:${caller.service}` : "internal";
  return `tg:${caller.telegramId}`;
}
