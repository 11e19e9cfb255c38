import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { type RunningSandbox, startSandbox } from "@obuna/atmos/sandbox";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARD_TOKEN_KEY_HEX, REDIS_DB_INDEX } from "./constants";

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
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

describe("src/index.ts as a process", () => {
  it("starts from env alone, logs `gateway listening on <port>`, answers /healthz and /readyz, stops on SIGTERM", async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: testDatabaseUrl("gateway"),
        REDIS_URL: testRedisUrl(REDIS_DB_INDEX),
        GATEWAY_PORT: String(port),
        INTERNAL_API_TOKEN: "process-test-internal-token",
        BOT_TOKEN: "123456:process-test",
        CARD_TOKEN_KEY: CARD_TOKEN_KEY_HEX,
        ATMOS_BASE_URL: sandbox.url,
        ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
        ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
        ATMOS_STORE_ID: "11054",
        ATMOS_CALLBACK_API_KEY: "sandbox_callback_api_key",
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
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
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
});
