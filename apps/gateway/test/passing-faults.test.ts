/**
 * A passing ATMOS fault before money moves never costs the user the payment (issue 18): a 5xx at
 * create, pre-apply, bind-card init/confirm or the token pre-apply is sent again or leaves the
 * session payable; an apply whose answer is unclear is resolved through get and sent once more only
 * when ATMOS shows it never took it (still pre-applied; ATMOS confirms a transaction at most once).
 * Faults are injected in the sandbox over HTTP.
 */
import { createAtmosClient } from "@obuna/atmos";
import type { SandboxConfigPatch } from "@obuna/atmos/sandbox";
import { boundCards, paymentSessions, payments, users } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CONFIRM_RESENDS } from "../src/services/checkout/confirm";
import { PRE_MONEY_ATTEMPTS } from "../src/services/checkout/faults";
import { STORE_ID } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
  SANDBOX_OTP,
  type SandboxCardName,
  sandboxRail,
  startHarness,
  tma,
} from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.sandbox.configure({ faultPath: null, failNext: 0, unrecognisedCodeNext: 0 });
});

/** The next `count` calls to `path` answer an HTML 502 without being processed. */
const fail502 = (path: string, count = 1): SandboxConfigPatch => ({ faultPath: path, failNext: count });

function callsTo(path: string) {
  return h.sandbox.requests().filter((r) => r.path === path).length;
}

/** A prepared card payment whose next `refused` confirms answer an HTML 502 unprocessed, then its apply. */
async function applyAfterRefusedConfirms(card: SandboxCardName, refused: number) {
  const prepared = await prepareSession(h, { card });
  const before = callsTo("/merchant/pay/confirm-with-ofd-list");
  h.sandbox.configure(fail502("/merchant/pay/confirm-with-ofd-list", refused));
  const res = await apply(h, prepared);
  return { prepared, res, confirmsSent: callsTo("/merchant/pay/confirm-with-ofd-list") - before };
}

async function sessionRow(id: string) {
  const [row] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, id));
  return row!;
}

async function paymentRows(sessionId: string) {
  return h.db.db.select().from(payments).where(eq(payments.sessionId, sessionId));
}

function confirmedCharges(transactionId: number) {
  return h.sandbox.ledger().filter((t) => t.transactionId === transactionId && t.state === "confirmed");
}

async function userCards(telegramId: number) {
  const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, telegramId));
  return h.db.db.select().from(boundCards).where(eq(boundCards.userId, user!.id));
}

/** create-link + GET + create, as the Mini App; the fault patch applies to the create call. */
async function createWith(fault: SandboxConfigPatch, autoRenew = false) {
  const telegramId = randomTelegramId();
  const auth = tma(telegramId);
  const link = await createSession(h, telegramId);
  const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth });
  h.sandbox.configure(fault);
  const created = await call(h, "POST", "/api/v1/checkout/create", {
    auth,
    body: { session_id: link.session_id, amount: session.body.data.amount, auto_renew: autoRenew },
  });
  return { telegramId, auth, sessionId: link.session_id, created };
}

async function preApply(
  prepared: { auth: string; sessionId: string; transactionId: number },
  card: SandboxCardName,
) {
  return call(h, "POST", "/api/v1/checkout/pre-apply", {
    auth: prepared.auth,
    body: {
      session_id: prepared.sessionId,
      transaction_id: prepared.transactionId,
      card_number: SANDBOX_CARDS[card].pan,
      expiry: SANDBOX_CARDS[card].expiry,
    },
  });
}

describe("a 5xx before money moves is sent again", () => {
  it("create: one 502 → the transaction is created on the next try (a fresh account)", async () => {
    const before = callsTo("/merchant/pay/create");
    const { created, sessionId } = await createWith(fail502("/merchant/pay/create"));
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(callsTo("/merchant/pay/create") - before).toBe(2);
    const session = await sessionRow(sessionId);
    expect(session.externalId).toBe(String(created.body.data.transaction_id));
    expect(h.sandbox.ledger().find((t) => String(t.transactionId) === session.externalId)?.account).toBe(
      session.providerReference,
    );
  });

  it("pre-apply with the card number: one 502 → the SMS code is sent on the next try", async () => {
    const { created, auth, sessionId } = await createWith({});
    h.sandbox.configure(fail502("/merchant/pay/pre-apply"));
    const pre = await preApply({ auth, sessionId, transactionId: created.body.data.transaction_id }, "humo1");
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    expect((await sessionRow(sessionId)).otpSentAt).not.toBeNull();
  });

  it("bind-card init: one 502 → the binding's SMS code is sent on the next try", async () => {
    const { created, auth, sessionId } = await createWith({}, true);
    const transactionId = created.body.data.transaction_id as number;
    h.sandbox.configure(fail502("/partner/bind-card/init"));
    const pre = await preApply({ auth, sessionId, transactionId }, "humo1");
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    expect((await sessionRow(sessionId)).bindingId).not.toBeNull();
    const res = await apply(h, { auth, sessionId, transactionId });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "completed", card_saved: true });
  });

  it("bind-card confirm: one 502 → the binding is confirmed on the next try, the payment completes", async () => {
    const prepared = await prepareSession(h, { card: "humo2", autoRenew: true });
    h.sandbox.configure(fail502("/partner/bind-card/confirm"));
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "completed", card_saved: true });
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });

  it("the token pre-apply: one 502 → sent again, the payment completes (it used to fail the session)", async () => {
    const prepared = await prepareSession(h, { card: "humo3", autoRenew: true });
    h.sandbox.configure(fail502("/merchant/pay/pre-apply"));
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "completed", card_saved: true });
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    expect((await userCards(prepared.telegramId)).map((c) => c.isActive)).toEqual([true]);
  });
});

describe("a fault that outlasts the retries leaves the session payable", () => {
  it("the token pre-apply failing every try → 503, session pending with its confirmed binding; the next apply pays", async () => {
    const prepared = await prepareSession(h, { card: "humo4", autoRenew: true });
    const confirms = callsTo("/partner/bind-card/confirm");
    h.sandbox.configure(fail502("/merchant/pay/pre-apply", PRE_MONEY_ATTEMPTS));
    const first = await apply(h, prepared);
    expect(first.status, JSON.stringify(first.body)).toBe(503);
    expect(first.body.error.code).toBe("PAYMENT_PROVIDER_UNAVAILABLE");
    const session = await sessionRow(prepared.sessionId);
    expect(session).toMatchObject({ status: "pending", failureReason: null });
    expect(session.bindCardRef).not.toBeNull();
    expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.state).toBe("created");

    // The user presses "pay" again: the spent SMS code is not needed again, only the pre-apply.
    const second = await apply(h, prepared);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.data).toMatchObject({ status: "completed", card_saved: true });
    expect(callsTo("/partner/bind-card/confirm") - confirms).toBe(1);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    expect((await paymentRows(prepared.sessionId)).map((p) => p.status)).toEqual(["success"]);
  });

  it("a bind-card confirm that took effect under a fault → the card is entered again and pays (not a failed session)", async () => {
    const prepared = await prepareSession(h, { card: "uzcard1", autoRenew: true });
    // The confirm binds the card at ATMOS but its answer is unreadable: asked again, ATMOS says "closed".
    h.sandbox.configure({
      faultPath: "/partner/bind-card/confirm",
      unrecognisedCodeNext: 1,
      unrecognisedCodeMode: "after",
    });
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error).toMatchObject({ code: "INVALID_STATE", details: { action: "pre_apply_again" } });
    expect(await sessionRow(prepared.sessionId)).toMatchObject({
      status: "pending",
      otpSentAt: null,
      bindingId: null,
    });

    // Entering the card again finds it bound (ERR-133, with its token); the SMS code then pays.
    const pre = await preApply(prepared, "uzcard1");
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    const paid = await apply(h, prepared);
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body.data).toMatchObject({ status: "completed", card_saved: true });
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });

  it("an apply answered with a 5xx that ATMOS never took: get shows it pre-applied, sent once more, paid once", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    const applies = callsTo("/merchant/pay/confirm-with-ofd-list");
    const gets = callsTo("/merchant/pay/get");
    h.sandbox.configure(fail502("/merchant/pay/confirm-with-ofd-list"));
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");
    expect(callsTo("/merchant/pay/confirm-with-ofd-list") - applies).toBe(2);
    expect(callsTo("/merchant/pay/get") - gets).toBeGreaterThan(0);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    expect((await sessionRow(prepared.sessionId)).status).toBe("completed");
    expect((await paymentRows(prepared.sessionId)).map((p) => p.status)).toEqual(["success"]);
  });

  it("the saved-card apply (auto-renew) answered with a 5xx ATMOS never took is sent once more and pays", async () => {
    const prepared = await prepareSession(h, { card: "humo2", autoRenew: true });
    const applies = callsTo("/merchant/pay/confirm-with-ofd-list");
    h.sandbox.configure(fail502("/merchant/pay/confirm-with-ofd-list"));
    const res = await apply(h, prepared);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ status: "completed", card_saved: true });
    expect(callsTo("/merchant/pay/confirm-with-ofd-list") - applies).toBe(2);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });

  it("two 5xx in a row that ATMOS never took: the apply is sent a third time and pays once", async () => {
    const { prepared, res, confirmsSent } = await applyAfterRefusedConfirms("humo3", 2);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");
    expect(confirmsSent).toBe(1 + CONFIRM_RESENDS);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
    expect((await paymentRows(prepared.sessionId)).map((p) => p.status)).toEqual(["success"]);
  });

  it("the apply is sent again at most CONFIRM_RESENDS times: one more 5xx leaves the session `processing`, payment `unknown`", async () => {
    const { prepared, res, confirmsSent } = await applyAfterRefusedConfirms("uzcard2", 5);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("processing");
    expect(CONFIRM_RESENDS).toBe(2);
    expect(confirmsSent).toBe(3);
    expect((await paymentRows(prepared.sessionId)).map((p) => p.status)).toEqual(["unknown"]);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(0);
  });

  it("an apply that timed out is never sent again, even when get still shows it pre-applied (it may be in flight)", async () => {
    const prepared = await prepareSession(h, { card: "humo2" });
    const applies = callsTo("/merchant/pay/confirm-with-ofd-list");
    h.sandbox.configure({ faultPath: "/merchant/pay/confirm-with-ofd-list", timeoutNext: 1 });
    const res = await apply(h, prepared);
    h.sandbox.configure({ faultPath: null, timeoutNext: 0 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("processing");
    expect(callsTo("/merchant/pay/confirm-with-ofd-list") - applies).toBe(1);
    expect((await paymentRows(prepared.sessionId)).map((p) => p.status)).toEqual(["unknown"]);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(0);
  });

  it("a lost answer of an apply ATMOS charged is never sent again (get shows it confirmed): paid once", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    const applies = callsTo("/merchant/pay/confirm-with-ofd-list");
    h.sandbox.configure({ loseNextApply: 1 });
    const res = await apply(h, prepared);
    h.sandbox.configure({ loseNextApply: 0 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.status).toBe("completed");
    expect(callsTo("/merchant/pay/confirm-with-ofd-list") - applies).toBe(1);
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });

  it("the sandbox confirms a transaction at most once: a second apply of a paid one is refused, nothing charged", async () => {
    const prepared = await prepareSession(h, { card: "humo1" });
    const paid = await apply(h, prepared);
    expect(paid.body.data.status).toBe("completed");
    const { provider } = sandboxRail(
      createAtmosClient({
        baseUrl: h.sandbox.url,
        consumerKey: "sandbox_consumer_key",
        consumerSecret: "sandbox_consumer_secret",
        storeId: STORE_ID,
        timeoutMs: 5_000,
      }),
    );
    await expect(
      provider.confirmPayment({ externalId: String(prepared.transactionId), code: SANDBOX_OTP }),
    ).rejects.toMatchObject({ name: "ProviderError", kind: "payment_closed" });
    expect(confirmedCharges(prepared.transactionId)).toHaveLength(1);
  });
});
