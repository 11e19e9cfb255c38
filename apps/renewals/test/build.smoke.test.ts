import { fileURLToPath } from "node:url";
import { type RunningSandbox, startSandbox } from "@obuna/atmos/sandbox";
import { QUEUES } from "@obuna/contracts/jobs";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildApp,
  bundleImportProblems,
  freePort,
  startBuilt,
  startCommand,
} from "../../../tooling/build/smoke";
import { REDIS_INDEX } from "./global-setup";
import { resetDatabase } from "./harness";

/** `pnpm build` → dist/, then the built worker runs on plain node in production mode. */
const appDir = fileURLToPath(new URL("..", import.meta.url));
const SECRETS = {
  ATMOS_CONSUMER_KEY: "Rx8s1sAdIkgVNmkmaQ8VTqPzrzwa",
  ATMOS_CONSUMER_SECRET: "b3Xq_9LmPz2wVt7YkR4nHs1aJd0e",
  CARD_TOKEN_KEY: "5e1f0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
  ADMIN_TOKEN: "prod-admin-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
  METRICS_TOKEN: "prod-metrics-3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e",
};
let sandbox: RunningSandbox;

beforeAll(async () => {
  buildApp(appDir);
  // No due renewals: the worker's first sweep must find nothing to charge.
  await resetDatabase();
  sandbox = await startSandbox({
    consumerKey: SECRETS.ATMOS_CONSUMER_KEY,
    consumerSecret: SECRETS.ATMOS_CONSUMER_SECRET,
  });
}, 120_000);
afterAll(async () => {
  await sandbox?.close();
  // The worker ran with the default BullMQ prefix (the other tests use their own): leave nothing behind.
  for (const name of [QUEUES.renewals, QUEUES.notifications]) {
    const queue = new Queue(name, { connection: { url: testRedisUrl(REDIS_INDEX) } });
    await queue.obliterate({ force: true });
    await queue.close();
  }
});

describe("the built renewals worker (dist/)", () => {
  it("imports only Node built-ins and its own dependencies (nothing from devDependencies, no @obuna source)", () => {
    expect(bundleImportProblems(appDir)).toEqual([]);
  });

  it("`start` runs dist/index.js on plain node in production: /healthz and /metrics answer; SIGTERM stops it", async () => {
    const args = startCommand(appDir);
    expect(args.at(-1)).toBe("dist/index.js");
    const port = await freePort();
    const worker = await startBuilt(
      appDir,
      args,
      {
        NODE_ENV: "production",
        DATABASE_URL: testDatabaseUrl("renewals"),
        REDIS_URL: testRedisUrl(REDIS_INDEX),
        ATMOS_BASE_URL: sandbox.url,
        ATMOS_STORE_ID: "11054",
        RENEWALS_PORT: String(port),
        ...SECRETS,
      },
      /renewals http listening/,
    );
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true, worker: "running", postgres: "ok", redis: "ok" });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${SECRETS.METRICS_TOKEN}` },
      });
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('renewals_queue_jobs{queue="renewals",state="delayed"}');
      expect(text).toContain("process_cpu_seconds_total");
      // Bull Board's UI files come from @bull-board/ui at run time (outside the bundle).
      const board = await fetch(`http://127.0.0.1:${port}/admin/queues`, {
        headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
      });
      expect(board.status).toBe(200);
      expect(await board.text()).toContain("<html");
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
