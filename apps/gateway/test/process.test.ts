import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { type RunningSandbox, startSandbox } from "@obuna/atmos/sandbox";
import { type NotificationJob, notificationJobId } from "@obuna/contracts/jobs";
import { createDb } from "@obuna/db";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { REDIS_DB_INDEX } from "./constants";
import { envExample, PRODUCTION_SECRETS } from "./production-env";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

let sandbox: RunningSandbox;
beforeAll(async () => {
  // Non-example ATMOS credentials: the gateway process below runs with NODE_ENV=production.
  sandbox = await startSandbox({
    consumerKey: PRODUCTION_SECRETS.ATMOS_CONSUMER_KEY,
    consumerSecret: PRODUCTION_SECRETS.ATMOS_CONSUMER_SECRET,
    callbackApiKey: PRODUCTION_SECRETS.ATMOS_CALLBACK_API_KEY,
  });
});
afterAll(async () => {
  await sandbox?.close();
});

describe("src/index.ts as a process", () => {
  it("starts from env alone with NODE_ENV=production and proper secrets, logs `gateway listening on <port>`, answers /healthz and /readyz, stops on SIGTERM", async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        DATABASE_URL: testDatabaseUrl("gateway"),
        REDIS_URL: testRedisUrl(REDIS_DB_INDEX),
        GATEWAY_PORT: String(port),
        ...PRODUCTION_SECRETS,
        ATMOS_BASE_URL: sandbox.url,
        ATMOS_STORE_ID: "11054",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`gateway listening on ${port}`)) resolve();
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", redis: "ok" } });
    const plans = await fetch(`http://127.0.0.1:${port}/api/v1/plans`);
    expect(plans.status).toBe(200);
    // Log lines are batched (LOG_BUFFER_BYTES, 4 KiB by default), yet a lone line is out within 250 ms.
    const requestLine = `"path":"/api/v1/plans"`;
    await vi.waitFor(() => expect(output).toContain(requestLine), { timeout: 2_000, interval: 20 });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    // What was still buffered at SIGTERM is written before the process exits.
    expect(output).toContain("gateway stopped");
  });

  it("runs no timers: no setInterval of its own, and no purge or outbox relay over many of the old maintenance intervals", async () => {
    // Periodic work is the renewals worker's (BullMQ job schedulers, once per cluster). A gateway
    // replica that ran its own loop again would purge this expired Idempotency-Key record and relay
    // this owed notification; the setInterval record catches a timer of any period.
    const db = createDb(testDatabaseUrl("gateway"), { max: 1 });
    const tag = `no-timers-${Date.now()}`;
    const owed: NotificationJob = { kind: "admin_alert", alert: "other", text: tag };
    const owedJobId = notificationJobId(owed, tag);
    try {
      await db.client`
        insert into idempotency_keys (scope, key, endpoint, request_hash, response_status, expires_at)
        values ('internal', ${tag}, 'POST /x', 'h', 200, now() - interval '1 hour')`;
      await db.client`
        insert into notification_outbox (job_id, kind, payload, created_at)
        values (${owedJobId}, ${owed.kind}, ${JSON.stringify(owed)}::jsonb, now() - interval '1 hour')`;
      const port = await freePort();
      const child: ChildProcess = spawn(
        process.execPath,
        ["--import", "./test/fixtures/record-intervals.mjs", "--import", "tsx", "src/index.ts"],
        {
          cwd: new URL("..", import.meta.url).pathname,
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: testDatabaseUrl("gateway"),
            REDIS_URL: testRedisUrl(REDIS_DB_INDEX),
            GATEWAY_PORT: String(port),
            ...PRODUCTION_SECRETS,
            ATMOS_BASE_URL: sandbox.url,
            ATMOS_STORE_ID: "11054",
            // What used to start the loop (now read by no one): a tick every 200 ms if it came back.
            MAINTENANCE_INTERVAL_MS: "200",
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let output = "";
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes(`gateway listening on ${port}`)) resolve();
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", onData);
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/plans`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);

      const intervals = output
        .split("\n")
        .filter((line) => line.startsWith("INTERVAL "))
        .map((line) => JSON.parse(line.slice("INTERVAL ".length)) as { ms: number; stack: string });
      // Who called setInterval: the first frame, when it is our source and not a library's.
      const ours = intervals.filter((timer) => {
        const caller = timer.stack.split("\n")[0] ?? "";
        return /\/(apps|packages)\/[^/]+\/src\//.test(caller) && !caller.includes("node_modules");
      });
      expect(ours, JSON.stringify(ours, null, 2)).toEqual([]);
      const [key] = await db.client`select 1 from idempotency_keys where key = ${tag}`;
      expect(key, "expired idempotency key purged by the gateway").toBeDefined();
      const [row] = await db.client<{ queued_at: Date | null }[]>`
        select queued_at from notification_outbox where job_id = ${owedJobId}`;
      expect(row?.queued_at, "owed notification relayed by the gateway").toBeNull();
    } finally {
      await db.client`delete from idempotency_keys where key = ${tag}`;
      await db.client`delete from notification_outbox where job_id = ${owedJobId}`;
      await db.close();
    }
  });

  it("exits 1 naming a missing variable", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: { PATH: process.env.PATH },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("DATABASE_URL is required");
  });

  it("with NODE_ENV=production refuses the .env.example secrets and the dev switch: exit 1 naming them, no value printed", async () => {
    const run = (env: Record<string, string>) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
        cwd: new URL("..", import.meta.url).pathname,
        env: { PATH: process.env.PATH, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      // Without the guard the gateway would keep serving: stop it so a failing run leaves nothing behind.
      const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
      return new Promise<{ code: number | null; output: string }>((resolve) =>
        child.once("exit", (code) => {
          clearTimeout(kill);
          resolve({ code, output });
        }),
      );
    };
    const unsafe = await run({
      ...envExample(),
      NODE_ENV: "production",
      DEV_ALLOW_UNSIGNED_INIT_DATA: "true",
    });
    expect(unsafe.code).toBe(1);
    for (const name of [
      "DEV_ALLOW_UNSIGNED_INIT_DATA",
      "INTERNAL_API_TOKEN",
      "CARD_TOKEN_KEY",
      "IDEMPOTENCY_HASH_KEY",
    ]) {
      expect(unsafe.output).toContain(name);
    }
    expect(unsafe.output).not.toContain("gateway listening");
    expect(unsafe.output).not.toContain("dev-internal-token-change-me");
    const short = await run({
      ...envExample(),
      ...PRODUCTION_SECRETS,
      NODE_ENV: "production",
      INTERNAL_API_TOKEN: "sixteen-chars-ok!",
    });
    expect(short.code).toBe(1);
    expect(short.output).toContain("INTERNAL_API_TOKEN must be at least 32 characters in production");
  });
});
