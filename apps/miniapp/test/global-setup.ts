import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSandbox } from "@obuna/atmos/sandbox";
import { prepareTestDatabase, testRedisUrl } from "@obuna/db/testing";
import type { TestProject } from "vitest/node";
import { ensureBuild, miniappDir } from "../scripts/ensure-build.mjs";
import { TEST_OFFER } from "./offer";
import { TEST_SECRETS } from "./secrets";
import { type Child, freePort, spawnUntil } from "./services";

declare module "vitest" {
  export interface ProvidedContext {
    miniappUrl: string;
    gatewayUrl: string;
    databaseUrl: string;
    sandboxUrl: string;
    /** Where the gateway calls the Bot API: the Stars test starts its payments emulator on this port. */
    telegramApiPort: number;
  }
}

/**
 * One stack for the whole run: the test database, the ATMOS sandbox (in this process), the real
 * gateway (child process, `tsx ../gateway/src/index.ts`) and the built Mini App (`next start`).
 */
/** Every line the servers print goes to test-artifacts/logs/<name>.log (the tests scan them for card numbers). */
function logFile(name: string): string {
  const dir = join(miniappDir, "test-artifacts/logs");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.log`);
  writeFileSync(path, "");
  return path;
}

export default async function setup(project: TestProject) {
  ensureBuild();
  const databaseUrl = await prepareTestDatabase("miniapp");
  const sandbox = await startSandbox({
    storeId: TEST_SECRETS.atmosStoreId,
    consumerKey: TEST_SECRETS.atmosConsumerKey,
    consumerSecret: TEST_SECRETS.atmosConsumerSecret,
    callbackApiKey: TEST_SECRETS.atmosCallbackApiKey,
    callbackHash: "md5",
  });
  const children: Child[] = [];
  const teardown = async () => {
    await Promise.allSettled(children.map((child) => child.stop()));
    await sandbox.close();
  };
  try {
    const miniappPort = await freePort();
    const telegramApiPort = await freePort();
    const miniappUrl = `http://127.0.0.1:${miniappPort}`;
    const gatewayDir = join(miniappDir, "../gateway");
    const gateway = await spawnUntil(
      process.execPath,
      [join(miniappDir, "node_modules/tsx/dist/cli.mjs"), "src/index.ts"],
      {
        name: "gateway",
        logFile: logFile("gateway"),
        cwd: gatewayDir,
        timeoutMs: 60_000,
        ready: /gateway listening on (\d+)/,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "test",
          LOG_LEVEL: "info",
          GATEWAY_PORT: "0",
          // Every log line at once: the test reads the output as it goes.
          LOG_BUFFER_BYTES: "0",
          DATABASE_URL: databaseUrl,
          REDIS_URL: testRedisUrl(5),
          INTERNAL_API_TOKEN: TEST_SECRETS.internalApiToken,
          ADMIN_TOKEN: TEST_SECRETS.adminToken,
          ADMIN_TELEGRAM_IDS: String(TEST_SECRETS.adminTelegramId),
          // The Mini App server is the trusted proxy for the per-IP admin sign-in limit. Its Redis db is
          // not flushed between runs, and every browser here is 127.0.0.1: a roomy budget keeps the
          // admin tests' few wrong sign-ins from adding up across runs (the limit is tested in the gateway).
          TRUSTED_PROXY_IPS: "127.0.0.1",
          RATE_LIMIT_ADMIN_SIGN_IN_PER_IP_PER_15_MIN: "1000",
          BOT_TOKEN: TEST_SECRETS.botToken,
          CARD_TOKEN_KEY: TEST_SECRETS.cardTokenKey,
          TMA_INIT_DATA_MAX_AGE_S: "86400",
          DEV_ALLOW_UNSIGNED_INIT_DATA: "true",
          MINIAPP_URL: miniappUrl,
          OFFER_URL: TEST_OFFER.url,
          OFFER_VERSION: TEST_OFFER.version,
          ATMOS_BASE_URL: sandbox.url,
          ATMOS_CONSUMER_KEY: TEST_SECRETS.atmosConsumerKey,
          ATMOS_CONSUMER_SECRET: TEST_SECRETS.atmosConsumerSecret,
          ATMOS_STORE_ID: TEST_SECRETS.atmosStoreId,
          ATMOS_CALLBACK_API_KEY: TEST_SECRETS.atmosCallbackApiKey,
          ATMOS_CALLBACK_HASH: "md5",
          ATMOS_TIMEOUT_MS: "10000",
          TELEGRAM_API_ROOT: `http://127.0.0.1:${telegramApiPort}`,
        },
      },
    );
    children.push(gateway.child);
    const gatewayUrl = `http://127.0.0.1:${gateway.match[1]}`;
    sandbox.configure({ callbackUrl: `${gatewayUrl}/api/v1/checkout/callback` });

    const miniapp = await spawnUntil(
      process.execPath,
      [
        join(miniappDir, "node_modules/next/dist/bin/next"),
        "start",
        "-p",
        String(miniappPort),
        "-H",
        "127.0.0.1",
      ],
      {
        name: "next start",
        logFile: logFile("miniapp"),
        cwd: miniappDir,
        timeoutMs: 60_000,
        ready: /Ready in|started server|Local:/i,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "production",
          NEXT_TELEMETRY_DISABLED: "1",
          GATEWAY_URL: gatewayUrl,
          MINIAPP_PORT: String(miniappPort),
        },
      },
    );
    children.push(miniapp.child);

    project.provide("miniappUrl", miniappUrl);
    project.provide("gatewayUrl", gatewayUrl);
    project.provide("databaseUrl", databaseUrl);
    project.provide("sandboxUrl", sandbox.url);
    project.provide("telegramApiPort", telegramApiPort);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
