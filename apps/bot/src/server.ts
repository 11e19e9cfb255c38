import { timingSafeEqual } from "node:crypto";
import { type ServerType, serve } from "@hono/node-server";
import { type Bot, webhookCallback } from "grammy";
import { Hono } from "hono";
import type { Registry } from "prom-client";
import type { BotContext } from "./bot/context";

export const WEBHOOK_PATH = "/telegram/webhook";

/** What `/healthz` and `/metrics` serve. */
export interface OpsOptions {
  /** `/healthz`: 200 with the body when `ok`, else 503. */
  health: () => { ok: boolean };
  /** `/metrics` needs `Authorization: Bearer <metricsToken>`; without a token it answers 401. */
  registry: Registry;
  metricsToken?: string;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `/healthz` and `/metrics` (Prometheus, Bearer METRICS_TOKEN): the polling-mode server, and part of the webhook one. */
export function createOpsApp(ops: OpsOptions): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => {
    const health = ops.health();
    return c.json(health, health.ok ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    const header = c.req.header("authorization") ?? "";
    const given = header.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : undefined;
    if (!ops.metricsToken || !sameSecret(given, ops.metricsToken)) {
      const message = ops.metricsToken
        ? "Authorization: Bearer <METRICS_TOKEN> required"
        : "Metrics are off: set METRICS_TOKEN";
      return c.json({ success: false, error: { code: "UNAUTHORIZED", message } }, 401);
    }
    return c.body(await ops.registry.metrics(), 200, { "content-type": ops.registry.contentType });
  });
  return app;
}

/**
 * Webhook mode: Telegram POSTs updates here with `X-Telegram-Bot-Api-Secret-Token`; grammY rejects
 * requests whose header does not match `secretToken` (401) before any handler runs.
 * With `ops`, the same port also serves `/healthz` and `/metrics` (createOpsApp).
 */
export function createWebhookApp(bot: Bot<BotContext>, secretToken: string, ops?: OpsOptions): Hono {
  const app = new Hono();
  if (ops) app.route("/", createOpsApp(ops));
  else app.get("/healthz", (c) => c.json({ ok: true }));
  app.post(WEBHOOK_PATH, webhookCallback(bot, "hono", { secretToken }));
  return app;
}

export function startWebhookServer(app: Hono, port: number): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: "0.0.0.0" }, (info) =>
      resolve({ server, port: info.port }),
    );
  });
}
