import { fileURLToPath } from "node:url";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildApp,
  bundleImportProblems,
  freePort,
  startBuilt,
  startCommand,
} from "../../../tooling/build/smoke";
import { startEmulator } from "./emulator";
import { waitFor } from "./helpers";

/** `pnpm build` → dist/, then the built bot runs on plain node in production mode (polling an emulator). */
const appDir = fileURLToPath(new URL("..", import.meta.url));
const METRICS_TOKEN = "prod-metrics-5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a";
let emulator: Awaited<ReturnType<typeof startEmulator>>;

beforeAll(async () => {
  buildApp(appDir);
  emulator = await startEmulator();
}, 120_000);
afterAll(async () => {
  await emulator?.stop();
});

describe("the built bot (dist/)", () => {
  it("imports only Node built-ins and its own dependencies (nothing from devDependencies, no @obuna source)", () => {
    expect(bundleImportProblems(appDir)).toEqual([]);
  });

  it("`start` runs dist/main.js on plain node in production: polls, /healthz and /metrics answer; SIGTERM stops it", async () => {
    const args = startCommand(appDir);
    expect(args.at(-1)).toBe("dist/main.js");
    const healthPort = await freePort();
    const bot = await startBuilt(
      appDir,
      args,
      {
        NODE_ENV: "production",
        DATABASE_URL: testDatabaseUrl("bot"),
        REDIS_URL: testRedisUrl(3),
        BOT_TOKEN: "7012345678:AAFq3bq2x0yZ-production-token-from-botfather",
        TELEGRAM_API_ROOT: emulator.apiRoot,
        GATEWAY_URL: "http://127.0.0.1:9",
        INTERNAL_API_TOKEN: "prod-internal-6f1c2b7e9a4d4c0f8e2a1b3c5d7e9f01",
        METRICS_TOKEN,
        BOT_HEALTH_PORT: String(healthPort),
      },
      /"msg":"bot polling"/,
    );
    try {
      const health = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
          return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
        },
        10_000,
        `healthy polling in:\n${bot.output()}`,
      );
      expect(health).toMatchObject({ ok: true, mode: "polling", running: true });
      const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain("bot_last_get_updates_success_timestamp_seconds");
    } finally {
      expect(await bot.stop()).toBe(0);
    }
  });
});
