import { boundCards, paymentSessions, premiumEvents, renewalAttempts } from "@obuna/db/schema";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { isUniqueViolation } from "../src/deps";
import {
  completeRenewalPayment,
  completeSessionPayment,
  failRenewalAttempt,
  failSessionPayment,
  holdDuplicatePeriodCharge,
  markAttemptUnknown,
  markSessionPaymentUnknown,
  type RenewalFailure,
  type ReverseResult,
  refundPayment,
  rescheduleAttemptCheck,
  resolveAttemptCharge,
  resolveSessionCharge,
} from "../src/payments";
import {
  at,
  auditRows,
  createAttempt,
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
  outboxRows,
  paymentRows,
  resetDatabase,
  roleOf,
  subscriptionRow,
} from "./fixtures";

afterAll(() => handle.close());
beforeEach(() => resetDatabase());

const charge = (externalId: string) => ({
  externalId,
  settlementId: String(Number(externalId) + 1),
  receiptUrl: "https://ofd.example/receipt",
});
const noCard = async (): Promise<number | null> => null;
const policy = { graceMs: 7 * DAY, retryOffsetsMs: [DAY, 3 * DAY, 5 * DAY] };

async function sessionRow(id: string) {
  const [row] = await db.select().from(paymentSessions).where(eq(paymentSessions.id, id));
  return row!;
}

async function attemptRow(id: number) {
  const [row] = await db.select().from(renewalAttempts).where(eq(renewalAttempts.id, id));
  return row!;
}

function complete(sessionId: string, externalId: string, activateCard = noCard) {
  return db.transaction((tx) =>
    completeSessionPayment(tx, deps, {
      sessionId,
      charge: charge(externalId),
      source: "apply",
      actor: "gateway",
      activateCard,
    }),
  );
}

describe("complete a first payment", () => {
  it("starts the subscription, records the payment, completes the session, audits and owes the message", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    const outcome = await complete(session.id, session.externalId!);
    expect(outcome).toMatchObject({
      status: "completed",
      userId: user.id,
      subscription: "started",
      boundCardId: null,
    });
    if (outcome.status !== "completed") throw new Error("not completed");
    const [payment] = await paymentRows();
    expect(payment).toMatchObject({
      id: outcome.paymentId,
      status: "success",
      kind: "initial",
      amount: session.amount,
      subscriptionId: outcome.subscriptionId,
      idempotencyKey: `session:${session.id}`,
      receiptUrl: "https://ofd.example/receipt",
      periodStart: NOW,
      periodEnd: new Date(NOW.getTime() + 30 * DAY),
    });
    expect(await sessionRow(session.id)).toMatchObject({ status: "completed", completedAt: NOW });
    expect(await roleOf(user.id)).toBe("premium");
    expect((await auditRows()).map((r) => [r.action, r.reason])).toEqual([["payment.succeeded", "apply"]]);
    const outbox = await outboxRows();
    expect(outbox.map((r) => r.jobId)).toEqual(outcome.notificationIds);
    expect(outbox.map((r) => r.kind)).toEqual(["payment_succeeded"]);
  });

  it("completed twice (apply and callback): one payment, one extension", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    const first = await complete(session.id, session.externalId!);
    const second = await complete(session.id, session.externalId!);
    expect(first.status).toBe("completed");
    expect(second).toEqual({ status: "already_completed" });
    if (first.status !== "completed") throw new Error("not completed");
    expect(await paymentRows()).toHaveLength(1);
    expect((await subscriptionRow(first.subscriptionId)).endDate).toEqual(new Date(NOW.getTime() + 30 * DAY));
    expect(await auditRows()).toHaveLength(1);
    expect(await outboxRows()).toHaveLength(1);
  });

  it("turns the pending payment row into the success and renews with the card the cards step returns", async () => {
    const user = await createUser();
    const card = await createCard(user.id);
    const session = await createSession(user.id, { autoRenew: true, bindCardToken: "encrypted" });
    await db.transaction((tx) => markSessionPaymentUnknown(tx, deps, { sessionId: session.id }));
    // no row yet: marking unknown touches nothing
    expect(await paymentRows()).toHaveLength(0);
    const outcome = await complete(session.id, session.externalId!, async () => card.id);
    if (outcome.status !== "completed") throw new Error("not completed");
    expect(await subscriptionRow(outcome.subscriptionId)).toMatchObject({
      autoRenew: true,
      boundCardId: card.id,
    });
    expect(await sessionRow(session.id)).toMatchObject({ bindCardToken: null });
    expect((await paymentRows())[0]).toMatchObject({ boundCardId: card.id });
  });

  it("a second first payment of the same user extends their subscription", async () => {
    const user = await createUser();
    const first = await createSession(user.id);
    const second = await createSession(user.id);
    const a = await complete(first.id, first.externalId!);
    const b = await complete(second.id, second.externalId!);
    if (a.status !== "completed" || b.status !== "completed") throw new Error("not completed");
    expect(b).toMatchObject({ subscription: "extended", subscriptionId: a.subscriptionId });
    expect((await subscriptionRow(a.subscriptionId)).endDate).toEqual(new Date(NOW.getTime() + 60 * DAY));
  });

  it("rolled back, it leaves nothing: no payment, no subscription, no audit, no message", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    await inRolledBackTx((tx) =>
      completeSessionPayment(tx, deps, {
        sessionId: session.id,
        charge: charge(session.externalId!),
        source: "apply",
        actor: "gateway",
        activateCard: noCard,
      }),
    );
    expect(await paymentRows()).toHaveLength(0);
    expect(await sessionRow(session.id)).toMatchObject({ status: "processing" });
    expect(await roleOf(user.id)).toBe("user");
    expect(await auditRows()).toHaveLength(0);
    expect(await outboxRows()).toHaveLength(0);
  });
});

describe("fail and mark unknown (first payment)", () => {
  it("fails the session and its payment once; a completed session is never failed", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    // The attempt recorded before the charge, then an unclear answer.
    await db.execute(
      sql`insert into payments (user_id, session_id, kind, status, amount, idempotency_key)
        values (${user.id}, ${session.id}, 'initial', 'pending', ${session.amount}, ${`session:${session.id}`})`,
    );
    await markSessionPaymentUnknown(db, deps, { sessionId: session.id });
    expect((await paymentRows())[0]).toMatchObject({ status: "unknown", errorCode: "outcome_unknown" });

    const fail = () =>
      db.transaction((tx) =>
        failSessionPayment(tx, deps, {
          sessionId: session.id,
          reason: "never_confirmed",
          message: "ATMOS never confirmed the transaction",
          audit: { actor: "gateway", reason: "maintenance", details: { transactionId: 1 } },
        }),
      );
    expect(await fail()).toEqual({ status: "failed" });
    expect(await fail()).toEqual({ status: "unchanged" });
    expect(await sessionRow(session.id)).toMatchObject({
      status: "failed",
      failureReason: "never_confirmed",
    });
    expect((await paymentRows())[0]).toMatchObject({ status: "failed", errorCode: "never_confirmed" });
    expect((await auditRows()).map((r) => r.action)).toEqual(["payment_session.failed"]);

    const paid = await createSession(user.id);
    await complete(paid.id, paid.externalId!);
    expect(
      await db.transaction((tx) =>
        failSessionPayment(tx, deps, { sessionId: paid.id, reason: "x", message: "x" }),
      ),
    ).toEqual({ status: "unchanged" });
    expect((await sessionRow(paid.id)).status).toBe("completed");
  });

  it("resolves only a confirmed charge as a success", () => {
    expect(resolveSessionCharge("confirmed")).toEqual({ next: "complete" });
    expect(resolveSessionCharge("reversed")).toMatchObject({ next: "fail", reason: "transaction_reversed" });
    expect(resolveSessionCharge("closed")).toMatchObject({ next: "fail", reason: "transaction_closed" });
    expect(resolveSessionCharge("pre_applied")).toEqual({ next: "wait" });
    expect(resolveSessionCharge(null)).toEqual({ next: "wait" });
  });
});

describe("complete a renewal", () => {
  it("extends from the renewed end date once; a repeat is already resolved", async () => {
    const user = await createUser("premium");
    const card = await createCard(user.id);
    const sub = await createSubscription(user.id, { autoRenew: true, boundCardId: card.id, endDate: NOW });
    const attempt = await createAttempt(sub);
    const run = () =>
      db.transaction((tx) =>
        completeRenewalPayment(tx, deps, {
          attemptId: attempt.id,
          subscriptionId: sub.id,
          charge: charge(attempt.externalId!),
        }),
      );
    const first = await run();
    expect(first).toMatchObject({
      status: "completed",
      extended: true,
      newEndDate: new Date(NOW.getTime() + 30 * DAY),
    });
    expect(await run()).toEqual({ status: "already_resolved" });
    expect(await paymentRows()).toHaveLength(1);
    expect((await subscriptionRow(sub.id)).endDate).toEqual(new Date(NOW.getTime() + 30 * DAY));
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "success", resolvedAt: NOW });
    expect((await auditRows()).map((r) => r.action)).toEqual(["renewal.succeeded"]);
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["renewal_succeeded"]);
  });

  it("given another subscription than the attempt's, refuses and writes nothing", async () => {
    const user = await createUser("premium");
    const card = await createCard(user.id);
    const sub = await createSubscription(user.id, { autoRenew: true, boundCardId: card.id, endDate: NOW });
    const other = await createSubscription((await createUser()).id, { endDate: NOW });
    const attempt = await createAttempt(sub);
    const run = (subscriptionId: number) =>
      db.transaction((tx) =>
        completeRenewalPayment(tx, deps, {
          attemptId: attempt.id,
          charge: charge(attempt.externalId!),
          subscriptionId,
        }),
      );
    await expect(run(other.id)).rejects.toThrow(/not of subscription/);
    expect(await paymentRows()).toEqual([]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "unknown" });
    expect(await run(sub.id)).toMatchObject({ status: "completed", extended: true });
    expect((await subscriptionRow(sub.id)).endDate).toEqual(new Date(NOW.getTime() + 30 * DAY));
    expect(await run(sub.id)).toEqual({ status: "already_resolved" });
  });

  it("records premium.renewed with the subscription as the renewal left it (a past-due one is active again)", async () => {
    const user = await createUser("premium");
    const card = await createCard(user.id);
    const sub = await createSubscription(user.id, {
      status: "past_due",
      autoRenew: true,
      boundCardId: card.id,
      endDate: NOW,
      graceUntil: new Date(NOW.getTime() + 3 * DAY),
      renewalAttempts: 2,
    });
    const attempt = await createAttempt(sub);
    await db.transaction((tx) =>
      completeRenewalPayment(tx, deps, {
        attemptId: attempt.id,
        subscriptionId: sub.id,
        charge: charge(attempt.externalId!),
      }),
    );
    const [event] = await db.select().from(premiumEvents).where(eq(premiumEvents.subscriptionId, sub.id));
    expect(event).toMatchObject({ type: "premium.renewed", telegramId: user.telegramId });
    expect(event!.payload).toMatchObject({
      type: "premium.renewed",
      telegram_id: user.telegramId,
      subscription: {
        id: sub.id,
        plan: "monthly",
        status: "active",
        active: true,
        until: new Date(NOW.getTime() + 30 * DAY).toISOString(),
        auto_renew: true,
        rail: "card",
      },
    });
  });

  it("charged for a subscription that expired meanwhile: recorded, not extended, an operator told", async () => {
    const user = await createUser();
    const sub = await createSubscription(user.id, { status: "expired", endDate: NOW });
    const attempt = await createAttempt(sub);
    const outcome = await db.transaction((tx) =>
      completeRenewalPayment(tx, deps, {
        attemptId: attempt.id,
        subscriptionId: sub.id,
        charge: charge(attempt.externalId!),
      }),
    );
    expect(outcome).toMatchObject({ status: "completed", extended: false, newEndDate: null });
    expect(await subscriptionRow(sub.id)).toEqual(sub);
    expect((await auditRows()).map((r) => r.action)).toEqual(["renewal.charged_without_extension"]);
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["admin_alert"]);
  });

  it("a second confirmed charge for a paid period is refused by the database and held for an operator", async () => {
    const user = await createUser();
    const sub = await createSubscription(user.id, { endDate: NOW, autoRenew: true });
    const first = await createAttempt(sub, { attemptNumber: 1 });
    const second = await createAttempt(sub, { attemptNumber: 2 });
    await db.transaction((tx) =>
      completeRenewalPayment(tx, deps, {
        attemptId: first.id,
        subscriptionId: sub.id,
        charge: charge(first.externalId!),
      }),
    );
    const error = await db
      .transaction((tx) =>
        completeRenewalPayment(tx, deps, {
          attemptId: second.id,
          subscriptionId: sub.id,
          charge: charge(second.externalId!),
        }),
      )
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    const held = await db.transaction((tx) =>
      holdDuplicatePeriodCharge(tx, deps, { attemptId: second.id, externalId: second.externalId! }),
    );
    expect(held.status).toBe("held");
    expect(await attemptRow(second.id)).toMatchObject({
      status: "unknown",
      errorCode: "DUPLICATE_PERIOD_CHARGE",
      nextCheckAt: null,
    });
    expect(await paymentRows()).toHaveLength(1);
    expect((await subscriptionRow(sub.id)).endDate).toEqual(new Date(NOW.getTime() + 30 * DAY));
  });
});

describe("fail a renewal", () => {
  const decline: RenewalFailure = {
    code: "51",
    message: "insufficient funds",
    kind: "insufficient_funds",
    isDecline: true,
    hardDecline: false,
  };

  it("a decline makes it past due with grace and plans the retry; a repeat is already resolved", async () => {
    const user = await createUser("premium");
    const sub = await createSubscription(user.id, { endDate: NOW, autoRenew: true });
    const attempt = await createAttempt(sub);
    const run = () =>
      db.transaction((tx) =>
        failRenewalAttempt(tx, deps, { attemptId: attempt.id, failure: decline, policy }),
      );
    const outcome = await run();
    expect(outcome).toMatchObject({
      status: "declined",
      expired: false,
      nextAttemptAt: new Date(NOW.getTime() + DAY),
    });
    expect(await run()).toEqual({ status: "already_resolved" });
    expect(await subscriptionRow(sub.id)).toMatchObject({
      status: "past_due",
      renewalAttempts: 1,
      renewalError: "51",
      graceUntil: new Date(NOW.getTime() + 7 * DAY),
      nextRenewalAt: new Date(NOW.getTime() + DAY),
    });
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", errorCode: "51" });
    expect((await auditRows()).map((r) => r.action)).toEqual(["renewal.declined"]);
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["renewal_failed"]);
    expect(await roleOf(user.id)).toBe("premium");
  });

  it("a hard decline takes the card out; the last decline expires it (decline message, then expiry)", async () => {
    const user = await createUser("premium");
    const card = await createCard(user.id);
    const sub = await createSubscription(user.id, { endDate: NOW, autoRenew: true, boundCardId: card.id });
    const hard = await createAttempt(sub);
    const outcome = await db.transaction((tx) =>
      failRenewalAttempt(tx, deps, {
        attemptId: hard.id,
        failure: { ...decline, hardDecline: true },
        policy,
      }),
    );
    expect(outcome).toMatchObject({
      status: "declined",
      hardDecline: true,
      nextAttemptAt: null,
      expired: false,
    });
    const [cardRow] = await db.select().from(boundCards).where(eq(boundCards.id, card.id));
    expect(cardRow!.isActive).toBe(false);

    const other = await createUser("premium");
    const last = await createSubscription(other.id, { endDate: NOW, autoRenew: true, renewalAttempts: 3 });
    const attempt = await createAttempt(last);
    const expired = await db.transaction((tx) =>
      failRenewalAttempt(tx, deps, { attemptId: attempt.id, failure: decline, policy }),
    );
    expect(expired).toMatchObject({ status: "declined", expired: true, nextAttemptAt: null });
    expect(await subscriptionRow(last.id)).toMatchObject({ status: "expired", autoRenew: false });
    expect(await roleOf(other.id)).toBe("user");
    if (expired.status !== "declined") throw new Error("not declined");
    const kinds = (await outboxRows())
      .filter((r) => expired.notificationIds.includes(r.jobId))
      .map((r) => r.kind);
    expect(kinds).toEqual(["renewal_failed", "subscription_expired"]);
  });

  it("not charged for our own reason: the attempt fails, the subscription is untouched", async () => {
    const user = await createUser();
    const sub = await createSubscription(user.id, { endDate: NOW, autoRenew: true });
    const attempt = await createAttempt(sub, { status: "pending", externalId: null });
    const failure = {
      code: "NOT_CHARGED:timeout",
      message: "x",
      kind: "timeout",
      isDecline: false,
      hardDecline: false,
    };
    expect(
      await db.transaction((tx) => failRenewalAttempt(tx, deps, { attemptId: attempt.id, failure, policy })),
    ).toEqual({ status: "not_charged" });
    expect(await subscriptionRow(sub.id)).toEqual(sub);
    expect(await auditRows()).toHaveLength(0);
  });

  it("marks an unknown outcome and reschedules its checks, never a resolved attempt", async () => {
    const user = await createUser();
    const sub = await createSubscription(user.id, { endDate: NOW });
    const attempt = await createAttempt(sub, { status: "pending", externalId: null });
    await markAttemptUnknown(db, deps, {
      attemptId: attempt.id,
      externalId: "42",
      code: "timeout",
      message: "lost",
    });
    expect(await attemptRow(attempt.id)).toMatchObject({
      status: "unknown",
      externalId: "42",
      nextCheckAt: new Date(NOW.getTime() + 5 * 60_000),
    });
    await rescheduleAttemptCheck(db, deps, { attempt: await attemptRow(attempt.id), note: "still created" });
    expect(await attemptRow(attempt.id)).toMatchObject({
      checkCount: 1,
      nextCheckAt: new Date(NOW.getTime() + 3_600_000),
    });
    await db.update(renewalAttempts).set({ status: "success" }).where(eq(renewalAttempts.id, attempt.id));
    await markAttemptUnknown(db, at(new Date(NOW.getTime() + DAY)), {
      attemptId: attempt.id,
      externalId: "43",
      code: "x",
      message: "x",
    });
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "success", externalId: "42" });
  });

  it("resolves from the provider's state", () => {
    const unknown = { status: "unknown" as const, checkCount: 0 };
    const state = (s: "confirmed" | "closed" | "reversed" | "created") => ({
      state: s,
      statusCode: null,
      statusMessage: null,
    });
    expect(resolveAttemptCharge(unknown, state("confirmed"))).toEqual({ next: "complete" });
    expect(resolveAttemptCharge(unknown, state("reversed"))).toMatchObject({
      next: "fail",
      giveUp: false,
      failure: { code: "ATMOS_REVERSED", isDecline: true },
    });
    expect(resolveAttemptCharge({ status: "pending", checkCount: 0 }, state("closed"))).toMatchObject({
      failure: { code: "ATMOS_CLOSED", isDecline: false },
    });
    expect(resolveAttemptCharge(unknown, state("created"))).toEqual({ next: "wait" });
    expect(resolveAttemptCharge({ status: "unknown", checkCount: 2 }, state("created"))).toMatchObject({
      next: "fail",
      giveUp: true,
      failure: { code: "NOT_CHARGED:never_applied" },
    });
  });
});

describe("refund", () => {
  async function paidSession() {
    const user = await createUser();
    const session = await createSession(user.id);
    const done = await complete(session.id, session.externalId!);
    if (done.status !== "completed") throw new Error("not completed");
    return { user, ...done };
  }
  const by = { actor: "admin:1", reason: "customer asked", details: { via: "api" } };

  it("reverses, takes the period back, audits and owes the message; a second refund is refused without a call", async () => {
    const { user, paymentId, subscriptionId } = await paidSession();
    const calls: string[] = [];
    const reverse = async (payment: { settlementId: string }): Promise<ReverseResult> => {
      calls.push(payment.settlementId);
      return { status: "reversed" };
    };
    const later = at(new Date(NOW.getTime() + 60_000));
    const first = await db.transaction((tx) => refundPayment(tx, later, { paymentId, by, reverse }));
    expect(first).toMatchObject({ status: "refunded", subscriptionId, period: { expired: true } });
    const second = await db.transaction((tx) => refundPayment(tx, later, { paymentId, by, reverse }));
    expect(second).toMatchObject({ status: "already_refunded" });
    expect(calls).toHaveLength(1);
    expect((await paymentRows())[0]).toMatchObject({ status: "reversed", reverseReason: "customer asked" });
    expect((await subscriptionRow(subscriptionId)).status).toBe("expired");
    expect(await roleOf(user.id)).toBe("user");
    const audits = (await auditRows()).map((r) => r.action);
    expect(audits).toEqual(["payment.succeeded", "payment.refunded"]);
    expect((await outboxRows()).map((r) => r.kind)).toEqual(["payment_succeeded", "payment_refunded"]);
  });

  it("an unclear or refused reverse changes nothing", async () => {
    const { paymentId, subscriptionId } = await paidSession();
    const before = await subscriptionRow(subscriptionId);
    const unknown = await db.transaction((tx) =>
      refundPayment(tx, deps, {
        paymentId,
        by,
        reverse: async () => ({ status: "unknown", error: "timeout" }),
      }),
    );
    expect(unknown).toMatchObject({ status: "provider_unknown", error: "timeout" });
    const refused = await db.transaction((tx) =>
      refundPayment(tx, deps, {
        paymentId,
        by,
        reverse: async () => ({ status: "not_reversed", error: "no" }),
      }),
    );
    expect(refused).toEqual({ status: "provider_refused", error: "no" });
    expect((await paymentRows())[0]!.status).toBe("success");
    expect(await subscriptionRow(subscriptionId)).toEqual(before);
    expect((await auditRows()).map((r) => r.action)).toEqual(["payment.succeeded"]);
  });

  it("only a successful payment can be refunded", async () => {
    const user = await createUser();
    const session = await createSession(user.id);
    await db.execute(
      sql`insert into payments (user_id, session_id, kind, status, amount, idempotency_key)
        values (${user.id}, ${session.id}, 'initial', 'failed', ${session.amount}, ${`session:${session.id}`})`,
    );
    const [payment] = await paymentRows();
    const outcome = await db.transaction((tx) =>
      refundPayment(tx, deps, { paymentId: payment!.id, by, reverse: async () => ({ status: "reversed" }) }),
    );
    expect(outcome).toEqual({ status: "not_refundable", paymentStatus: "failed" });
    expect(
      await db.transaction((tx) =>
        refundPayment(tx, deps, { paymentId: 99999, by, reverse: async () => ({ status: "reversed" }) }),
      ),
    ).toEqual({ status: "not_found" });
  });
});
