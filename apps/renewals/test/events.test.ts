// Signed premium events delivered by the renewals worker: a real HTTP endpoint (node:http), real
// BullMQ retries with backoff on the package's Redis, the real test database.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { grantPurchasedPeriod, stopAutoRenew } from "@obuna/billing";
import { verifyObunaEvent } from "@obuna/contracts/events";
import { RENEWAL_JOBS } from "@obuna/contracts/jobs";
import { getPlanBySlug, markDeliveryForResend, upsertTelegramUser } from "@obuna/db/queries";
import { premiumEventAttempts, premiumEventDeliveries, premiumEvents } from "@obuna/db/schema";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, db, type World } from "./harness";

const SECRET = "test-events-signing-secret-0123456789";

interface Received {
  at: number;
  body: string;
  headers: IncomingMessage["headers"];
}

/** An endpoint answering each request with the next status of `statuses` (the last one repeats). */
async function endpoint(statuses: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ at: Date.now(), body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/obuna/events`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let world: World | null = null;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await world?.close();
  world = null;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startPremium(w: World) {
  const user = await upsertTelegramUser(db, { telegramId: 5_900_000_001 + Math.floor(Math.random() * 1e6) });
  const plan = (await getPlanBySlug(db, "monthly"))!;
  const outcome = await db.transaction((tx) =>
    grantPurchasedPeriod(
      tx,
      { clock: w.clock.now },
      {
        userId: user.id,
        plan,
        paidAmount: plan.price,
        renewWithCardId: null,
      },
    ),
  );
  return { user, subscriptionId: outcome.subscriptionId };
}

async function deliveries() {
  return db.select().from(premiumEventDeliveries).orderBy(asc(premiumEventDeliveries.id));
}
async function attemptsOf(deliveryId: number) {
  return db
    .select()
    .from(premiumEventAttempts)
    .where(eq(premiumEventAttempts.deliveryId, deliveryId))
    .orderBy(asc(premiumEventAttempts.id));
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("signed premium events: delivery from the outbox", () => {
  it("a 500 is retried with backoff; the 200 after it delivers; every attempt is logged; the body verifies", async () => {
    const hook = await endpoint([500, 200]);
    cleanups.push(hook.close);
    world = await createWorld(new Date(), {
      env: {
        EVENTS_ENDPOINTS: hook.url,
        EVENTS_SIGNING_SECRET: SECRET,
        EVENTS_RETRY_BASE_MS: "600",
        EVENTS_DELIVERY_ATTEMPTS: "4",
      },
    });
    const w = world;
    const { user, subscriptionId } = await startPremium(w);
    await w.renewals.start({ schedulers: false });
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.eventsRelay)).toEqual({ fannedOut: 1, queued: 1 });

    const [delivered] = await until("the delivery", async () => {
      const rows = await deliveries();
      return rows[0]?.status === "delivered" && rows;
    });
    expect(delivered).toMatchObject({ endpoint: hook.url, attempts: 2, lastStatusCode: 200, generation: 1 });
    const attempts = await attemptsOf(delivered!.id);
    expect(attempts.map((a) => [a.statusCode, a.error])).toEqual([
      [500, "endpoint answered 500"],
      [200, null],
    ]);
    for (const a of attempts) expect(a.durationMs).toBeGreaterThanOrEqual(0);
    // Exponential backoff from EVENTS_RETRY_BASE_MS (600 ms, ±20 % jitter) between the two requests.
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]!.at - hook.received[0]!.at).toBeGreaterThanOrEqual(480);

    // The same event both times, signed; the receiver's check accepts it.
    const [event] = await db.select().from(premiumEvents);
    for (const request of hook.received) {
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["obuna-event-id"]).toBe(event!.id);
      expect(request.headers["obuna-event-type"]).toBe("premium.started");
      const verified = verifyObunaEvent(request.body, request.headers["obuna-signature"] as string, SECRET, {
        now: w.clock.now(),
      });
      expect(verified).toMatchObject({
        id: event!.id,
        type: "premium.started",
        telegram_id: user.telegramId,
        subscription: { id: subscriptionId, plan: "monthly", status: "active", rail: "card" },
      });
    }
    // A relay run again finds nothing owed: no second delivery.
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.eventsRelay)).toEqual({ fannedOut: 0, queued: 0 });
  });

  it("an endpoint that keeps failing: the delivery is `failed` after its attempts; a resend delivers it again", async () => {
    const hook = await endpoint([503, 503, 204]);
    cleanups.push(hook.close);
    world = await createWorld(new Date(), {
      env: {
        EVENTS_ENDPOINTS: hook.url,
        EVENTS_SIGNING_SECRET: SECRET,
        EVENTS_RETRY_BASE_MS: "200",
        EVENTS_DELIVERY_ATTEMPTS: "2",
      },
    });
    const w = world;
    await startPremium(w);
    await w.renewals.start({ schedulers: false });
    await w.renewals.runPeriodicJob(RENEWAL_JOBS.eventsRelay);
    const [failed] = await until("the failed delivery", async () => {
      const rows = await deliveries();
      return rows[0]?.status === "failed" && rows;
    });
    expect(failed).toMatchObject({ attempts: 2, lastStatusCode: 503, lastError: "endpoint answered 503" });

    await db.transaction((tx) => markDeliveryForResend(tx, failed!.id, w.clock.now()));
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.eventsRelay)).toEqual({ fannedOut: 0, queued: 1 });
    const [resent] = await until("the resent delivery", async () => {
      const rows = await deliveries();
      return rows[0]?.status === "delivered" && rows;
    });
    expect(resent).toMatchObject({ generation: 2, attempts: 3, lastStatusCode: 204 });
    expect((await attemptsOf(failed!.id)).map((a) => [a.generation, a.statusCode])).toEqual([
      [1, 503],
      [1, 503],
      [2, 204],
    ]);
    // The resend carries the same event (id and body).
    expect(hook.received[2]!.body).toBe(hook.received[0]!.body);
  });

  it("one delivery per endpoint; an unreachable endpoint's attempt logs the error and no status", async () => {
    const hook = await endpoint([200]);
    cleanups.push(hook.close);
    const closed = await endpoint([200]);
    await closed.close();
    const dead = closed.url;
    world = await createWorld(new Date(), {
      env: {
        EVENTS_ENDPOINTS: `${hook.url},${dead}`,
        EVENTS_SIGNING_SECRET: SECRET,
        EVENTS_RETRY_BASE_MS: "100",
        EVENTS_DELIVERY_ATTEMPTS: "1",
      },
    });
    const w = world;
    const { subscriptionId } = await startPremium(w);
    await db.transaction((tx) =>
      stopAutoRenew(tx, { clock: w.clock.now }, { subscriptionId, by: { actor: "bot", reason: "test" } }),
    );
    await w.renewals.start({ schedulers: false });
    expect(await w.renewals.runPeriodicJob(RENEWAL_JOBS.eventsRelay)).toEqual({ fannedOut: 2, queued: 4 });
    const rows = await until("every delivery done", async () => {
      const all = await deliveries();
      return all.length === 4 && all.every((d) => d.status !== "pending") && all;
    });
    expect(rows.filter((d) => d.endpoint === hook.url).map((d) => d.status)).toEqual([
      "delivered",
      "delivered",
    ]);
    const deadRows = rows.filter((d) => d.endpoint === dead);
    expect(deadRows.map((d) => d.status)).toEqual(["failed", "failed"]);
    const [attempt] = await attemptsOf(deadRows[0]!.id);
    expect(attempt).toMatchObject({ statusCode: null });
    expect(attempt!.error).toMatch(/ECONNREFUSED/);
    expect(hook.received.map((r) => r.headers["obuna-event-type"]).sort()).toEqual([
      "premium.canceled",
      "premium.started",
    ]);
  });
});
