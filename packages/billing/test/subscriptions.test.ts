import { sql } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  cancelNow,
  expireIfDue,
  expireSubscription,
  extendForRenewal,
  grantDays,
  grantPurchasedPeriod,
  resumeAutoRenew,
  stopAutoRenew,
  takeBackPeriod,
} from "../src/subscriptions";
import {
  at,
  auditRows,
  createAttempt,
  createCard,
  createSubscription,
  createUser,
  DAY,
  db,
  deps,
  handle,
  inRolledBackTx,
  monthlyPlan,
  NOW,
  outboxRows,
  resetDatabase,
  roleOf,
  subscriptionRow,
} from "./fixtures";

afterAll(() => handle.close());
beforeEach(() => resetDatabase());

const by = { actor: "admin:1", reason: "test", details: { via: "api" } };

describe("start and extend by a purchase", () => {
  it("starts a subscription now for a user without one, premium, auto-renew with the card", async () => {
    const user = await createUser();
    const card = await createCard(user.id);
    const plan = await monthlyPlan();
    const outcome = await db.transaction((tx) =>
      grantPurchasedPeriod(tx, deps, {
        userId: user.id,
        plan,
        paidAmount: plan.price,
        renewWithCardId: card.id,
      }),
    );
    expect(outcome.status).toBe("started");
    const sub = await subscriptionRow(outcome.subscriptionId);
    expect(sub).toMatchObject({
      status: "active",
      autoRenew: true,
      boundCardId: card.id,
      renewalPrice: null,
    });
    expect(sub.startDate).toEqual(NOW);
    expect(sub.endDate).toEqual(new Date(NOW.getTime() + 30 * DAY));
    expect(await roleOf(user.id)).toBe("premium");
  });

  it("extends a live subscription after the time left, clears the retry state and keeps its card", async () => {
    const user = await createUser();
    const card = await createCard(user.id);
    const live = await createSubscription(user.id, {
      status: "past_due",
      autoRenew: true,
      boundCardId: card.id,
      renewalAttempts: 2,
      renewalError: "51",
      graceUntil: new Date(NOW.getTime() + 5 * DAY),
      nextRenewalAt: new Date(NOW.getTime() + DAY),
    });
    const plan = await monthlyPlan();
    const outcome = await db.transaction((tx) =>
      grantPurchasedPeriod(tx, deps, {
        userId: user.id,
        plan,
        paidAmount: plan.price - 100,
        renewWithCardId: null,
      }),
    );
    expect(outcome).toMatchObject({ status: "extended", subscriptionId: live.id });
    const sub = await subscriptionRow(live.id);
    expect(sub).toMatchObject({
      status: "active",
      autoRenew: true,
      boundCardId: card.id,
      renewalAttempts: 0,
      renewalError: null,
      graceUntil: null,
      nextRenewalAt: null,
      // Paid less than the list price (it changed while the session was open): kept until told.
      renewalPrice: plan.price - 100,
      newRenewalPrice: plan.price,
    });
    expect(sub.endDate).toEqual(new Date(live.endDate.getTime() + 30 * DAY));
  });
});

describe("extend by a renewal", () => {
  it("extends from the renewed end date", async () => {
    const user = await createUser();
    const live = await createSubscription(user.id, { status: "past_due", renewalAttempts: 1 });
    const period = { start: live.endDate, end: new Date(live.endDate.getTime() + 30 * DAY) };
    const outcome = await db.transaction((tx) => extendForRenewal(tx, deps, { subscription: live, period }));
    expect(outcome).toEqual({ status: "extended" });
    expect(await subscriptionRow(live.id)).toMatchObject({
      status: "active",
      endDate: period.end,
      renewalAttempts: 0,
      lastRenewalAttempt: NOW,
    });
    expect(await roleOf(user.id)).toBe("premium");
  });

  it("refuses an expired subscription and a period that moved, writing nothing", async () => {
    const user = await createUser();
    const expired = await createSubscription(user.id, { status: "expired" });
    const period = { start: expired.endDate, end: new Date(expired.endDate.getTime() + 30 * DAY) };
    expect(
      await db.transaction((tx) => extendForRenewal(tx, deps, { subscription: expired, period })),
    ).toEqual({ status: "refused", reason: "not_live" });
    expect(await subscriptionRow(expired.id)).toEqual(expired);

    const other = await createUser();
    const live = await createSubscription(other.id);
    const moved = { start: new Date(live.endDate.getTime() - DAY), end: live.endDate };
    expect(
      await db.transaction((tx) => extendForRenewal(tx, deps, { subscription: live, period: moved })),
    ).toEqual({ status: "refused", reason: "period_moved" });
    expect(await subscriptionRow(live.id)).toEqual(live);
    expect(await roleOf(user.id)).toBe("user");
  });
});

describe("extend by an operator (grant days)", () => {
  it("adds days, brings a past-due one back, audits and owes the user a message", async () => {
    const user = await createUser();
    const sub = await createSubscription(user.id, {
      status: "past_due",
      endDate: new Date(NOW.getTime() - DAY),
      graceUntil: new Date(NOW.getTime() + 6 * DAY),
      renewalAttempts: 1,
    });
    const outcome = await db.transaction((tx) =>
      grantDays(tx, deps, { subscriptionId: sub.id, days: 5, by }),
    );
    expect(outcome.status).toBe("extended");
    expect(await subscriptionRow(sub.id)).toMatchObject({
      status: "active",
      endDate: new Date(sub.endDate.getTime() + 5 * DAY),
      graceUntil: null,
      renewalAttempts: 0,
    });
    const [audit] = await auditRows();
    expect(audit).toMatchObject({
      actor: "admin:1",
      action: "subscription.extended",
      entityId: String(sub.id),
    });
    expect(audit!.details).toMatchObject({ via: "api", days: 5 });
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["subscription_extended"]);
  });

  it("refuses an expired subscription and an unknown one", async () => {
    const user = await createUser();
    const sub = await createSubscription(user.id, { status: "expired" });
    expect(
      await db.transaction((tx) => grantDays(tx, deps, { subscriptionId: sub.id, days: 5, by })),
    ).toEqual({ status: "refused", reason: "not_live", current: "expired" });
    expect(
      await db.transaction((tx) => grantDays(tx, deps, { subscriptionId: 987654, days: 5, by })),
    ).toEqual({ status: "not_found" });
    expect(await auditRows()).toHaveLength(0);
  });
});

describe("expire", () => {
  it("ends access, turns auto-renew off, drops premium (not admin), audits and owes one notice", async () => {
    const user = await createUser("premium");
    const admin = await createUser("admin");
    const sub = await createSubscription(user.id, { autoRenew: true });
    const adminSub = await createSubscription(admin.id);
    for (const s of [sub, adminSub]) {
      const outcome = await db.transaction((tx) =>
        expireSubscription(tx, deps, { subscription: s, reason: "test", noticeKey: 1 }),
      );
      expect(outcome.status).toBe("expired");
    }
    expect(await subscriptionRow(sub.id)).toMatchObject({ status: "expired", autoRenew: false });
    expect(await roleOf(user.id)).toBe("user");
    expect(await roleOf(admin.id)).toBe("admin");
    expect((await auditRows()).map((r) => r.action)).toEqual([
      "subscription.expired",
      "subscription.expired",
    ]);
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["subscription_expired", "subscription_expired"]);

    // Expiring it again is refused: nothing more is written.
    const again = await db.transaction(async (tx) =>
      expireSubscription(tx, deps, {
        subscription: await subscriptionRow(sub.id),
        reason: "x",
        noticeKey: 2,
      }),
    );
    expect(again).toEqual({ status: "refused", reason: "not_live" });
    expect(await auditRows()).toHaveLength(2);
  });

  it("by the clock: not while a charge for the period is open, and only once its end passed", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { endDate: new Date(NOW.getTime() - DAY) });
    const attempt = await createAttempt(sub, { status: "unknown" });
    const check = () =>
      db.transaction((tx) => expireIfDue(tx, deps, { subscriptionId: sub.id, check: "ended" }));
    expect(await check()).toEqual({ status: "not_due" });
    // The janitor resolved it: not charged.
    await db.execute(sql`update renewal_attempts set status = 'failed' where id = ${attempt.id}`);
    expect((await check()).status).toBe("expired");
    expect(await check()).toEqual({ status: "not_due" });
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["subscription_expired"]);

    const fresh = await createSubscription((await createUser()).id);
    expect(
      await db.transaction((tx) => expireIfDue(tx, deps, { subscriptionId: fresh.id, check: "ended" })),
    ).toEqual({ status: "not_due" });
  });
});

describe("cancel", () => {
  it("an operator's cancel ends access now; a second cancel is refused", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { autoRenew: true });
    const first = await db.transaction((tx) => cancelNow(tx, deps, { subscriptionId: sub.id, by }));
    expect(first.status).toBe("canceled");
    expect(await subscriptionRow(sub.id)).toMatchObject({
      status: "canceled",
      autoRenew: false,
      cancelledAt: NOW,
    });
    expect(await roleOf(user.id)).toBe("user");
    const second = await db.transaction((tx) => cancelNow(tx, deps, { subscriptionId: sub.id, by }));
    expect(second).toEqual({ status: "refused", reason: "not_live", current: "canceled" });
    expect((await auditRows()).map((r) => r.action)).toEqual(["subscription.canceled"]);
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["subscription_canceled_by_admin"]);
  });

  it("the user's cancel stops auto-renew and keeps access; repeating it changes nothing", async () => {
    const user = await createUser("premium");
    const card = await createCard(user.id);
    const sub = await createSubscription(user.id, {
      autoRenew: true,
      boundCardId: card.id,
      nextRenewalAt: new Date(NOW.getTime() + DAY),
    });
    const userBy = { actor: "tg:1", reason: "user request" };
    expect(
      await db.transaction((tx) => stopAutoRenew(tx, deps, { subscriptionId: sub.id, by: userBy })),
    ).toEqual({
      status: "changed",
    });
    expect(await subscriptionRow(sub.id)).toMatchObject({
      status: "active",
      autoRenew: false,
      cancelledAt: NOW,
      nextRenewalAt: null,
    });
    expect(
      await db.transaction((tx) =>
        stopAutoRenew(tx, at(new Date(NOW.getTime() + 1000)), { subscriptionId: sub.id, by: userBy }),
      ),
    ).toEqual({ status: "unchanged" });
    const audits = await auditRows();
    expect(audits.map((r) => r.action)).toEqual(["subscription.canceled"]);
    expect(audits[0]!.details).toMatchObject({ autoRenewOff: true });
    expect(await roleOf(user.id)).toBe("premium");

    // resume: back on with the usable card
    expect(
      await db.transaction((tx) => resumeAutoRenew(tx, deps, { subscriptionId: sub.id, by: userBy })),
    ).toEqual({
      status: "changed",
    });
    expect(await subscriptionRow(sub.id)).toMatchObject({ autoRenew: true, cancelledAt: null });
    expect((await auditRows()).map((r) => r.action)).toEqual([
      "subscription.canceled",
      "subscription.resumed",
    ]);
  });

  it("resume is refused without a usable card, and for a subscription that is not live", async () => {
    const user = await createUser();
    const card = await createCard(user.id, { status: "deactivated", isActive: false });
    const sub = await createSubscription(user.id, { boundCardId: card.id });
    const userBy = { actor: "tg:1", reason: "user request" };
    expect(
      await db.transaction((tx) => resumeAutoRenew(tx, deps, { subscriptionId: sub.id, by: userBy })),
    ).toEqual({
      status: "refused",
      reason: "no_usable_card",
    });
    const expired = await createSubscription((await createUser()).id, { status: "expired" });
    expect(
      await db.transaction((tx) => resumeAutoRenew(tx, deps, { subscriptionId: expired.id, by: userBy })),
    ).toEqual({ status: "refused", reason: "not_live" });
    expect(
      await db.transaction((tx) => stopAutoRenew(tx, deps, { subscriptionId: expired.id, by: userBy })),
    ).toEqual({ status: "refused", reason: "not_live" });
    expect(await auditRows()).toHaveLength(0);
  });
});

describe("take back a period", () => {
  it("moves the end back by the period; ending access now expires it and drops premium", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { endDate: new Date(NOW.getTime() + 10 * DAY) });
    const period = { start: new Date(NOW.getTime() - 20 * DAY), end: new Date(NOW.getTime() + 10 * DAY) };
    const taken = await db.transaction((tx) => takeBackPeriod(tx, deps, { subscriptionId: sub.id, period }));
    expect(taken).toMatchObject({ subscriptionId: sub.id, expired: true });
    // never before the start
    expect(taken!.newEndDate).toEqual(sub.startDate);
    expect((await subscriptionRow(sub.id)).status).toBe("expired");
    expect(await roleOf(user.id)).toBe("user");
  });

  it("keeps access when time is left", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { endDate: new Date(NOW.getTime() + 40 * DAY) });
    const period = { start: new Date(NOW.getTime() + 10 * DAY), end: new Date(NOW.getTime() + 40 * DAY) };
    const taken = await db.transaction((tx) => takeBackPeriod(tx, deps, { subscriptionId: sub.id, period }));
    expect(taken).toMatchObject({ expired: false, newEndDate: new Date(NOW.getTime() + 10 * DAY) });
    expect((await subscriptionRow(sub.id)).status).toBe("active");
    expect(await roleOf(user.id)).toBe("premium");
  });
});

describe("rollback", () => {
  it("a transition whose transaction rolls back leaves nothing written", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { autoRenew: true });
    const plan = await monthlyPlan();
    await inRolledBackTx(async (tx) => {
      await grantDays(tx, deps, { subscriptionId: sub.id, days: 3, by });
      await cancelNow(tx, deps, { subscriptionId: sub.id, by });
      await grantPurchasedPeriod(tx, deps, {
        userId: user.id,
        plan,
        paidAmount: plan.price,
        renewWithCardId: null,
      });
    });
    expect(await subscriptionRow(sub.id)).toEqual(sub);
    expect(await roleOf(user.id)).toBe("premium");
    expect(await auditRows()).toHaveLength(0);
    expect(await outboxRows()).toHaveLength(0);
  });
});
