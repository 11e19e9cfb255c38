import { type ServerType, serve } from "@hono/node-server";
import { type Bot, webhookCallback } from "grammy";
import { Hono } from "hono";
import type { BotContext } from "./bot/context";

export const WEBHOOK_PATH = "/telegram/webhook";

/**
 * Webhook mode: Telegram POSTs updates here with `X-Telegram-Bot-Api-Secret-Token`; grammY rejects
 * requests whose header does not match `secretToken` (401) before any handler runs.
 */
export function createWebhookApp(bot: Bot<BotContext>, secretToken: string): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true }));
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
