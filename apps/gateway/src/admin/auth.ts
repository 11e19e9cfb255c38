import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import type { DbOrTx } from "@obuna/db";
import { findLiveAdminSession, insertAdminSession } from "@obuna/db/queries";
import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../context";
import { ApiError } from "../errors";
import { authenticateRequest, sameSecret } from "../middleware/auth";

/** Admin settings, from ADMIN_TOKEN / ADMIN_SESSION_TTL_S / ADMIN_TELEGRAM_IDS. */
export interface AdminConfig {
  /** The shared admin secret; also the root of the session-signing key (rotating it ends every session). */
  adminToken: string;
  /** Lifetime of a session token from POST /api/v1/admin/session (default 12 h). */
  sessionTtlS?: number;
  /** Telegram users who may exchange their `tma <initData>` for a session (POST admin/session/telegram). */
  telegramIds?: number[];
  /** Max age of that initData (ADMIN_INIT_DATA_MAX_AGE_S, default 300 s). */
  telegramInitDataMaxAgeS?: number;
}

export const DEFAULT_ADMIN_INIT_DATA_MAX_AGE_S = 300;

export const DEFAULT_ADMIN_SESSION_TTL_S = 12 * 3600;

/**
 * Who is acting, from the credential alone: `admin` for ADMIN_TOKEN (and sessions signed in with it),
 * `tg:<id>` for a Telegram admin. Recorded as `actor` in every audit row; nothing in a request body
 * can change it.
 */
export interface AdminIdentity {
  actor: string;
  via: "token" | "session" | "telegram";
  expiresAt: Date | null;
  /** The admin_sessions row behind a session token (what sign-out deletes). */
  sessionId?: string;
}

/** The actor of everyone who signs in with the shared ADMIN_TOKEN. */
export const TOKEN_ADMIN_ACTOR = "admin";

declare module "hono" {
  interface ContextVariableMap {
    admin: AdminIdentity;
  }
}

const SESSION_PREFIX = "adm1";

/** The session-signing key: derived from ADMIN_TOKEN, never the token itself. */
function sessionKey(adminToken: string): Buffer {
  return createHmac("sha256", adminToken).update("obuna-admin-session-v1").digest();
}

function sign(payload: string, adminToken: string): string {
  return createHmac("sha256", sessionKey(adminToken)).update(payload).digest("base64url");
}

/**
 * `adm1.<base64url {"a":actor,"exp":unix s,"sid":session id}>.<hmac>` — only signs; a token is
 * accepted only while its `sid` is a live row of admin_sessions (see startAdminSession).
 */
export function issueAdminSession(
  config: AdminConfig,
  actor: string,
  now: Date,
  sid: string = randomUUID(),
): { token: string; expiresAt: Date } {
  const ttl = config.sessionTtlS ?? DEFAULT_ADMIN_SESSION_TTL_S;
  const exp = Math.floor(now.getTime() / 1000) + ttl;
  const payload = Buffer.from(JSON.stringify({ a: actor, exp, sid })).toString("base64url");
  const body = `${SESSION_PREFIX}.${payload}`;
  return { token: `${body}.${sign(body, config.adminToken)}`, expiresAt: new Date(exp * 1000) };
}

/** Records a server-side session for `actor` and returns its signed token. */
export async function startAdminSession(
  db: DbOrTx,
  config: AdminConfig,
  actor: string,
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const ttl = config.sessionTtlS ?? DEFAULT_ADMIN_SESSION_TTL_S;
  const expiresAt = new Date((Math.floor(now.getTime() / 1000) + ttl) * 1000);
  const sid = await insertAdminSession(db, { actor, expiresAt }, now);
  return issueAdminSession(config, actor, now, sid);
}

export function verifyAdminSession(
  token: string,
  config: AdminConfig,
  now: Date,
): { ok: true; actor: string; expiresAt: Date; sid: string } | { ok: false; problem: "invalid" | "expired" } {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== SESSION_PREFIX) return { ok: false, problem: "invalid" };
  const body = `${parts[0]}.${parts[1]}`;
  const expected = Buffer.from(sign(body, config.adminToken));
  const given = Buffer.from(parts[2]!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, problem: "invalid" };
  }
  let claims: { a?: unknown; exp?: unknown; sid?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
  } catch {
    return { ok: false, problem: "invalid" };
  }
  if (typeof claims.a !== "string" || typeof claims.exp !== "number" || typeof claims.sid !== "string")
    return { ok: false, problem: "invalid" };
  const expiresAt = new Date(claims.exp * 1000);
  if (expiresAt <= now) return { ok: false, problem: "expired" };
  return { ok: true, actor: claims.a, expiresAt, sid: claims.sid };
}

/** Checks the ADMIN_TOKEN given to POST /admin/session. */
export function isAdminToken(given: string, config: AdminConfig | undefined): boolean {
  return Boolean(config?.adminToken) && sameSecret(given, config!.adminToken);
}

/**
 * `/api/v1/admin/*`: Bearer ADMIN_TOKEN or Bearer <session token>. `tma <initData>` of a user in
 * ADMIN_TELEGRAM_IDS only where `options.telegramExchange` is set (POST admin/session/telegram), and
 * only if at most ADMIN_INIT_DATA_MAX_AGE_S old: launch data is never a day-long admin credential.
 * The bot's INTERNAL_API_TOKEN is not an admin credential. Sets `admin`, and `caller` = internal
 * (the idempotency scope of admin actions is `internal` + the endpoint).
 */
export function requireAdmin(config: AdminConfig | undefined, options: { telegramExchange?: boolean } = {}) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    const { config: gateway, clock } = c.get("deps");
    const header = c.req.header("authorization");
    if (!config?.adminToken) throw new ApiError("UNAUTHORIZED", "The admin API is not configured");
    if (!header) throw new ApiError("UNAUTHORIZED", "Authorization header required");
    const space = header.indexOf(" ");
    const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
    const credentials = space > 0 ? header.slice(space + 1).trim() : "";
    const now = clock();
    let identity: AdminIdentity | null = null;
    if (scheme === "bearer" && credentials) {
      if (sameSecret(credentials, config.adminToken)) {
        identity = { actor: TOKEN_ADMIN_ACTOR, via: "token", expiresAt: null };
      } else if (credentials.startsWith(`${SESSION_PREFIX}.`)) {
        const verified = verifyAdminSession(credentials, config, now);
        if (!verified.ok) {
          throw new ApiError(
            "UNAUTHORIZED",
            verified.problem === "expired" ? "The admin session has expired" : "Invalid admin session",
          );
        }
        // A session signed in with Telegram ends as soon as its user leaves ADMIN_TELEGRAM_IDS.
        const telegramId = /^tg:(\d+)$/.exec(verified.actor)?.[1];
        if (telegramId !== undefined && !config.telegramIds?.includes(Number(telegramId))) {
          throw new ApiError("UNAUTHORIZED", "This Telegram user is no longer an admin");
        }
        // Signed is not enough: the session must still exist on the server (sign-out deletes it).
        const live = /^[0-9a-f-]{36}$/.test(verified.sid)
          ? await findLiveAdminSession(c.get("deps").db, verified.sid, now)
          : null;
        if (live !== verified.actor) throw new ApiError("UNAUTHORIZED", "The admin session has ended");
        identity = {
          actor: verified.actor,
          via: "session",
          expiresAt: verified.expiresAt,
          sessionId: verified.sid,
        };
      }
    } else if (scheme === "tma" && options.telegramExchange && (config.telegramIds?.length ?? 0) > 0) {
      const caller = await authenticateRequest(
        header,
        {
          ...gateway,
          devAllowUnsignedInitData: false,
          initDataMaxAgeS: config.telegramInitDataMaxAgeS ?? DEFAULT_ADMIN_INIT_DATA_MAX_AGE_S,
        },
        now,
      );
      if (caller.kind === "user" && config.telegramIds!.includes(caller.telegramId)) {
        identity = { actor: `tg:${caller.telegramId}`, via: "telegram", expiresAt: null };
      }
    }
    if (!identity) throw new ApiError("UNAUTHORIZED", "Admin credentials required");
    c.set("admin", identity);
    c.set("caller", { kind: "internal" });
    await next();
  });
}
