/** Runs the ATMOS sandbox alone on ATMOS_SANDBOX_PORT (default 8040). */
import { exitOnEnvError } from "@obuna/contracts/env";
import pino from "pino";
import { sandboxEnv } from "./env";
import { startSandbox } from "./index";

async function main(): Promise<void> {
  let env: ReturnType<typeof sandboxEnv>;
  try {
    env = sandboxEnv();
  } catch (error) {
    exitOnEnvError(error);
  }
  const logger = pino({ level: env.LOG_LEVEL, base: { app: "atmos-sandbox" } });
  const sandbox = await startSandbox({
    port: env.ATMOS_SANDBOX_PORT,
    logger,
    storeId: env.ATMOS_STORE_ID,
    consumerKey: env.ATMOS_CONSUMER_KEY,
    consumerSecret: env.ATMOS_CONSUMER_SECRET,
    callbackUrl: env.ATMOS_SANDBOX_CALLBACK_URL ?? null,
    callbackApiKey: env.ATMOS_CALLBACK_API_KEY,
    callbackHash: env.ATMOS_CALLBACK_HASH,
    callbackField: env.ATMOS_SANDBOX_CALLBACK_FIELD,
    latencyMs: env.ATMOS_SANDBOX_LATENCY_MS,
    errorRate: env.ATMOS_SANDBOX_ERROR_RATE,
    timeoutRate: env.ATMOS_SANDBOX_TIMEOUT_RATE,
    tokenTtlSeconds: env.ATMOS_SANDBOX_TOKEN_TTL_S,
    lostApplyRate: env.ATMOS_SANDBOX_LOST_APPLY_RATE,
  });
  logger.info(
    { url: sandbox.url, callbackUrl: env.ATMOS_SANDBOX_CALLBACK_URL ?? null },
    "ATMOS sandbox listening",
  );
  const shutdown = (signal: string) => {
    logger.info({ signal }, "ATMOS sandbox stopping");
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

void main();
