import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startEmulator } from "./emulator";
import { BOT_TOKEN, waitFor } from "./helpers";

/**
 * The real entry point against a Bot API root that does not answer (a closed port): it must say so in
 * its log, keep retrying with backoff, and say when Telegram is reachable again — at start-up (getMe)
 * and while polling (getUpdates).
 */
const appDir = fileURLToPath(new URL("..", import.meta.url));
let child: ChildProcess | null = null;
let emulator: Awaited<ReturnType<typeof startEmulator>> | null = null;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = null;
  await emulator?.stop();
  emulator = null;
});

function startBot(apiRoot: string) {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: testDatabaseUrl("bot"),
      REDIS_URL: testRedisUrl(3),
      BOT_TOKEN,
      GATEWAY_URL: "http://127.0.0.1:9",
      INTERNAL_API_TOKEN: "internal-token-for-tests-0123",
      TELEGRAM_API_ROOT: apiRoot,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let output = "";
  proc.stdout!.on("data", (chunk) => {
    output += chunk;
  });
  proc.stderr!.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, output: () => output, exited };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe("bot and an unreachable Telegram", () => {
  it("logs 'cannot reach Telegram' with backoff at start-up, then recovers when the API answers", async () => {
    const port = await freePort();
    const apiRoot = `http://127.0.0.1:${port}`;
    const bot = startBot(apiRoot);
    await waitFor(
      () => count(bot.output(), `cannot reach Telegram at ${apiRoot} (getMe`) >= 2,
      20_000,
      `two getMe failures in:\n${bot.output()}`,
    );
    const lines = bot
      .output()
      .split("\n")
      .filter((line) => line.includes("cannot reach Telegram"))
      .map((line) => JSON.parse(line) as { level: number; retryInMs: number; reason: string });
    expect(lines[0]!.level).toBe(40);
    expect(lines[0]!.reason).toBe("ECONNREFUSED");
    // Backoff: each wait is longer than the one before.
    expect(lines[1]!.retryInMs).toBeGreaterThan(lines[0]!.retryInMs);
    expect(bot.proc.exitCode).toBeNull();

    emulator = await startEmulator(port);
    await waitFor(
      () => bot.output().includes('"msg":"bot polling"'),
      30_000,
      `polling after recovery in:\n${bot.output()}`,
    );
    expect(bot.output()).toContain(`Telegram reachable again at ${apiRoot}`);
    // The Bot API URL carries the token: it never reaches the log.
    expect(bot.output()).not.toContain(BOT_TOKEN.split(":")[1]);
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
  }, 60_000);

  it("logs a polling outage and its end, and keeps polling", async () => {
    const port = await freePort();
    const apiRoot = `http://127.0.0.1:${port}`;
    emulator = await startEmulator(port);
    const bot = startBot(apiRoot);
    await waitFor(() => bot.output().includes('"msg":"bot polling"'), 20_000, `polling in:\n${bot.output()}`);
    await emulator.stop();
    emulator = null;
    await waitFor(
      () => bot.output().includes(`cannot reach Telegram at ${apiRoot} (getUpdates`),
      20_000,
      `getUpdates failure in:\n${bot.output()}`,
    );
    emulator = await startEmulator(port);
    await waitFor(
      () => bot.output().includes(`Telegram reachable again at ${apiRoot}`),
      30_000,
      `recovery in:\n${bot.output()}`,
    );
    // It answers again through the restarted API.
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: 4_400_101,
      chatId: 4_400_101,
      timeout: 5_000,
    });
    await client.sendCommand(client.makeCommand("/help"));
    await waitFor(() => emulator!.botMessages(4_400_101)[0], 10_000, "reply to /help after recovery");
    expect(bot.output()).not.toContain("[grammY runner]");
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
  }, 60_000);

  it("stops with exit 0 on SIGTERM while Telegram is still unreachable", async () => {
    const port = await freePort();
    const bot = startBot(`http://127.0.0.1:${port}`);
    await waitFor(
      () => bot.output().includes("cannot reach Telegram"),
      20_000,
      `failure in:\n${bot.output()}`,
    );
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toContain("stopped before Telegram was reachable");
  }, 60_000);
});
