import { randomUUID } from "node:crypto";
import { type AtmosClient, createAtmosClient } from "@obuna/atmos";
import { createAtmosProvider } from "@obuna/atmos/provider";
import { type RunningSandbox, SANDBOX_CARDS, type SandboxCardName, startSandbox } from "@obuna/atmos/sandbox";
import { type NotificationJob, notificationJobId } from "@obuna/contracts/jobs";
import { createDb, parseCardTokenKey } from "@obuna/db";
import { getPlanBySlug, saveBoundCard, setUserRole, upsertTelegramUser } from "@obuna/db/queries";
import { boundCards, payments, renewalAttempts, subscriptions, users } from "@obuna/db/schema";
import { testDatabaseUrl, testRedisUrl } from "@obuna/db/testing";
import { eq, sql } from "drizzle-orm";
import pino, { type Logger } from "pino";
import { type RenewalsEnv, renewalsEnvSchema } from "../src/env";
import { createRenewals, type Renewals } from "../src/renewals";

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const REDIS_INDEX = 4;
const CARD_TOKEN_KEY = "0f".repeat(32);

export const dbHandle = createDb(testDatabaseUrl("renewals"), { max: 12 });
export const db = dbHandle.db;
let nextTelegramId = 5_000_000_000 + Math.floor(Math.random() * 100_000_000);

export function testEnv(overrides: Partial<Record<keyof RenewalsEnv, string>> = {}): RenewalsEnv {
  return renewalsEnvSchema.parse({
    DATABASE_URL: testDatabaseUrl("renewals"),
    REDIS_URL: testRedisUrl(REDIS_INDEX),
    ATMOS_BASE_URL: "http://127.0.0.1:1",
    ATMOS_CONSUMER_KEY: "sandbox_consumer_key",
    ATMOS_CONSUMER_SECRET: "sandbox_consumer_secret",
    ATMOS_STORE_ID: "11054",
    ATMOS_TIMEOUT_MS: "5000",
    CARD_TOKEN_KEY,
    ADMIN_TOKEN: "test-admin-token-0123456789",
    RENEWAL_RETRY_DAYS: "1,3,5",
    RENEWAL_GRACE_DAYS: "7",
    RENEWAL_LEAD_HOURS: "24",
    RENEWAL_REMINDER_DAYS: "3",
    RENEWALS_CONCURRENCY: "4",
    RENEWALS_ATMOS_RATE_PER_S: "1000",
    ...overrides,
  });
}

/** A movable clock: tests move time instead of waiting. */
export class TestClock {
  constructor(private current: Date) {}
  now = () => this.current;
  set(date: Date) {
    this.current = date;
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface World {
  sandbox: RunningSandbox;
  atmos: AtmosClient;
  clock: TestClock;
  renewals: Renewals;
  /** Another worker instance on the same Redis queue and database (a restart, or a second replica). */
  spawnInstance(options?: { env?: Partial<Record<keyof RenewalsEnv, string>>; logger?: Logger }): Renewals;
  close(): Promise<void>;
}

/**
 * A fresh world per test: its own in-process ATMOS sandbox (port 0), its own BullMQ key prefix on
 * the package's Redis index, the package's real test database, and a clock starting at `start`.
 */
/** Empties every table but the plans: each test starts from a clean, migrated database. */
export async function resetDatabase() {
  await db.execute(
    sql`truncate renewal_attempts, payments, provider_callbacks, payment_sessions, subscriptions, bound_cards, audit_log, idempotency_keys, notification_outbox, users cascade`,
  );
}

export async function createWorld(
  start: Date,
  options: {
    env?: Partial<Record<keyof RenewalsEnv, string>>;
    atmos?: (real: AtmosClient) => AtmosClient;
    logger?: Logger;
  } = {},
): Promise<World> {
  await resetDatabase();
  const sandbox = await startSandbox();
  const realAtmos = createAtmosClient({
    baseUrl: sandbox.url,
    consumerKey: "sandbox_consumer_key",
    consumerSecret: "sandbox_consumer_secret",
    storeId: "11054",
    timeoutMs: 5_000,
  });
  const atmos = options.atmos ? options.atmos(realAtmos) : realAtmos;
  const clock = new TestClock(start);
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const env = testEnv({ ...options.env, ATMOS_BASE_URL: sandbox.url });
  const instances: Renewals[] = [];
  const spawnInstance = (
    instance: { env?: Partial<Record<keyof RenewalsEnv, string>>; logger?: Logger } = {},
  ) => {
    const r = createRenewals({
      db,
      provider: createAtmosProvider({ client: atmos, storeId: "11054" }),
      redisUrl: env.REDIS_URL,
      config: instance.env ? testEnv({ ...options.env, ...instance.env, ATMOS_BASE_URL: sandbox.url }) : env,
      clock: clock.now,
      logger: instance.logger ?? pino({ level: "silent" }),
      prefix,
    });
    instances.push(r);
    return r;
  };
  const renewals = spawnInstance({ ...(options.logger ? { logger: options.logger } : {}) });
  return {
    sandbox,
    atmos: realAtmos,
    clock,
    renewals,
    spawnInstance,
    async close() {
      for (const r of instances) await r.worker.close();
      await renewals.queue.obliterate({ force: true });
      await renewals.notifications.obliterate({ force: true });
      await renewals.events.obliterate({ force: true });
      for (const r of instances) await r.close();
      await sandbox.close();
    },
  };
}

const boundTokens = new WeakMap<
  RunningSandbox,
  Map<SandboxCardName, { token: string; cardId: number; panMasked: string; expiry: string }>
>();

/** Binds a sandbox card through ATMOS (OTP 111111) once per sandbox and returns its token. */
export async function bindSandboxCard(world: World, name: SandboxCardName) {
  let cache = boundTokens.get(world.sandbox);
  if (!cache) {
    cache = new Map();
    boundTokens.set(world.sandbox, cache);
  }
  const hit = cache.get(name);
  if (hit) return hit;
  const card = SANDBOX_CARDS[name];
  const [mm, yy] = card.expiry.split("/") as [string, string];
  const init = await world.atmos.bindCardInit({ cardNumber: card.pan, expiry: `${yy}${mm}` });
  const bound =
    init.status === "already_bound"
      ? init.card
      : await world.atmos.bindCardConfirm({ transactionId: init.transactionId, otp: "111111" });
  const value = {
    token: bound.cardToken,
    cardId: bound.cardId,
    panMasked: bound.panMasked,
    expiry: bound.expiry,
  };
  cache.set(name, value);
  return value;
}

export interface SubscriberOptions {
  card?: SandboxCardName;
  /** end_date relative to the world's clock */
  endsInMs: number;
  autoRenew?: boolean;
  plan?: "monthly" | "quarterly" | "yearly";
  status?: "active" | "past_due" | "expired" | "canceled";
  cardActive?: boolean;
  /** Overrides the card's YYMM expiry stored in our database. */
  cardExpiry?: string;
  withCard?: boolean;
}

/** A premium user with a subscription and (by default) a bound sandbox card. */
export async function createSubscriber(world: World, options: SubscriberOptions) {
  const user = await upsertTelegramUser(db, { telegramId: nextTelegramId++, username: "renewal_test" });
  await setUserRole(db, user.id, "premium");
  const plan = (await getPlanBySlug(db, options.plan ?? "monthly"))!;
  let cardRowId: number | null = null;
  if (options.withCard ?? true) {
    const bound = await bindSandboxCard(world, options.card ?? "humo1");
    const card = await saveBoundCard(
      db,
      {
        userId: user.id,
        cardToken: bound.token,
        cardRef: String(bound.cardId),
        panMasked: bound.panMasked,
        expiry: options.cardExpiry ?? bound.expiry,
        cardType: "humo",
      },
      parseCardTokenKey(CARD_TOKEN_KEY),
    );
    if (options.cardActive === false)
      await db
        .update(boundCards)
        .set({ status: "deactivated", isActive: false })
        .where(eq(boundCards.id, card.id));
    cardRowId = card.id;
  }
  const now = world.clock.now();
  const endDate = new Date(now.getTime() + options.endsInMs);
  const [sub] = await db
    .insert(subscriptions)
    .values({
      userId: user.id,
      planId: plan.id,
      status: options.status ?? "active",
      autoRenew: options.autoRenew ?? true,
      startDate: new Date(endDate.getTime() - plan.durationDays * DAY),
      endDate,
      boundCardId: cardRowId,
    })
    .returning();
  return { user, plan, sub: sub!, cardId: cardRowId };
}

export async function loadSubscription(id: number) {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, id));
  return row!;
}

export async function loadUser(id: number) {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row!;
}

export async function attemptsOf(subscriptionId: number) {
  return db
    .select()
    .from(renewalAttempts)
    .where(eq(renewalAttempts.subscriptionId, subscriptionId))
    .orderBy(renewalAttempts.id);
}

export async function paymentsOf(subscriptionId: number) {
  return db.select().from(payments).where(eq(payments.subscriptionId, subscriptionId)).orderBy(payments.id);
}

/** Confirmed charges in the sandbox ledger. */
export function confirmedCharges(world: World) {
  return world.sandbox.ledger().filter((t) => t.state === "confirmed");
}

/** The notification job with the deterministic id, or undefined. */
export async function notificationJob(world: World, job: NotificationJob, discriminator: string | number) {
  return world.renewals.notifications.getJob(notificationJobId(job, discriminator));
}

export async function notificationKinds(world: World, userId: number) {
  const jobs = await world.renewals.notifications.getJobs(["waiting", "delayed", "prioritized"]);
  return jobs
    .filter((j) => j?.data && (j.data as { userId?: number }).userId === userId)
    .sort((a, b) => a.timestamp - b.timestamp)
    .map((j) => (j.data as NotificationJob).kind);
}
