import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import type { Logger } from "pino";
import type { GatewayEnv } from "./env";

/** The ATMOS client from the gateway's env: one place for the server and `pnpm reconcile`. */
export function atmosClientFromEnv(env: GatewayEnv, logger: Logger): AtmosClient {
  return createAtmosClient({
    baseUrl: env.ATMOS_BASE_URL,
    consumerKey: env.ATMOS_CONSUMER_KEY,
    consumerSecret: env.ATMOS_CONSUMER_SECRET,
    storeId: env.ATMOS_STORE_ID,
    terminalId: env.ATMOS_TERMINAL_ID ?? null,
    timeoutMs: env.ATMOS_TIMEOUT_MS,
    logger: logger.child({ component: "atmos" }),
  });
}
