/**
 * What every chaos scenario needs: the chaos database and Redis index, the ATMOS sandbox (in this
 * process, so its ledger is the source of truth), and the gateway and renewals worker as real child
 * processes that can be killed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { createAtmosProvider } from "@obuna/atmos/provider";
import {
  type RunningSandbox,
  SANDBOX_CARDS,
  SANDBOX_OTP,
  type SandboxConfigPatch,
  startSandbox,
} from "@obuna/atmos/sandbox";
import { signInitData } from "@obuna/contracts/testing";
import {
  createDb,
  type DbHandle,
  encryptCardToken,
  migrateDatabase,
  parseCardTokenKey,
  seedPlans,
} from "@obuna/db";
import { Redis } from "ioredis";
import postgres from "postgres";
import { CHAOS, chaosDatabaseUrl } from "./env";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const LOG_DIR = join(ROOT, "chaos", ".logs");

export const STORE_ID = "11054";
export const CONSUMER_KEY = "sandbox_consumer_key";
export const CONSUMER_SECRET = "sandbox_consumer_secret";
export const CALLBACK_API_KEY = "chaos_callback_api_key";
export const CARD_TOKEN_KEY = "2a".repeat(32);
export const INTERNAL_TOKEN = "chaos-internal-token-0123456789";
export const ADMIN_TOKEN = "chaos-admin-token-0123456789";
export const BOT_TOKEN = "123456:chaos-bot-token";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`);
    }
    await sleep(options.everyMs ?? 250);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Drops and rebuilds `obuna_chaos` from the committed migrations, with the plans. */
export async function prepareChaosDatabase(): Promise<string> {
  const url = chaosDatabaseUrl();
  const admin = postgres(CHAOS.pgAdminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${CHAOS.dbName}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  await migrateDatabase(url);
  const handle = createDb(url, { max: 1 });
  try {
    await seedPlans(handle.db);
    // An operator sets each plan's fiscal receipt codes before going live (docs/operations.md); the
    // seeded placeholders would only add reconcile notes to every scenario. Example codes, not real ones.
    await handle.client`update plans set ikpu_code = '10399001001000000', package_code = '1545313', vat_percent = 12`;
  } finally {
    await handle.close();
  }
  return url;
}

export async function flushChaosRedis(): Promise<void> {
  const redis = new Redis(CHAOS.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------- child processes

export interface Child {
  name: string;
  port: number;
  url: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  /** SIGKILL: no cleanup at all, like a crashed machine. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (graceful drain). */
  stop(): Promise<void>;
}

function commonEnv(databaseUrl: string, atmosUrl: string): Record<string, string> {
  return {
    ...CHAOS.inherited,
    DATABASE_URL: databaseUrl,
    REDIS_URL: CHAOS.redisUrl,
    LOG_LEVEL: "warn",
    ATMOS_BASE_URL: atmosUrl,
    ATMOS_CONSUMER_KEY: CONSUMER_KEY,
    ATMOS_CONSUMER_SECRET: CONSUMER_SECRET,
    ATMOS_STORE_ID: STORE_ID,
    ATMOS_CALLBACK_API_KEY: CALLBACK_API_KEY,
    ATMOS_CALLBACK_HASH: "md5",
    CARD_TOKEN_KEY,
    ADMIN_TOKEN,
  };
}

let childCounter = 0;

async function spawnApp(
  name: string,
  app: "gateway" | "renewals",
  env: Record<string, string>,
  port: number,
  logFile: string,
): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(join(LOG_DIR, logFile), { flags: "a" });
  // node directly (not pnpm/tsx wrappers) so signals reach the app itself.
  const proc = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
    cwd: join(ROOT, "apps", app),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const child: Child = {
    name: `${name}#${++childCounter}`,
    port,
    url,
    proc,
    exited,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  await waitFor(
    `${name} /healthz`,
    async () => {
      if (dead) throw new Error(`${name} exited during start (see chaos/.logs/${logFile})`);
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return res.ok;
    },
    { timeoutMs: 60_000, everyMs: 100 },
  );
  return child;
}

export async function startGateway(o: {
  databaseUrl: string;
  atmosUrl: string;
  port: number;
  logFile: string;
  atmosTimeoutMs?: number;
}): Promise<Child> {
  return spawnApp(
    "gateway",
    "gateway",
    {
      ...commonEnv(o.databaseUrl, o.atmosUrl),
      GATEWAY_PORT: String(o.port),
      INTERNAL_API_TOKEN: INTERNAL_TOKEN,
      BOT_TOKEN,
      TMA_INIT_DATA_MAX_AGE_S: "86400",
      DEV_ALLOW_UNSIGNED_INIT_DATA: "false",
      MINIAPP_URL: "http://127.0.0.1:8050",
      ATMOS_TIMEOUT_MS: String(o.atmosTimeoutMs ?? 3_000),
    },
    o.port,
    o.logFile,
  );
}

export async function startRenewals(o: {
  databaseUrl: string;
  atmosUrl: string;
  logFile: string;
  concurrency?: number;
  ratePerS?: number;
  atmosTimeoutMs?: number;
}): Promise<Child> {
  const port = await freePort();
  return spawnApp(
    "renewals",
    "renewals",
    {
      ...commonEnv(o.databaseUrl, o.atmosUrl),
      ATMOS_TIMEOUT_MS: String(o.atmosTimeoutMs ?? 3_000),
      // Every periodic job of the cluster runs here (the gateway keeps no timers), fast for a chaos run.
      RENEWALS_SWEEP_INTERVAL_MS: "1000",
      RENEWALS_PRICE_NOTICES_INTERVAL_MS: "1000",
      RENEWALS_OUTBOX_RELAY_INTERVAL_MS: "1000",
      RENEWALS_EXPIRY_INTERVAL_MS: "1000",
      RENEWALS_REMINDERS_INTERVAL_MS: "1000",
      RENEWALS_CARD_TOKEN_ERASURE_INTERVAL_MS: "1000",
      RENEWALS_IDEMPOTENCY_PURGE_INTERVAL_MS: "2000",
      RENEWALS_RECORDS_PURGE_INTERVAL_MS: "2000",
      RENEWALS_ADMIN_ALERTS_INTERVAL_MS: "2000",
      // The renewals `stuck-session-recheck` job settles sessions left processing (settleSessions waits for it).
      RENEWALS_STUCK_SESSION_RECHECK_INTERVAL_MS: "2000",
      RENEWAL_LEAD_HOURS: "24",
      RENEWALS_CONCURRENCY: String(o.concurrency ?? 10),
      RENEWALS_ATMOS_RATE_PER_S: String(o.ratePerS ?? 200),
      RENEWALS_PORT: String(port),
    },
    port,
    o.logFile,
  );
}

// ---------------------------------------------------------------- sandbox

export async function startChaosSandbox(patch: SandboxConfigPatch = {}): Promise<RunningSandbox> {
  return startSandbox({
    storeId: STORE_ID,
    consumerKey: CONSUMER_KEY,
    consumerSecret: CONSUMER_SECRET,
    callbackApiKey: CALLBACK_API_KEY,
    callbackHash: "md5",
    ...patch,
  });
}

export const NO_FAULTS: SandboxConfigPatch = {
  errorRate: 0,
  timeoutRate: 0,
  lostApplyRate: 0,
  latencyMs: 0,
  tokenTtlSeconds: 3600,
};

export function chaosAtmosClient(sandbox: RunningSandbox, timeoutMs = 5_000): AtmosClient {
  return createAtmosClient({
    baseUrl: sandbox.url,
    consumerKey: CONSUMER_KEY,
    consumerSecret: CONSUMER_SECRET,
    storeId: STORE_ID,
    timeoutMs,
  });
}

/** The card rail as a composition root builds it: the client and the PaymentProvider adapter over it. */
export function chaosRail(sandbox: RunningSandbox, timeoutMs = 5_000) {
  const atmos = chaosAtmosClient(sandbox, timeoutMs);
  return { atmos, provider: createAtmosProvider({ client: atmos, storeId: STORE_ID }) };
}

// ---------------------------------------------------------------- fixtures

/**
 * `count` users with one bound card each (the same ATMOS token, bound once in this sandbox) and an
 * active auto-renewing monthly subscription ending within the next `spreadS` seconds: all due now
 * (inside the 24 h lead window). Returns the subscription id → seeded end date.
 */
export async function seedDueSubscriptions(
  handle: DbHandle,
  sandbox: RunningSandbox,
  o: { count: number; telegramBase: number; spreadS?: number },
): Promise<Map<number, Date>> {
  const atmos = chaosAtmosClient(sandbox);
  const init = await atmos.bindCardInit({ cardNumber: SANDBOX_CARDS.humo1.pan, expiry: "2802" });
  const card =
    init.status === "already_bound"
      ? init.card
      : await atmos.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
  const encrypted = encryptCardToken(card.cardToken, parseCardTokenKey(CARD_TOKEN_KEY));
  const sql = handle.client;
  const base = o.telegramBase;
  const to = o.count;
  const spread = o.spreadS ?? 82_800;
  await sql`insert into users (telegram_id, role)
    select ${base}::bigint + g, 'premium' from generate_series(1, ${to}::int) g`;
  await sql`insert into bound_cards (user_id, card_token, card_ref, pan_masked, expiry, card_type)
    select u.id, ${encrypted}, ${String(card.cardId)}, '986009******4364', '2802', 'humo'
    from users u where u.telegram_id between ${base + 1}::bigint and ${base + to}::bigint`;
  const rows = await sql<{ id: number; end_date: Date }[]>`
    insert into subscriptions (user_id, plan_id, status, auto_renew, start_date, end_date, bound_card_id)
    select u.id, (select id from plans where slug = 'monthly'), 'active', true,
      date_trunc('second', now()) + interval '1 hour' + ((u.telegram_id - ${base}::bigint) % ${spread}::int) * interval '1 second' - interval '30 days',
      date_trunc('second', now()) + interval '1 hour' + ((u.telegram_id - ${base}::bigint) % ${spread}::int) * interval '1 second',
      c.id
    from users u join bound_cards c on c.user_id = u.id
    where u.telegram_id between ${base + 1}::bigint and ${base + to}::bigint
    returning id, end_date`;
  return new Map(rows.map((r) => [Number(r.id), new Date(r.end_date)]));
}

// ---------------------------------------------------------------- gateway HTTP, as the bot and the Mini App

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely and checked by the caller
  body: any;
}

export class GatewayCaller {
  constructor(
    readonly baseUrl: string,
    readonly timeoutMs = 15_000,
  ) {}

  async call(
    method: string,
    path: string,
    auth: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: auth,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed } as ApiAnswer;
    } catch (error) {
      return { status: 0, body: { error: (error as Error).message } } as ApiAnswer;
    }
  }

  static tma(telegramId: number): string {
    return `tma ${signInitData({ id: telegramId, first_name: "Chaos" }, BOT_TOKEN)}`;
  }
}

export const internalAuth = `Bearer ${INTERNAL_TOKEN}`;

/** Retries a call while the answer is a transport error or 5xx/409-in-progress (as a client would). */
export async function withRetries(
  fn: () => Promise<ApiAnswer>,
  o: { attempts?: number; okStatuses?: number[] } = {},
): Promise<ApiAnswer> {
  let last: ApiAnswer = { status: 0, body: null };
  for (let i = 0; i < (o.attempts ?? 6); i++) {
    last = await fn();
    if (last.status !== 0 && last.status < 500 && last.status !== 409) return last;
    await sleep(100 + 150 * i);
  }
  return last;
}

/**
 * Sessions still `processing` (an apply whose answer never came and that ATMOS never confirmed) are
 * finished by the stuck-session re-check after 30 minutes. Moves them 31 minutes into the past and
 * waits for the running cluster to finish them itself: the renewals worker's `stuck-session-recheck`
 * job (RENEWALS_STUCK_SESSION_RECHECK_INTERVAL_MS=2000). The gateway no longer runs it on a timer; until
 * that job is added (apps/renewals/src/queues/periodic-jobs.ts, issue 18) this wait times out.
 */
export async function settleSessions(handle: DbHandle, log: (line: string) => void) {
  const [row] = await handle.client<{ n: number }[]>`
    select count(*)::int as n from payment_sessions where status = 'processing'`;
  if (!row || row.n === 0) return 0;
  await handle.client`update payment_sessions set updated_at = updated_at - interval '31 minutes'
    where status = 'processing'`;
  await waitFor(
    "the renewals stuck-session-recheck job to finish processing sessions",
    async () => {
      const [r] = await handle.client<{ n: number }[]>`
        select count(*)::int as n from payment_sessions where status = 'processing'`;
      return r?.n === 0;
    },
    { timeoutMs: 60_000, everyMs: 500 },
  );
  log(`  ${row.n} sessions left processing were finished by the stuck-session re-check (moved in time)`);
  return row.n;
}
