import { serve } from "@hono/node-server";
import { createAtmosClient } from "@obuna/atmos";
import { createAtmosProvider } from "@obuna/atmos/provider";
import { exitOnEnvError } from "@obuna/contracts/env";
import { createErrorReporter } from "@obuna/contracts/error-reporting";
import { createDb } from "@obuna/db";
import pino from "pino";
import { loadRenewalsEnv, type RenewalsEnv } from "./env";
import { createRenewals } from "./renewals";

/** `pnpm --filter @obuna/renewals start`: everything from env; SIGTERM/SIGINT drain running charges. */
async function main() {
  let env: RenewalsEnv;
  try {
    env = loadRenewalsEnv();
  } catch (error) {
    exitOnEnvError(error);
  }
  const logger = pino({ level: env.LOG_LEVEL, name: "renewals" });
  const dbHandle = createDb(env.DATABASE_URL, {
    max: env.RENEWALS_CONCURRENCY + 4,
    applicationName: "renewals",
  });
  const atmos = createAtmosClient({
    baseUrl: env.ATMOS_BASE_URL,
    consumerKey: env.ATMOS_CONSUMER_KEY,
    consumerSecret: env.ATMOS_CONSUMER_SECRET,
    storeId: env.ATMOS_STORE_ID,
    terminalId: env.ATMOS_TERMINAL_ID,
    timeoutMs: env.ATMOS_TIMEOUT_MS,
    logger,
  });
  const errorReporter = await createErrorReporter({ dsn: env.SENTRY_DSN, app: "renewals" });
  const renewals = createRenewals({
    db: dbHandle.db,
    provider: createAtmosProvider({ client: atmos, storeId: env.ATMOS_STORE_ID }),
    redisUrl: env.REDIS_URL,
    config: env,
    logger,
    errorReporter,
    defaultMetrics: true,
  });
  await renewals.start();
  const server = serve({ fetch: renewals.app.fetch, port: env.RENEWALS_PORT, hostname: "0.0.0.0" }, (info) =>
    logger.info({ port: info.port }, "renewals http listening"),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: waiting for running charges");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, 90_000);
    force.unref();
    server.close();
    await renewals.close();
    await dbHandle.close();
    await errorReporter.flush();
    logger.info("renewals stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
