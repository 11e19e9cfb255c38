import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { type RunningSandbox, startSandbox } from "@obuna/atmos/sandbox";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
