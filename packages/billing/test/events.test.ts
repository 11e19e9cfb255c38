import { PremiumEventSchema } from "@obuna/contracts/events";
import { premiumEvents } from "@obuna/db/schema";
import { asc } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type ConfirmedCharge, completeSessionPayment, refundPayment } from "../src/payments";
import {
  cancelNow,
  expireSubscription,
  extendForRenewal,
  grantDays,
  markPastDue,
  resumeAutoRenew,
  stopAutoRenew,
} from "../src/subscriptions";
import {
  at,
  createCard,
  createSession,
  createSubscription,
  createUser,
  DAY,
  db,
  deps,
  handle,
  inRolledBackTx,
  NOW,
  resetDatabase,
} from "./fixtures";

afterAll(() => handle.close());
beforeEach(() => resetDatabase());

const by = { actor: "admin:1", reason: "test" };

async function events() {
  const rows = await db
    .select()
    .from(premiumEvents)
    .orderBy(asc(premiumEvents.createdAt), asc(premiumEvents.type));
  return rows.map((row) => ({ ...row, payload: PremiumEventSchema.parse(row.payload) }));
}

const charge = (externalId: string): ConfirmedCharge => ({
  externalId,
  settlementId: String(Number(externalId) + 1),
  receiptUrl: null,
});

function complete(sessionId: string, externalId: string) {
  return db.transaction((tx) =>
    completeSessionPayment(tx, deps, {
      sessionId,
      charge: charge(externalId),
      source: "apply",
      actor: "gateway",
      activateCard: async () => null,
    }),
  );
}

describe("premium events, recorded by the money core with the change", () => {
  it("a first payment records premium.started with the subscription as it now is", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    const outcome = await complete(session.id, session.externalId!);
    if (outcome.status !== "completed") throw new Error("not completed");
    const [event, ...rest] = await events();
    expect(rest).toEqual([]);
    expect(event!.payload).toEqual({
      id: event!.id,
      type: "premium.started",
      created_at: NOW.toISOString(),
      telegram_id: user.telegramId,
      subscription: {
        id: outcome.subscriptionId,
        plan: "monthly",
        status: "active",
        active: true,
        until: new Date(NOW.getTime() + 30 * DAY).toISOString(),
        auto_renew: false,
        rail: "card",
      },
    });
    expect(event!.telegramId).toBe(user.telegramId);
    expect(event!.fannedOutAt).toBeNull();
  });

  it("a rolled-back transaction leaves no event; its retry records exactly one", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    await inRolledBackTx((tx) =>
      completeSessionPayment(tx, deps, {
        sessionId: session.id,
        charge: charge(session.externalId!),
        source: "apply",
        actor: "gateway",
        activateCard: async () => null,
      }),
    );
    expect(await events()).toEqual([]);
    await complete(session.id, session.externalId!);
    // The same payment seen again (callback after apply): already completed, nothing new.
    expect(await complete(session.id, session.externalId!)).toEqual({ status: "already_completed" });
    expect((await events()).map((e) => e.type)).toEqual(["premium.started"]);
  });

  it("the same transition for the same period twice records one event (type, subscription, period)", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { endDate: NOW, autoRenew: true });
    const decline = (declines: number) =>
      db.transaction((tx) =>
        markPastDue(tx, deps, {
          subscription: sub,
          declines,
          graceUntil: new Date(NOW.getTime() + 7 * DAY),
          nextAttemptAt: new Date(NOW.getTime() + DAY),
          code: "51",
          hardDecline: false,
          attemptId: declines,
        }),
      );
    await decline(1);
    await decline(2);
    const recorded = await events();
    expect(recorded.map((e) => e.type)).toEqual(["premium.past_due"]);
    expect(recorded[0]!.payload.subscription).toMatchObject({
      status: "past_due",
      active: true,
      until: new Date(NOW.getTime() + 7 * DAY).toISOString(),
    });
  });

  it("renewal, free days, cancel (user), resume and expiry: renewed, renewed, canceled, ended", async () => {
    const user = await createUser("premium");
    const card = await createCard(user.id);
    const sub = await createSubscription(user.id, { endDate: NOW, autoRenew: true, boundCardId: card.id });
    const period = { start: NOW, end: new Date(NOW.getTime() + 30 * DAY) };
    await db.transaction((tx) => extendForRenewal(tx, deps, { subscription: sub, period }));
    const later = at(new Date(NOW.getTime() + DAY));
    await db.transaction((tx) => grantDays(tx, later, { subscriptionId: sub.id, days: 3, by }));
    const later2 = at(new Date(NOW.getTime() + 2 * DAY));
    await db.transaction((tx) => stopAutoRenew(tx, later2, { subscriptionId: sub.id, by }));
    // Repeating the cancel changes nothing and records nothing.
    await db.transaction((tx) => stopAutoRenew(tx, later2, { subscriptionId: sub.id, by }));
    await db.transaction((tx) => resumeAutoRenew(tx, later2, { subscriptionId: sub.id, by }));
    const [locked] = await db.transaction(async (tx) => [
      await tx.query.subscriptions.findFirst({ where: (s, { eq }) => eq(s.id, sub.id) }),
    ]);
    const end = at(new Date(NOW.getTime() + 40 * DAY));
    await db.transaction((tx) =>
      expireSubscription(tx, end, { subscription: locked!, reason: "test", noticeKey: 1 }),
    );
    const recorded = await events();
    expect(recorded.map((e) => e.type)).toEqual([
      "premium.renewed",
      "premium.renewed",
      "premium.canceled",
      "premium.ended",
    ]);
    expect(recorded[0]!.payload.subscription.until).toBe(period.end.toISOString());
    expect(recorded[1]!.payload.subscription.until).toBe(
      new Date(period.end.getTime() + 3 * DAY).toISOString(),
    );
    expect(recorded[2]!.payload.subscription).toMatchObject({ status: "active", auto_renew: false });
    expect(recorded[3]!.payload).toMatchObject({
      reason: "expired",
      subscription: { status: "expired", active: false, auto_renew: false },
    });
    // Every event has its own id.
    expect(new Set(recorded.map((e) => e.id)).size).toBe(4);
  });

  it("an operator's cancel: canceled and ended (reason canceled)", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { autoRenew: true });
    await db.transaction((tx) => cancelNow(tx, deps, { subscriptionId: sub.id, by }));
    const recorded = await events();
    expect(recorded.map((e) => [e.type, e.payload.reason])).toEqual([
      ["premium.canceled", undefined],
      ["premium.ended", "canceled"],
    ]);
    expect(recorded[1]!.payload.subscription).toMatchObject({ status: "canceled", active: false });
  });

  it("a refund: refunded, and ended (reason refunded) when it ends access; a second refund records nothing", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    const done = await complete(session.id, session.externalId!);
    if (done.status !== "completed") throw new Error("not completed");
    const later = at(new Date(NOW.getTime() + 60_000));
    const refund = () =>
      db.transaction((tx) =>
        refundPayment(tx, later, {
          paymentId: done.paymentId,
          by,
          reverse: async () => ({ status: "reversed" }),
        }),
      );
    await refund();
    await refund();
    const recorded = await events();
    expect(recorded.map((e) => [e.type, e.payload.reason])).toEqual([
      ["premium.started", undefined],
      ["premium.ended", "refunded"],
      ["premium.refunded", undefined],
    ]);
    expect(recorded[2]!.payload.subscription).toMatchObject({ status: "expired", active: false });
  });
});
