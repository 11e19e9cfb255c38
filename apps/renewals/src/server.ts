import { timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";

export const ADMIN_COOKIE = "renewals_admin";
const BOARD_PATH = "/admin/queues";

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * `/healthz` (liveness + readiness of Postgres and Redis) and Bull Board at `/admin/queues`.
 * Bull Board access: `Authorization: Bearer <ADMIN_TOKEN>`, or open `/admin/queues?token=<ADMIN_TOKEN>`
 * once in a browser — that sets an HttpOnly, SameSite=Strict cookie scoped to /admin/queues so the
 * board's own asset and API requests are authorised too.
 */
export function createServer(deps: {
  adminToken: string;
  queues: Queue[];
  checks: { postgres: () => Promise<void>; redis: () => Promise<void> };
  isRunning: () => boolean;
}) {
  const app = new Hono();

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

  app.use(`${BOARD_PATH}/*`, async (c, next) => {
    const header = c.req.header("authorization");
    const bearer = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    const query = c.req.query("token");
    if (sameSecret(bearer, deps.adminToken) || sameSecret(getCookie(c, ADMIN_COOKIE), deps.adminToken)) {
      return next();
    }
    if (sameSecret(query, deps.adminToken)) {
      setCookie(c, ADMIN_COOKIE, deps.adminToken, {
        path: BOARD_PATH,
        httpOnly: true,
        sameSite: "Strict",
        secure: new URL(c.req.url).protocol === "https:",
        maxAge: 8 * 3600,
      });
      return next();
    }
    return c.json({ success: false, error: { code: "UNAUTHORIZED", message: "admin token required" } }, 401);
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
