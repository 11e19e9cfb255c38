import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Registry } from "prom-client";

export const ADMIN_COOKIE = "renewals_admin";
const BOARD_PATH = "/admin/queues";
const LOGIN_PATH = `${BOARD_PATH}/login`;
const LOGOUT_PATH = `${BOARD_PATH}/logout`;
/** Lifetime of a Bull Board session cookie. */
export const BOARD_SESSION_TTL_S = 8 * 3600;
const SESSION_PREFIX = "bb1";

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The cookie-signing key: derived from ADMIN_TOKEN (rotating it ends every session), never the token. */
function sessionKey(adminToken: string): Buffer {
  return createHmac("sha256", adminToken).update("obuna-bull-board-session-v1").digest();
}

/** `bb1.<expires unix s>.<random>.<hmac>`: says only "an admin signed in, until exp". */
export function signBoardSession(adminToken: string, now: Date, ttlS = BOARD_SESSION_TTL_S): string {
  const exp = Math.floor(now.getTime() / 1000) + ttlS;
  const body = `${SESSION_PREFIX}.${exp}.${randomBytes(12).toString("base64url")}`;
  return `${body}.${createHmac("sha256", sessionKey(adminToken)).update(body).digest("base64url")}`;
}

export function verifyBoardSession(value: string | undefined, adminToken: string, now: Date): boolean {
  if (!value) return false;
  const parts = value.split(".");
  if (parts.length !== 4 || parts[0] !== SESSION_PREFIX || !/^\d{1,12}$/.test(parts[1]!)) return false;
  const body = parts.slice(0, 3).join(".");
  const expected = createHmac("sha256", sessionKey(adminToken)).update(body).digest("base64url");
  if (!sameSecret(parts[3], expected)) return false;
  return Number(parts[1]) * 1000 > now.getTime();
}

function unauthorized(c: Context) {
  return c.json({ success: false, error: { code: "UNAUTHORIZED", message: "admin token required" } }, 401);
}

/** A browser form post from another site (login CSRF) is refused; curl without the header passes. */
function crossSite(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  return site !== undefined && site !== "same-origin" && site !== "none";
}

const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Bull Board · sign in</title></head><body>
<form method="post" action="${LOGIN_PATH}"><label>Admin token <input type="password" name="token" required maxlength="512" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form></body></html>`;

/**
 * `/healthz` (liveness + readiness of Postgres and Redis) and Bull Board at `/admin/queues`.
 * Bull Board access: `Authorization: Bearer <ADMIN_TOKEN>` (scripts), or in a browser the form at
 * `/admin/queues/login`, which posts ADMIN_TOKEN in the body and gets back a signed, expiring session
 * cookie (HttpOnly, SameSite=Strict, Path=/admin/queues; never the token itself). The token is never
 * accepted in a URL: `?token=` authorises nothing. `POST /admin/queues/logout` drops the cookie.
 * `/metrics`: Prometheus, with `Authorization: Bearer <METRICS_TOKEN>` (like the gateway's).
 */
export function createServer(deps: {
  adminToken: string;
  queues: Queue[];
  checks: { postgres: () => Promise<void>; redis: () => Promise<void> };
  isRunning: () => boolean;
  clock?: () => Date;
  /** `GET /metrics` (Prometheus) needs `Authorization: Bearer <token>`; no token = it answers 401. */
  metrics?: { registry: Registry; token?: string };
}) {
  const app = new Hono();
  const clock = deps.clock ?? (() => new Date());

  app.get("/healthz", async (c) => {
    const results: Record<string, "ok" | "down"> = {};
    for (const [name, check] of Object.entries(deps.checks)) {
      results[name] = await check().then(
        () => "ok" as const,
        () => "down" as const,
      );
    }
    const ok = Object.values(results).every((r) => r === "ok") && deps.isRunning();
    return c.json({ ok, worker: deps.isRunning() ? "running" : "stopped", ...results }, ok ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    const token = deps.metrics?.token;
    const header = c.req.header("authorization") ?? "";
    const given = header.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : undefined;
    if (!deps.metrics || !token) {
      return c.json(
        { success: false, error: { code: "UNAUTHORIZED", message: "Metrics are off: set METRICS_TOKEN" } },
        401,
      );
    }
    if (!sameSecret(given, token)) {
      return c.json(
        {
          success: false,
          error: { code: "UNAUTHORIZED", message: "Authorization: Bearer <METRICS_TOKEN> required" },
        },
        401,
      );
    }
    const { registry } = deps.metrics;
    return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
  });

  app.get(LOGIN_PATH, (c) => {
    c.header("cache-control", "no-store");
    c.header("content-security-policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
    return c.html(LOGIN_PAGE);
  });
  app.post(LOGIN_PATH, async (c) => {
    c.header("cache-control", "no-store");
    if (crossSite(c))
      return c.json({ success: false, error: { code: "FORBIDDEN", message: "cross-site form" } }, 403);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === "string" ? form.token : undefined;
    if (!sameSecret(token, deps.adminToken)) return unauthorized(c);
    setCookie(c, ADMIN_COOKIE, signBoardSession(deps.adminToken, clock()), {
      path: BOARD_PATH,
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https",
      maxAge: BOARD_SESSION_TTL_S,
    });
    return c.redirect(BOARD_PATH, 303);
  });
  app.post(LOGOUT_PATH, (c) => {
    deleteCookie(c, ADMIN_COOKIE, { path: BOARD_PATH });
    return c.redirect(LOGIN_PATH, 303);
  });

  app.use(`${BOARD_PATH}/*`, async (c, next) => {
    const header = c.req.header("authorization");
    const bearer = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    if (
      sameSecret(bearer, deps.adminToken) ||
      verifyBoardSession(getCookie(c, ADMIN_COOKIE), deps.adminToken, clock())
    ) {
      return next();
    }
    return unauthorized(c);
  });

  const board = new HonoAdapter(serveStatic);
  // The catalog pins @bull-board/api one patch ahead of @bull-board/hono; their types differ only in
  // a private field, so the adapter is passed through the api's own parameter type.
  createBullBoard({
    queues: deps.queues.map((q) => new BullMQAdapter(q)),
    serverAdapter: board as unknown as Parameters<typeof createBullBoard>[0]["serverAdapter"],
  });
  board.setBasePath(BOARD_PATH);
  app.route(BOARD_PATH, board.registerPlugin());
  return app;
}
