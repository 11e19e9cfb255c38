/**
 * `@obuna/atmos/sandbox`: the local ATMOS imitation, for tests (in-process, port 0) and for
 * `pnpm --filter @obuna/atmos sandbox`.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createSandbox, type SandboxRequestRecord, type SandboxStateOptions } from "./app";
import type { SandboxConfig, SandboxConfigPatch } from "./config";

export {
  createSandbox,
  type Sandbox,
  type SandboxLedgerEntry,
  type SandboxOfdItem,
  type SandboxRequestRecord,
  type SandboxTransactionState,
} from "./app";
export {
  findSandboxCard,
  SANDBOX_CARDS,
  SANDBOX_OTP,
  type SandboxCard,
  type SandboxCardName,
  type SandboxCardOutcome,
} from "./cards";
export {
  DEFAULT_SANDBOX_CONFIG,
  type SandboxConfig,
  type SandboxConfigPatch,
  sandboxConfigPatchSchema,
} from "./config";

export interface SandboxOptions extends SandboxConfigPatch, SandboxStateOptions {
  /** Default 0: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface RunningSandbox {
  /** http://127.0.0.1:<port> — use as ATMOS_BASE_URL. */
  url: string;
  port: number;
  close(): Promise<void>;
  ledger(): import("./app").SandboxLedgerEntry[];
  configure(patch: SandboxConfigPatch): void;
  /** ATMOS reverses a confirmed transaction on its own (bank reversal): it reads `reversed` from then on. */
  reverseTransaction(transactionId: number): "reversed" | "not_found" | "not_confirmed";
  requests(): SandboxRequestRecord[];
  expireTokens(): void;
  config(): SandboxConfig;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const { port = 0, host = "127.0.0.1", now, random, logger, ...patch } = options;
  const sandbox = createSandbox(patch, { now, random, logger });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: sandbox.app.fetch, port, hostname: host }, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    ledger: sandbox.ledger,
    configure: sandbox.configure,
    reverseTransaction: sandbox.reverseTransaction,
    requests: sandbox.requests,
    expireTokens: sandbox.expireTokens,
    config: sandbox.config,
    close: () =>
      new Promise<void>((resolve, reject) => {
        sandbox.close();
        const http = server as unknown as { closeAllConnections?: () => void };
        server.close((error) => (error ? reject(error) : resolve()));
        http.closeAllConnections?.();
      }),
  };
}
