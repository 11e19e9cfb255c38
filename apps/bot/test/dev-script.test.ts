import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { describe, expect, it } from "vitest";
import { freePort } from "./emulator";
import { BOT_TOKEN, waitFor } from "./helpers";

/**
 * `pnpm run dev` (what `pnpm dev` / `turbo dev` run for this app) stopped with Ctrl-C: a terminal sends
 * SIGINT to the whole foreground process group. It must exit 0 and print no "ELIFECYCLE ... failed".
 */
const appDir = fileURLToPath(new URL("..", import.meta.url));

describe("the dev script", () => {
  it("Ctrl-C (SIGINT to the process group) exits 0 without a failure line", async () => {
    const proc = spawn("pnpm", ["run", "dev"], {
      cwd: appDir,
      detached: true, // its own process group, like a terminal's foreground job
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        DATABASE_URL: testDatabaseUrl("bot"),
        REDIS_URL: testRedisUrl(3),
        BOT_TOKEN,
        GATEWAY_URL: "http://127.0.0.1:9",
        INTERNAL_API_TOKEN: "internal-token-for-tests-0123",
        TELEGRAM_API_ROOT: `http://127.0.0.1:${await freePort()}`,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    proc.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    proc.stderr!.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => output.includes("cannot reach Telegram"), 40_000, `bot started in:\n${output}`);
      process.kill(-proc.pid!, "SIGINT");
      expect(await exited).toBe(0);
      expect(output).not.toMatch(/ELIFECYCLE|Command failed/);
    } finally {
      if (proc.exitCode === null) process.kill(-proc.pid!, "SIGKILL");
    }
  }, 60_000);
});
