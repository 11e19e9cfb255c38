import { randomInt, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { createAtmosProvider } from "@obuna/atmos/provider";
import { type RunningSandbox, SANDBOX_CARDS, SANDBOX_OTP, startSandbox } from "@obuna/atmos/sandbox";
import type { StarsBotApi } from "@obuna/billing";
import { QUEUES } from "@obuna/contracts/jobs";
import { type SignInitDataOptions, signInitData } from "@obuna/contracts/testing";
import { createDb, type DbHandle, parseCardTokenKey } from "@obuna/db";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { createApp } from "../src/app";
import type { GatewayConfig } from "../src/context";
import {
  BOT_TOKEN,
  CALLBACK_API_KEY,
  CARD_TOKEN_KEY_HEX,
  IDEMPOTENCY_HASH_KEY,
  INTERNAL_TOKEN,
  METRICS_TOKEN,
  REDIS_DB_INDEX,
  STORE_ID,
} from "./constants";

export { SANDBOX_CARDS, SANDBOX_OTP };
export type SandboxCardName = keyof typeof SANDBOX_CARDS;

export interface Harness {
  app: ReturnType<typeof createApp>;
  db: DbHandle;
  sandbox: RunningSandbox;
  queue: Queue;
  redis: Redis;
  baseUrl: string;
  /** Moves the gateway's clock (not the sandbox's). */
  clock: { offsetMs: number };
  logLines: string[];
  close(): Promise<void>;
}

/**
 * A real gateway: test database, Redis db 2, the ATMOS sandbox in-process on a random port with
 * its callback pointed at the gateway listening on a random port. Most calls use `app.request()`.
 */
export async function startHarness(
  configPatch: Partial<GatewayConfig> = {},
  options: { resetData?: boolean; notificationsQueue?: Queue; stars?: StarsBotApi } = {},
): Promise<Harness> {
  const db = createDb(testDatabaseUrl("gateway"), { max: 20 });
  // Each sandbox numbers its transactions from the same start: every test file begins with empty
  // payment tables (the plans stay).
  if (options.resetData ?? true) {
    await db.client.unsafe(
      "truncate provider_callbacks, audit_log, idempotency_keys, notification_outbox, renewal_attempts, payments, subscriptions, bound_cards, payment_sessions, users restart identity cascade",
    );
  }
  const redis = new Redis(testRedisUrl(REDIS_DB_INDEX), { maxRetriesPerRequest: 1 });
  const queue = new Queue(QUEUES.notifications, {
    connection: new Redis(testRedisUrl(REDIS_DB_INDEX), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    }),
  });
  await queue.waitUntilReady();
  // The payment ids restart with the tables, so the queue starts empty too: a job an earlier file
  // left for payment 1 must not count as this file's payment 1.
  if (options.resetData ?? true) await queue.obliterate({ force: true });
  const sandbox = await startSandbox({ callbackApiKey: CALLBACK_API_KEY, storeId: STORE_ID });
  const logLines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  const clock = { offsetMs: 0 };
  const app = createApp({
    db: db.db,
    ...sandboxRail(
      createAtmosClient({
        baseUrl: sandbox.url,
        consumerKey: "sandbox_consumer_key",
        consumerSecret: "sandbox_consumer_secret",
        storeId: STORE_ID,
        timeoutMs: 5_000,
        retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
        logger,
      }),
    ),
    notificationsQueue: options.notificationsQueue ?? queue,
    redis,
    logger,
    clock: () => new Date(Date.now() + clock.offsetMs),
    config: testGatewayConfig(configPatch),
    ...(options.stars ? { stars: options.stars } : {}),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sandbox.configure({ callbackUrl: `${baseUrl}/api/v1/checkout/callback` });
  return {
    app,
    db,
    sandbox,
    queue,
    redis,
    baseUrl,
    clock,
    logLines,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sandbox.close();
      await queue.close();
      redis.disconnect();
      await db.close();
    },
  };
}

/**
 * The card rail of a test app: the PaymentProvider adapter over an ATMOS client (usually talking to
 * the sandbox, perhaps wrapped to inject faults), as the composition root builds it.
 */
export function sandboxRail(client: AtmosClient) {
  return {
    provider: createAtmosProvider({
      client,
      storeId: STORE_ID,
      callbackApiKey: CALLBACK_API_KEY,
      callbackHash: "md5",
    }),
  };
}

/** The gateway configuration every test app uses (test secrets, sandbox store), with a patch. */
export function testGatewayConfig(patch: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    internalApiToken: INTERNAL_TOKEN,
    botToken: BOT_TOKEN,
    cardTokenKey: parseCardTokenKey(CARD_TOKEN_KEY_HEX),
    idempotencyHashKey: IDEMPOTENCY_HASH_KEY,
    initDataMaxAgeS: 3600,
    devAllowUnsignedInitData: false,
    miniappUrl: "http://miniapp.test",
    atmosStoreId: STORE_ID,
    atmosCallbackApiKey: CALLBACK_API_KEY,
    atmosCallbackHash: "md5",
    metricsToken: METRICS_TOKEN,
    ...patch,
  };
}

export function randomTelegramId(): number {
  return randomInt(100_000_000, 2_000_000_000);
}

/** `tma <initData>` as a Telegram client sends it (with `signature`), from the shared test signer. */
export function tma(
  telegramId: number,
  options: SignInitDataOptions & { botToken?: string; firstName?: string; username?: string } = {},
): string {
  const { botToken, firstName, username, ...signOptions } = options;
  const user = {
    id: telegramId,
    first_name: firstName ?? "Test",
    ...(username ? { username } : {}),
    language_code: "uz",
    allows_write_to_pm: true,
  };
  return `tma ${signInitData(user, botToken ?? BOT_TOKEN, signOptions)}`;
}

export const internalAuth = `Bearer ${INTERNAL_TOKEN}`;

/** Parsed JSON answers in tests are read loosely. */
// biome-ignore lint/suspicious/noExplicitAny: test JSON is checked by assertions, not types
export type Json = any;

export interface CallResult<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = Json>(
  h: Harness,
  method: string,
  path: string,
  options: { auth?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const response = await h.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** create-link as the bot; returns the session id. */
export async function createSession(h: Harness, telegramId: number, planSlug = "monthly") {
  const res = await call(h, "POST", "/api/v1/payment/create-link", {
    auth: internalAuth,
    body: { telegram_id: telegramId, plan_slug: planSlug, first_name: "Test", language_code: "uz" },
  });
  if (res.status !== 200) throw new Error(`create-link ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.data as { session_id: string; payment_url: string; expires_at: string; plan: Json };
}

/** create-link → create → pre-apply, as the Mini App user; returns ids for apply. */
export async function prepareSession(
  h: Harness,
  options: { telegramId?: number; card?: SandboxCardName; autoRenew?: boolean; plan?: string } = {},
) {
  const telegramId = options.telegramId ?? randomTelegramId();
  const auth = tma(telegramId);
  const link = await createSession(h, telegramId, options.plan ?? "monthly");
  const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth });
  const created = await call(h, "POST", "/api/v1/checkout/create", {
    auth,
    body: {
      session_id: link.session_id,
      amount: session.body.data.amount,
      auto_renew: options.autoRenew ?? false,
    },
  });
  if (created.status !== 200) throw new Error(`create ${created.status}: ${JSON.stringify(created.body)}`);
  const card = SANDBOX_CARDS[options.card ?? "humo1"];
  const pre = await call(h, "POST", "/api/v1/checkout/pre-apply", {
    auth,
    body: {
      session_id: link.session_id,
      transaction_id: created.body.data.transaction_id,
      card_number: card.pan,
      expiry: card.expiry,
    },
  });
  return {
    telegramId,
    auth,
    sessionId: link.session_id,
    transactionId: created.body.data.transaction_id as number,
    amount: session.body.data.amount as number,
    pre,
  };
}

export function apply(
  h: Harness,
  prepared: { auth: string; sessionId: string; transactionId: number },
  otp = SANDBOX_OTP,
  headers?: Record<string, string>,
) {
  return call(h, "POST", "/api/v1/checkout/apply", {
    auth: prepared.auth,
    body: { session_id: prepared.sessionId, transaction_id: prepared.transactionId, otp },
    ...(headers ? { headers } : {}),
  });
}

export function uniqueKey() {
  return randomUUID();
}
