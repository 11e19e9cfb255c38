import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { miniappDir } from "../scripts/ensure-build.mjs";
import { MINIAPP_ENV_KEYS } from "../scripts/miniapp-env.mjs";
import { MiniappEnvSchema } from "../src/env";
import { TEST_SECRETS } from "./secrets";
import { freePort, spawnUntil } from "./services";

/** Every secret of the other apps, as the shared .env (and a careless shell) would hold them. */
const OTHER_APPS_SECRETS: Record<string, string> = {
  CARD_TOKEN_KEY: TEST_SECRETS.cardTokenKey,
  ATMOS_CONSUMER_KEY: TEST_SECRETS.atmosConsumerKey,
  ATMOS_CONSUMER_SECRET: TEST_SECRETS.atmosConsumerSecret,
  ATMOS_CALLBACK_API_KEY: TEST_SECRETS.atmosCallbackApiKey,
  INTERNAL_API_TOKEN: TEST_SECRETS.internalApiToken,
  ADMIN_TOKEN: TEST_SECRETS.adminToken,
  BOT_TOKEN: TEST_SECRETS.botToken,
  METRICS_TOKEN: "metrics-token-for-the-launch-test",
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/obuna",
  REDIS_URL: "redis://127.0.0.1:6379",
  SENTRY_DSN: "https://public@sentry.example/1",
};

/** The environment of a running process, from /proc (Linux). */
function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  );
}

/** Every process below `pid` (the launcher's `next start` and whatever it forks). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

describe("the Mini App process environment", () => {
  it("the launcher passes on exactly the variables src/env.ts reads", () => {
    expect([...MINIAPP_ENV_KEYS].sort()).toEqual(Object.keys(MiniappEnvSchema.shape).sort());
  });

  it("`run-next.mjs start` gives Next none of the other apps' secrets, from .env or from the shell", async () => {
    const dir = mkdtempSync(join(tmpdir(), "miniapp-env-"));
    const envFile = join(dir, ".env");
    const port = await freePort();
    writeFileSync(
      envFile,
      `${Object.entries({
        ...OTHER_APPS_SECRETS,
        GATEWAY_URL: inject("gatewayUrl"),
        GATEWAY_TIMEOUT_MS: "5000",
      })
        .map(([key, value]) => `${key}=${value}`)
        .join("\n")}\n`,
    );
    const launcher = await spawnUntil(
      process.execPath,
      [join(miniappDir, "scripts/run-next.mjs"), "start", "--env-file", envFile],
      {
        name: "run-next start",
        cwd: miniappDir,
        timeoutMs: 60_000,
        ready: /Ready in|started server|Local:/i,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: "production",
          MINIAPP_PORT: String(port),
          ...OTHER_APPS_SECRETS,
        },
      },
    );
    try {
      const pids = descendants(launcher.child.process.pid!);
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) {
        const env = environOf(pid);
        for (const key of Object.keys(OTHER_APPS_SECRETS))
          expect(env, `${key} in pid ${pid}`).not.toHaveProperty(key);
        for (const value of Object.values(OTHER_APPS_SECRETS)) {
          expect(Object.values(env), `a secret value in pid ${pid}`).not.toContain(value);
        }
      }
      // What it needs does arrive (GATEWAY_URL from the file, MINIAPP_PORT from the shell), and it serves.
      const next = environOf(pids[0]!);
      expect(next).toMatchObject({
        GATEWAY_URL: inject("gatewayUrl"),
        MINIAPP_PORT: String(port),
        GATEWAY_TIMEOUT_MS: "5000",
      });
      // It reaches the gateway at GATEWAY_URL (a 401 in the gateway's envelope, not "unreachable").
      const proxied = await fetch(
        `http://127.0.0.1:${port}/api/gw/payment/session/00000000-0000-4000-8000-000000000000`,
      );
      expect(proxied.status).toBe(401);
      expect(proxied.headers.get("x-request-id")).toBeTruthy();
    } finally {
      await launcher.child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
