import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAtmosClient } from "@obuna/atmos";
import { createErrorReporter } from "@obuna/contracts/error-reporting";
import { QUEUES } from "@obuna/contracts/jobs";
import { createDb, parseCardTokenKey } from "@obuna/db";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { sandboxRail } from "./harness";

describe("SENTRY_DSN: unexpected errors reach Sentry", () => {
  it("reports an unhandled failure (here: the database pool is gone) with its request id, and answers 500 in the envelope", async () => {
    const received: string[] = [];
    const sentry = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push(body);
        res.writeHead(200).end("{}");
      });
    });
    await new Promise<void>((resolve) => sentry.listen(0, "127.0.0.1", resolve));
    const dsn = `http://key@127.0.0.1:${(sentry.address() as AddressInfo).port}/7`;
    const db = createDb(testDatabaseUrl("gateway"), { max: 1 });
    await db.close(); // every query now fails with a driver error no handler expects
    const queue = new Queue(QUEUES.notifications, {
      connection: new Redis(testRedisUrl(2), { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
    });
    const errorReporter = await createErrorReporter({ dsn, app: "gateway", environment: "test" });
    try {
      const app = createApp({
        db: db.db,
        ...sandboxRail(
          createAtmosClient({
            baseUrl: "http://127.0.0.1:9",
            consumerKey: "k",
            consumerSecret: "s",
            storeId: "1",
          }),
        ),
        notificationsQueue: queue,
        logger: pino({ level: "silent" }),
        clock: () => new Date(),
        errorReporter,
        config: {
          internalApiToken: "t",
          botToken: "1:t",
          cardTokenKey: parseCardTokenKey("0".repeat(64)),
          idempotencyHashKey: "error-reporting-test-idempotency-hash-key",
          initDataMaxAgeS: 60,
          devAllowUnsignedInitData: false,
          miniappUrl: "http://miniapp.test",
          atmosStoreId: "1",
          atmosCallbackApiKey: "k",
          atmosCallbackHash: "md5",
        },
      });
      const res = await app.request("/api/v1/plans");
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe("INTERNAL_ERROR");
      await errorReporter.flush(5000);
      const sent = received.join("\n");
      expect(sent).toContain(body.error.requestId);
      expect(sent).toContain("GET /api/v1/plans");
    } finally {
      await queue.close();
      sentry.close();
    }
  });
});
