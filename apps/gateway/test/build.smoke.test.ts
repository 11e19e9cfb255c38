import { fileURLToPath } from "node:url";
import { type RunningSandbox, startSandbox } from "@obuna/atmos/sandbox";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildApp,
  bundleImportProblems,
  freePort,
  startBuilt,
  startCommand,
} from "../../../tooling/build/smoke";
import { REDIS_DB_INDEX } from "./constants";
import { PRODUCTION_SECRETS } from "./production-env";

/** `pnpm build` → dist/, then the built gateway and reconcile CLI run on plain node in production mode. */
const appDir = fileURLToPath(new URL("..", import.meta.url));
const METRICS_TOKEN = "prod-metrics-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
let sandbox: RunningSandbox;

beforeAll(async () => {
  buildApp(appDir);
  sandbox = await startSandbox({
    consumerKey: PRODUCTION_SECRETS.ATMOS_CONSUMER_KEY,
    consumerSecret: PRODUCTION_SECRETS.ATMOS_CONSUMER_SECRET,
    callbackApiKey: PRODUCTION_SECRETS.ATMOS_CALLBACK_API_KEY,
  });
}, 120_000);
afterAll(async () => {
  await sandbox?.close();
});

const productionEnv = () => ({
  NODE_ENV: "production",
  DATABASE_URL: testDatabaseUrl("gateway"),
  REDIS_URL: testRedisUrl(REDIS_DB_INDEX),
  ...PRODUCTION_SECRETS,
  METRICS_TOKEN,
  ATMOS_BASE_URL: sandbox.url,
  ATMOS_STORE_ID: "11054",
});

describe("the built gateway (dist/)", () => {
  it("imports only Node built-ins and its own dependencies (nothing from devDependencies, no @obuna source)", () => {
    expect(bundleImportProblems(appDir)).toEqual([]);
  });

  it("`start` runs dist/index.js on plain node in production: /healthz, /readyz and /metrics answer; SIGTERM stops it", async () => {
    const args = startCommand(appDir);
    expect(args.at(-1)).toBe("dist/index.js");
    const port = await freePort();
    const gateway = await startBuilt(
      appDir,
      args,
      { ...productionEnv(), GATEWAY_PORT: String(port) },
      /gateway listening on/,
    );
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", redis: "ok" } });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(await metrics.text()).toContain("gateway_http_requests_total");
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it("`reconcile` runs dist/reconcile.js on plain node", async () => {
    const args = startCommand(appDir, "reconcile");
    expect(args.at(-1)).toBe("dist/reconcile.js");
    const future = new Date(Date.now() + 60_000).toISOString();
    const run = await startBuilt(
      appDir,
      [...args, "--since", future],
      { ...productionEnv(), LOG_LEVEL: "silent" },
      /no discrepancies/,
    );
    expect(await run.exited).toBe(0);
  });
});
