// Real parts for the card tests: the billing test database and the ATMOS sandbox over HTTP.
import { randomBytes } from "node:crypto";
import { type AtmosClient, createAtmosClient, isAtmosError } from "@obuna/atmos";
import {
  type RunningSandbox,
  SANDBOX_CARDS,
  SANDBOX_OTP,
  type SandboxCardName,
  startSandbox,
} from "@obuna/atmos/sandbox";
import { createDb, encryptCardToken, parseCardTokenKey } from "@obuna/db";
import { getPlanBySlug } from "@obuna/db/queries";
import { boundCards, paymentSessions, subscriptions, users } from "@obuna/db/schema";
import { testDatabaseUrl } from "@obuna/db/testing";
import { eq } from "drizzle-orm";
import {
  type CardRemovalDeps,
  type PaymentProvider,
  PROVIDER_ERROR_KINDS,
  ProviderError,
  type ProviderErrorKind,
} from "../src/index";

export const handle = createDb(testDatabaseUrl("billing"), { max: 10 });
export const db = handle.db;
export const cardTokenKey = parseCardTokenKey(randomBytes(32).toString("hex"));
export const NOW = new Date("2031-05-01T09:00:00.000Z");
export const DAY = 24 * 3_600_000;

export interface World {
  sandbox: RunningSandbox;
  atmos: AtmosClient;
  deps: CardRemovalDeps;
  close(): Promise<void>;
}

/** ATMOS errors in the port's words (the interim adapter the apps use, for the test's own client). */
export function providerFor(atmos: Pick<AtmosClient, "removeCard">): Pick<PaymentProvider, "removeCard"> {
  return {
    removeCard: ({ cardRef, cardToken }) =>
      atmos.removeCard({ cardId: Number(cardRef), cardToken }).catch((error: unknown) => {
        if (!isAtmosError(error)) throw error;
        const kind = (PROVIDER_ERROR_KINDS as readonly string[]).includes(error.kind)
          ? (error.kind as ProviderErrorKind)
          : "internal";
        throw new ProviderError({ provider: "atmos", kind, message: error.message, cause: error });
      }),
  };
}

export async function startWorld(): Promise<World> {
  await handle.client.unsafe(
    "truncate audit_log, notification_outbox, renewal_attempts, payments, subscriptions, bound_cards, payment_sessions, users restart identity cascade",
  );
  const sandbox = await startSandbox({});
  const atmos = atmosClientFor(sandbox.url);
  return {
    sandbox,
    atmos,
    deps: { cardTokenKey, provider: providerFor(atmos) },
    close: () => sandbox.close(),
  };
}

export function atmosClientFor(baseUrl: string) {
  return createAtmosClient({
    baseUrl,
    consumerKey: "sandbox_consumer_key",
    consumerSecret: "sandbox_consumer_secret",
    storeId: "0",
    timeoutMs: 5_000,
    retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 20 },
  });
}

let telegramId = 7_000_000;
export async function createUser() {
  const [user] = await db.insert(users).values({ telegramId: telegramId++, firstName: "Test" }).returning();
  return user!;
}

/** Binds a sandbox card at ATMOS (or takes the binding ATMOS already holds: ERR-133). */
export async function bindAtSandbox(world: World, name: SandboxCardName) {
  const card = SANDBOX_CARDS[name];
  const [mm, yy] = card.expiry.split("/") as [string, string];
  const init = await world.atmos.bindCardInit({ cardNumber: card.pan, expiry: `${yy}${mm}` });
  const bound =
    init.status === "already_bound"
      ? init.card
      : await world.atmos.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
  return { cardId: bound.cardId, token: bound.cardToken, panMasked: bound.panMasked, expiry: bound.expiry };
}

export async function isHeldAtSandbox(world: World, providerCardId: number) {
  const cards = await world.atmos.listCards({ pageSize: 100 });
  return cards.some((card) => card.cardId === providerCardId);
}

type Bound = Awaited<ReturnType<typeof bindAtSandbox>>;

/** A user's saved card row for a provider binding. */
export async function insertCard(
  userId: number,
  bound: Bound,
  state: { status?: "active" | "deactivated" | "removed" | "erased"; removedAt?: Date } = {},
) {
  const status = state.status ?? "active";
  const [card] = await db
    .insert(boundCards)
    .values({
      userId,
      cardRef: String(bound.cardId),
      cardToken: status === "erased" ? null : encryptCardToken(bound.token, cardTokenKey),
      panMasked: bound.panMasked,
      expiry: bound.expiry,
      cardType: "humo",
      status,
      isActive: status === "active",
      removedAt: status === "removed" || status === "erased" ? (state.removedAt ?? NOW) : null,
      createdAt: NOW,
      updatedAt: NOW,
    })
    .returning();
  return card!;
}

/** A payment session of `userId` holding a pending binding of `bound` (auto-renew on). */
export async function insertSessionWithBinding(
  userId: number,
  bound: Bound,
  state: { status?: "pending" | "processing" | "failed" | "expired"; updatedAt?: Date } = {},
) {
  const plan = (await getPlanBySlug(db, "monthly"))!;
  const [session] = await db
    .insert(paymentSessions)
    .values({
      userId,
      planId: plan.id,
      status: state.status ?? "processing",
      amount: plan.price,
      autoRenew: true,
      cardMasked: bound.panMasked,
      bindCardRef: String(bound.cardId),
      bindCardToken: encryptCardToken(bound.token, cardTokenKey),
      bindCardMasked: bound.panMasked,
      bindCardExpiry: bound.expiry,
      bindCardType: "humo",
      expiresAt: new Date(NOW.getTime() + 30 * 60_000),
      createdAt: state.updatedAt ?? NOW,
      updatedAt: state.updatedAt ?? NOW,
    })
    .returning();
  return session!;
}

export async function insertSubscription(userId: number, boundCardId: number) {
  const plan = (await getPlanBySlug(db, "monthly"))!;
  const [sub] = await db
    .insert(subscriptions)
    .values({
      userId,
      planId: plan.id,
      status: "active",
      autoRenew: true,
      boundCardId,
      startDate: NOW,
      endDate: new Date(NOW.getTime() + 30 * DAY),
      nextRenewalAt: new Date(NOW.getTime() + 31 * DAY),
    })
    .returning();
  return sub!;
}

export async function cardRow(id: number) {
  const [row] = await db.select().from(boundCards).where(eq(boundCards.id, id));
  return row!;
}
