import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startEmulator } from "./emulator";
import { BOT_TOKEN, waitFor } from "./helpers";

/** The real entry point (src/main.ts) as a process: starts in each mode and stops cleanly on SIGTERM. */
const appDir = fileURLToPath(new URL("..", import.meta.url));
let child: ChildProcess | null = null;
let emulator: Awaited<ReturnType<typeof startEmulator>> | null = null;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = null;
  await emulator?.stop();
  emulator = null;
});

function startBot(env: Record<string, string>) {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: testDatabaseUrl("bot"),
      REDIS_URL: testRedisUrl(3),
      BOT_TOKEN,
      GATEWAY_URL: "http://127.0.0.1:9",
      INTERNAL_API_TOKEN: "internal-token-for-tests-0123",
      // Polling mode's /healthz + /metrics server: any free port (other runs share the machine).
      BOT_HEALTH_PORT: "0",
      ...env,
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

describe("bot process", () => {
  it("polls the Bot API root from env and exits 0 on SIGTERM", async () => {
    emulator = await startEmulator();
    const bot = startBot({
      TELEGRAM_API_ROOT: emulator.apiRoot,
      LOG_LEVEL: "info",
      METRICS_TOKEN: "bot-process-metrics-token-0123",
    });
    await waitFor(
      () => bot.output().includes('"msg":"bot polling"'),
      20_000,
      `polling log in:\n${bot.output()}`,
    );
    // Polling mode has its own /healthz and /metrics server.
    const healthPort = /bot health on (\d+)/.exec(bot.output())?.[1];
    expect(healthPort).toBeDefined();
    const health = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
        return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
      },
      10_000,
      "healthy polling",
    );
    expect(health).toMatchObject({ ok: true, mode: "polling", running: true });
    const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`, {
      headers: { authorization: "Bearer bot-process-metrics-token-0123" },
    });
    expect(await metrics.text()).toContain("bot_last_get_updates_success_timestamp_seconds");
    // It answers through the emulator.
    const client = emulator.server.getClient(BOT_TOKEN, {
      userId: 4_400_001,
      chatId: 4_400_001,
      timeout: 5_000,
    });
    await client.sendCommand(client.makeCommand("/help"));
    await waitFor(() => emulator!.botMessages(4_400_001)[0], 10_000, "reply to /help");
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toContain("shutting down");
  });

  it("serves the webhook with the secret token in webhook mode", async () => {
    emulator = await startEmulator();
    const port = await freePort();
    const secret = "webhook-secret-for-process-test";
    const bot = startBot({
      TELEGRAM_API_ROOT: emulator.apiRoot,
      BOT_MODE: "webhook",
      BOT_WEBHOOK_URL: "https://bot.example.uz",
      BOT_WEBHOOK_PORT: String(port),
      BOT_WEBHOOK_SECRET: secret,
      METRICS_TOKEN: "webhook-mode-metrics-token-0123",
    });
    await waitFor(
      () => bot.output().includes(`bot listening on ${port}`),
      20_000,
      `webhook log in:\n${bot.output()}`,
    );
    const refused = await fetch(`http://127.0.0.1:${port}/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // The webhook port also serves the bot's metrics, behind METRICS_TOKEN.
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: "Bearer webhook-mode-metrics-token-0123" },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("bot_last_get_me_success_timestamp_seconds");
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
  });
});
