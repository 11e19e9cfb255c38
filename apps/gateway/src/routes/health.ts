import { pingDatabase } from "@obuna/db";
import type { Redis } from "ioredis";
import { ApiError } from "../errors";
import { sameSecret } from "../middleware/auth";
import type { GatewayApp } from "./_shared";

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz (process up), /readyz (database and Redis answer), /metrics (Prometheus). The gateway's one
 * port is also the public ATMOS callback port, so /metrics (payment volumes, admin actions, error
 * rates) needs `Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN it is never served.
 */
export function registerHealth(app: GatewayApp) {
  app.get("/healthz", (c) => c.json({ status: "ok" }, 200));
  app.get("/readyz", async (c) => {
    const deps = c.get("deps");
    const checks = { database: "ok", redis: "ok" };
    try {
      await withTimeout(pingDatabase(deps.db), 2000);
    } catch {
      checks.database = "down";
    }
    try {
      const redis =
        deps.redis ??
        ((await (deps.notificationsQueue as unknown as { client: Promise<Redis> }).client) as Redis);
      await withTimeout(redis.ping(), 2000);
    } catch {
      checks.redis = "down";
    }
    const ready = checks.database === "ok" && checks.redis === "ok";
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    const { metrics, config } = c.get("deps");
    const { registry } = metrics;
    const header = c.req.header("authorization") ?? "";
    const given = header.toLowerCase().startsWith("bearer ") ? header.slice(7).trim() : "";
    if (!config.metricsToken) throw new ApiError("UNAUTHORIZED", "Metrics are off: set METRICS_TOKEN");
    if (!given || !sameSecret(given, config.metricsToken)) {
      throw new ApiError("UNAUTHORIZED", "Authorization: Bearer <METRICS_TOKEN> required");
    }
    return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
  });
}
