import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { BOT_TOKEN } from "./helpers";

/** The real gateway (`apps/gateway/src/index.ts`) as a process on the bot's test database, as in e2e.test.ts. */
const gatewayDir = fileURLToPath(new URL("../../gateway/", import.meta.url));

export async function startGatewayProcess(atmosUrl: string, internalToken: string) {
  let child: ChildProcess | null = null;
  const url = await new Promise<string>((resolve, reject) => {
    child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
      cwd: gatewayDir,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: testDatabaseUrl("bot"),
        REDIS_URL: testRedisUrl(3),
        LOG_LEVEL: "info",
        GATEWAY_PORT: "0",
        // Every log line at once: the test reads the output as it goes.
        LOG_BUFFER_BYTES: "0",
        INTERNAL_API_TOKEN: internalToken,
        BOT_TOKEN,
        CARD_TOKEN_KEY: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        MINIAPP_URL: "https://miniapp.example",
        ATMOS_BASE_URL: atmosUrl,
        ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
        ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
        ATMOS_STORE_ID: "11054",
        ATMOS_CALLBACK_API_KEY: "sandbox_callback_api_key",
        ATMOS_TIMEOUT_MS: "5000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /gateway listening on (\d+)/.exec(output);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`gateway exited (${code}) before listening:\n${output}`)));
  });
  const proc = child as unknown as ChildProcess;
  return {
    url,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
