import type { AtmosClient } from "@obuna/atmos";
import { findDueRenewals } from "@obuna/db/queries";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveAttemptSuccess } from "../src/core/attempts";
import { chargeSubscription } from "../src/core/charge";
import { resolveAttempt, runJanitor } from "../src/core/janitor";
import {
  attemptsOf,
  confirmedCharges,
  createSubscriber,
  createWorld,
  DAY,
  db,
  HOUR,
  loadSubscription,
  paymentsOf,
  type World,
} from "./harness";

const START = new Date("2031-09-01T10:00:00.000Z");
const MIN = 60_000;
let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Where a "killed" worker stops: its ATMOS call never returns, like a process that died. */
type KillPoint = "none" | "before_create" | "after_create" | "after_apply";

/**
 * ATMOS as seen by a worker that dies at `point.at`: the call never returns. `point.hit` is set when
 * the worker reached that point, so a test changes `point.at` only after the "death" really happened.
 */
function killableAtmos(point: { at: KillPoint; hit?: KillPoint }) {
  const never = new Promise<never>(() => {});
  const die = (at: KillPoint) => {
    point.hit = at;
    return never;
  };
  return (real: AtmosClient): AtmosClient =>
    new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "createTransaction") {
          return async (input: Parameters<AtmosClient["createTransaction"]>[0]) => {
            if (point.at === "before_create") return die("before_create");
            return target.createTransaction(input);
          };
        }
        if (prop === "preApplyToken") {
          return async (input: Parameters<AtmosClient["preApplyToken"]>[0]) => {
            if (point.at === "after_create") return die("after_create");
            return target.preApplyToken(input);
          };
        }
        if (prop === "apply") {
          return async (input: Parameters<AtmosClient["apply"]>[0]) => {
            const result = await target.apply(input);
            if (point.at === "after_apply") return die("after_apply");
            return result;
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
}

const charge = (w: World, sub: { id: number; endDate: Date }) =>
  chargeSubscription(w.renewals.ctx, { subscriptionId: sub.id, periodEnd: sub.endDate });

describe("janitor for unknown outcomes", () => {
  it("a lost apply answer: attempt unknown, no new charge meanwhile, resolved once from ATMOS after 5 min", async () => {
    world = await createWorld(START);
    const w = world;
    const { sub, plan } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    w.sandbox.configure({ loseNextApply: 1 });
    expect(await charge(w, sub)).toMatchObject({ status: "unknown" });

    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ status: "unknown" });
    expect(Number(attempt!.externalId)).toBeGreaterThan(0);
    expect(attempt!.nextCheckAt?.toISOString()).toBe(new Date(START.getTime() + 5 * MIN).toISOString());
    // The ledger already shows the money taken; we must not take it again.
    expect(confirmedCharges(w)).toHaveLength(1);
    expect(await charge(w, sub)).toMatchObject({ status: "skipped" });
    const due = await findDueRenewals(db, { now: w.clock.now(), leadMs: 24 * HOUR, limit: 100 });
    expect(due.find((d) => d.subscriptionId === sub.id)).toBeUndefined();

    w.clock.advance(4 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 0 });
    w.clock.advance(MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 1, success: 1 });

    const after = await loadSubscription(sub.id);
    expect(after.endDate.getTime()).toBe(sub.endDate.getTime() + plan.durationDays * DAY);
    expect((await attemptsOf(sub.id)).map((a) => a.status)).toEqual(["success"]);
    expect(await paymentsOf(sub.id)).toHaveLength(1);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ checked: 0 });
    expect(confirmedCharges(w)).toHaveLength(1);
    // Applying the same outcome twice (worker and janitor racing) records it once.
    const confirmed = confirmedCharges(w)[0]!;
    const asProviderReads = {
      externalId: String(confirmed.transactionId),
      settlementId: confirmed.successTransId === null ? null : String(confirmed.successTransId),
      receiptUrl: null,
    };
    expect(await resolveAttemptSuccess(w.renewals.ctx, attempt!.id, asProviderReads, sub.id)).toEqual({
      status: "already_resolved",
    });
    expect(await paymentsOf(sub.id)).toHaveLength(1);
  });

  it("a worker killed after ATMOS charged: the stale pending attempt ends as the ledger shows, no second charge", async () => {
    const point: { at: KillPoint; hit?: KillPoint } = { at: "after_apply" };
    world = await createWorld(START, { atmos: killableAtmos(point) });
    const w = world;
    const { sub, plan } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    void charge(w, sub); // this worker "dies" once apply went through
    await vi.waitFor(() => expect(point.hit).toBe("after_apply"));
    expect(confirmedCharges(w)).toHaveLength(1);
    const [attempt] = await attemptsOf(sub.id);
    // `unknown`: the worker recorded "charge about to be sent" (under the lock) before its apply.
    expect(attempt).toMatchObject({ status: "unknown" });
    expect(attempt!.externalId).toBe(String(confirmedCharges(w)[0]!.transactionId));

    point.at = "none"; // a healthy worker from here on
    expect(await charge(w, sub)).toMatchObject({ status: "skipped" });
    w.clock.advance(5 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ success: 1 });
    const after = await loadSubscription(sub.id);
    expect(after.endDate.getTime()).toBe(sub.endDate.getTime() + plan.durationDays * DAY);
    expect(await paymentsOf(sub.id)).toHaveLength(1);
    expect(await charge(w, after)).toMatchObject({ status: "skipped", reason: "not due yet" });
    expect(confirmedCharges(w)).toHaveLength(1);
  });

  it("a worker killed before any ATMOS transaction: closed as not charged, then charged once", async () => {
    const point: { at: KillPoint; hit?: KillPoint } = { at: "before_create" };
    world = await createWorld(START, { atmos: killableAtmos(point) });
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    void charge(w, sub);
    await vi.waitFor(() => expect(point.hit).toBe("before_create"));
    expect(await attemptsOf(sub.id)).toHaveLength(1);
    point.at = "none";
    w.clock.advance(5 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ not_charged: 1 });
    const [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({
      status: "failed",
      errorCode: "NOT_CHARGED:worker_lost",
      externalId: null,
    });
    // Not the card's fault: no dunning, the subscription is due again with the next attempt number.
    expect(await loadSubscription(sub.id)).toMatchObject({ status: "active", renewalAttempts: 0 });
    const due = await findDueRenewals(db, { now: w.clock.now(), leadMs: 24 * HOUR, limit: 100 });
    expect(due.find((d) => d.subscriptionId === sub.id)).toMatchObject({ nextAttemptNumber: 2 });
    expect(await charge(w, sub)).toMatchObject({ status: "success" });
    expect(confirmedCharges(w)).toHaveLength(1);
    expect(w.sandbox.ledger()).toHaveLength(1);
  });

  it("a transaction ATMOS never saw applied is checked at 5 min, 1 h, 1 day, then closed as not charged", async () => {
    const point: { at: KillPoint; hit?: KillPoint } = { at: "after_create" };
    world = await createWorld(START, { atmos: killableAtmos(point) });
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    void charge(w, sub);
    await vi.waitFor(() => expect(point.hit).toBe("after_create"));
    expect(Number((await attemptsOf(sub.id))[0]?.externalId)).toBeGreaterThan(0);
    point.at = "none";

    w.clock.advance(5 * MIN);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ rescheduled: 1 });
    let [attempt] = await attemptsOf(sub.id);
    expect(attempt).toMatchObject({ status: "unknown", checkCount: 1 });
    expect(attempt!.nextCheckAt?.toISOString()).toBe(new Date(w.clock.now().getTime() + HOUR).toISOString());
    expect(await charge(w, sub)).toMatchObject({ status: "skipped" });

    w.clock.advance(HOUR);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ rescheduled: 1 });
    [attempt] = await attemptsOf(sub.id);
    expect(attempt!.nextCheckAt?.toISOString()).toBe(new Date(w.clock.now().getTime() + DAY).toISOString());

    w.clock.advance(DAY);
    expect(await runJanitor(w.renewals.ctx)).toMatchObject({ not_charged: 1 });
    expect(confirmedCharges(w)).toHaveLength(0);
    const alert = await w.renewals.notifications.getJob(`ntf-admin_alert-admin-renewal-stuck-${attempt!.id}`);
    expect(alert?.data).toMatchObject({ kind: "admin_alert", alert: "unknown_outcomes" });
    // The period is free again: the next charge goes through exactly once.
    expect(await charge(w, sub)).toMatchObject({ status: "success" });
    expect(confirmedCharges(w)).toHaveLength(1);
  });

  it("never closes as not-charged an attempt whose transaction was recorded after the janitor looked", async () => {
    const point: { at: KillPoint; hit?: KillPoint } = { at: "after_create" };
    world = await createWorld(START, { atmos: killableAtmos(point) });
    const w = world;
    const { sub } = await createSubscriber(w, { endsInMs: 10 * HOUR });
    void charge(w, sub);
    await vi.waitFor(async () =>
      expect(Number((await attemptsOf(sub.id))[0]?.externalId)).toBeGreaterThan(0),
    );
    const [current] = await attemptsOf(sub.id);
    // The janitor's stale read: still pending, no transaction yet.
    expect(await resolveAttempt(w.renewals.ctx, { ...current!, externalId: null })).toBe("already_resolved");
    expect((await attemptsOf(sub.id))[0]).toMatchObject({
      status: "pending",
      externalId: current!.externalId,
    });
  });
});
