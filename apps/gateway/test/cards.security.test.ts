// Whose card is it? ATMOS keeps ONE binding (card id + token) per card for the merchant, whoever
// typed the card, and bind-card/init answers ERR-133 with that token to anyone who types the card
// number and expiry (UzCard/Humo have no CVV). These tests play the attacker (user B with user A's
// card number) against the real gateway, the real database and the ATMOS sandbox over HTTP:
//  - B gets no card row until B's own payment with that card completes;
//  - success activates only the card the session bound (by ATMOS card id), and only if the card ATMOS
//    charged (the transaction's card id) is that card, whichever path finalizes (apply, GET re-check);
//  - removing a card at ATMOS (user, admin) happens only when no other live row shares its card id.
import { createAtmosClient } from "@obuna/atmos";
import { encryptCardToken } from "@obuna/db";
import { auditLog, boundCards, paymentSessions, payments, subscriptions, users } from "@obuna/db/schema";
import { and, eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { chargedCardIs } from "../src/services/payment-flow";
import { STORE_ID } from "./constants";
import {
  apply,
  call,
  type Harness,
  type Json,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
  type SandboxCardName,
  sandboxRail,
  startHarness,
  testGatewayConfig,
  tma,
} from "./harness";

const ADMIN_TOKEN = "gateway-test-admin-token-cards-0123456789";

let h: Harness;
let adminApp: ReturnType<typeof createApp>;
let atmos: ReturnType<typeof createAtmosClient>;

beforeAll(async () => {
  h = await startHarness();
  atmos = createAtmosClient({
    baseUrl: h.sandbox.url,
    consumerKey: "sandbox_consumer_key",
    consumerSecret: "sandbox_consumer_secret",
    storeId: STORE_ID,
    timeoutMs: 5_000,
  });
  adminApp = createApp(
    {
      db: h.db.db,
      ...sandboxRail(atmos),
      notificationsQueue: h.queue,
      redis: h.redis,
      logger: pino({ level: "silent" }),
      clock: () => new Date(Date.now() + h.clock.offsetMs),
      config: testGatewayConfig(),
    },
    { admin: { adminToken: ADMIN_TOKEN, telegramIds: [424242], sessionTtlS: 3600 } },
  );
});
afterAll(async () => {
  await h?.close();
});

async function userId(telegramId: number) {
  const [user] = await h.db.db.select().from(users).where(eq(users.telegramId, telegramId));
  return user!.id;
}

async function cardRowsOf(telegramId: number) {
  return h.db.db
    .select()
    .from(boundCards)
    .where(eq(boundCards.userId, await userId(telegramId)));
}

async function sessionRow(sessionId: string) {
  const [row] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  return row!;
}

/** A completed auto-renew payment: the user's card row for that sandbox card. */
async function ownCard(card: SandboxCardName, telegramId = randomTelegramId()) {
  const prepared = await prepareSession(h, { card, autoRenew: true, telegramId });
  expect(prepared.pre.status).toBe(200);
  const res = await apply(h, prepared);
  expect(res.body.data, JSON.stringify(res.body)).toMatchObject({ status: "completed", card_saved: true });
  const [row] = await cardRowsOf(telegramId);
  return { telegramId, auth: prepared.auth, card: row! };
}

async function atmosHolds(cardRef: string) {
  return (await atmos.listCards()).some((card) => String(card.cardId) === cardRef);
}

async function auditOf(action: string, entityId: string) {
  return h.db.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.entityId, entityId)));
}

function preApplyAs(auth: string, sessionId: string, transactionId: number, card: SandboxCardName) {
  return call(h, "POST", "/api/v1/atmos/pre-apply", {
    auth,
    body: {
      session_id: sessionId,
      transaction_id: transactionId,
      card_number: SANDBOX_CARDS[card].pan,
      expiry: SANDBOX_CARDS[card].expiry,
    },
  });
}

describe("another user's saved card (ERR-133)", () => {
  it("user B types user A's card and walks away: B gets no card row, only the session holds the binding", async () => {
    const a = await ownCard("uzcard2");
    const b = await prepareSession(h, { card: "uzcard2", autoRenew: true });
    expect(b.pre.status, JSON.stringify(b.pre.body)).toBe(200);

    expect(await cardRowsOf(b.telegramId)).toEqual([]);
    const session = await sessionRow(b.sessionId);
    expect(session.bindCardRef).toBe(a.card.cardRef);
    expect(session.bindCardToken?.startsWith("v1.")).toBe(true);

    // B cannot produce A's SMS code: still nothing for B.
    expect((await apply(h, b, "000000")).body.error.code).toBe("WRONG_OTP");
    expect(await cardRowsOf(b.telegramId)).toEqual([]);
    const listed = await call(h, "GET", `/api/v1/user/${b.telegramId}/cards`, { auth: b.auth });
    expect(listed.body.data.cards).toEqual([]);
    // A's card is untouched.
    const [aCard] = await cardRowsOf(a.telegramId);
    expect(aCard).toMatchObject({ id: a.card.id, isActive: true, removedAt: null });
  });

  it("wrong-code race in a second pre-apply: B pays on B's card, A's card is never activated for B", async () => {
    const a = await ownCard("humo1");
    const b = await prepareSession(h, { card: "humo2", autoRenew: true });
    expect(b.pre.status).toBe(200);
    // A wrong code on B's own card, then a second card entry: A's card (ERR-133, SMS to A).
    expect((await apply(h, b, "000000")).body.error.code).toBe("WRONG_OTP");
    const second = await preApplyAs(b.auth, b.sessionId, b.transactionId, "humo1");
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    // The race: a concurrent pre-apply with B's own card reached ATMOS last (its database write
    // lost), so ATMOS sends B the code for B's card while the session names A's card.
    await atmos.preApplyCard({
      transactionId: b.transactionId,
      cardNumber: SANDBOX_CARDS.humo2.pan,
      expiry: SANDBOX_CARDS.humo2.expiry,
    });

    const paid = await apply(h, b);
    expect(paid.status).toBe(200);
    // B paid (on B's card) and gets the period, but no card, and no auto-renew on A's card.
    expect(paid.body.data).toMatchObject({ status: "completed", card_saved: false });
    expect(await cardRowsOf(b.telegramId)).toEqual([]);
    const [sub] = await h.db.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.userId, await userId(b.telegramId)));
    expect(sub).toMatchObject({ autoRenew: false, boundCardId: null });
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, b.sessionId));
    expect(payment).toMatchObject({ status: "success", boundCardId: null });
    const [refused] = await auditOf("card.binding_refused", b.sessionId);
    expect(refused).toMatchObject({ actor: "gateway", entityType: "payment_session" });
    expect(refused!.details).toMatchObject({
      boundAtmosCardId: a.card.cardRef,
      chargedCard: "986009******3213",
    });
    expect(h.logLines.some((line) => line.includes("SECURITY: ATMOS charged another card"))).toBe(true);
    // A's card row is A's alone, as it was.
    const aRows = await cardRowsOf(a.telegramId);
    expect(aRows).toEqual([expect.objectContaining({ id: a.card.id, isActive: true, removedAt: null })]);
    const owners = await h.db.db.select().from(boundCards).where(eq(boundCards.cardRef, a.card.cardRef));
    expect(owners.map((row) => row.userId)).toEqual([await userId(a.telegramId)]);
  });
});

describe("one card entry at a time per session", () => {
  it("concurrent pre-applies (A's card, B's card): one wins, the other and an apply are refused; ATMOS and the session agree", async () => {
    const a = await ownCard("humo2");
    const link = await prepareSession(h, { card: "humo4", autoRenew: true });
    expect(link.pre.status).toBe(200);
    h.sandbox.configure({ latencyMs: 300 });
    try {
      const attempts = await Promise.all([
        preApplyAs(link.auth, link.sessionId, link.transactionId, "humo2"),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
          preApplyAs(link.auth, link.sessionId, link.transactionId, "uzcard2"),
        ),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() => apply(h, link)),
      ]);
      expect(attempts.map((r) => r.status)).toEqual([200, 409, 409]);
      expect(attempts[1]!.body.error.code).toBe("INVALID_STATE");
      expect(attempts[2]!.body.error.code).toBe("INVALID_STATE");
    } finally {
      h.sandbox.configure({ latencyMs: 0 });
    }
    const session = await sessionRow(link.sessionId);
    expect(session).toMatchObject({ bindCardRef: a.card.cardRef, cardEntryUntil: null, status: "pending" });
    const [ledger] = h.sandbox.ledger().filter((t) => t.transactionId === link.transactionId);
    expect(ledger!.cardMask).toBe(session.cardMasked);
    // The entry is over: the next card entry is accepted.
    const next = await preApplyAs(link.auth, link.sessionId, link.transactionId, "humo4");
    expect(next.status, JSON.stringify(next.body)).toBe(200);
  });
});

describe("success activates exactly the session's card", () => {
  /** A session of a new user whose pending binding is `bound`'s card, left `processing` as by a lost apply. */
  async function lostApply(boundCard: SandboxCardName) {
    const c = await prepareSession(h, { card: boundCard, autoRenew: true });
    expect(c.pre.status).toBe(200);
    await h.db.db
      .update(paymentSessions)
      .set({ status: "processing" })
      .where(eq(paymentSessions.id, c.sessionId));
    return c;
  }

  async function finishByGet(c: { sessionId: string; auth: string }) {
    h.clock.offsetMs = 3 * 60_000;
    try {
      const res = await call(h, "GET", `/api/v1/payment/session/${c.sessionId}`, { auth: c.auth });
      expect(res.body.data.status).toBe("completed");
    } finally {
      h.clock.offsetMs = 0;
    }
  }

  it("GET re-check: ATMOS charged another card id → payment kept, card not activated, audited", async () => {
    const d = await ownCard("humo3");
    const c = await lostApply("humo3");
    // The transaction was charged on another card than the one the session bound.
    await atmos.preApplyCard({
      transactionId: c.transactionId,
      cardNumber: SANDBOX_CARDS.humo2.pan,
      expiry: SANDBOX_CARDS.humo2.expiry,
    });
    expect((await atmos.apply({ transactionId: c.transactionId, otp: "111111" })).confirmed).toBe(true);
    await finishByGet(c);

    expect(await cardRowsOf(c.telegramId)).toEqual([]);
    expect(await auditOf("card.binding_refused", c.sessionId)).toHaveLength(1);
    // The unused token stays on the session for the erasure job (renewals maintenance).
    expect((await sessionRow(c.sessionId)).bindCardToken).not.toBeNull();
    expect(await atmosHolds(d.card.cardRef)).toBe(true);
  });

  it("GET re-check: ATMOS charged the bound card → that card (by ATMOS card id) becomes the user's", async () => {
    const d = await ownCard("humo3", randomTelegramId());
    const c = await lostApply("humo3");
    expect((await atmos.apply({ transactionId: c.transactionId, otp: "111111" })).confirmed).toBe(true);
    await finishByGet(c);

    const rows = await cardRowsOf(c.telegramId);
    expect(rows).toEqual([
      expect.objectContaining({ cardRef: d.card.cardRef, isActive: true, removedAt: null }),
    ]);
    expect(rows[0]!.cardToken?.startsWith("v1.")).toBe(true);
    const [sub] = await h.db.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.userId, await userId(c.telegramId)));
    expect(sub).toMatchObject({ autoRenew: true, boundCardId: rows[0]!.id });
    // The token moved to the card row: the session no longer holds it.
    expect((await sessionRow(c.sessionId)).bindCardToken).toBeNull();
    expect(await auditOf("card.binding_refused", c.sessionId)).toHaveLength(0);
  });

  it("the charged-card rule reads every form of store_transaction.card_id", () => {
    const key = testGatewayConfig().cardTokenKey;
    const bound = { cardRef: "42", panMasked: "986009******4364", cardToken: "not-a-ciphertext" };
    expect(chargedCardIs("42", bound, key)).toBe(true);
    expect(chargedCardIs("43", bound, key)).toBe(false);
    expect(chargedCardIs("986009******4364", bound, key)).toBe(true);
    expect(chargedCardIs("986009 ****** 4364", bound, key)).toBe(true);
    expect(chargedCardIs("986009******4365", bound, key)).toBe(false);
    expect(chargedCardIs("986009******3213", bound, key)).toBe(false);
    expect(chargedCardIs(null, bound, key)).toBe(false);
    expect(chargedCardIs("", bound, key)).toBe(false);
    expect(chargedCardIs("9860090101014364", bound, key)).toBe(false);
    expect(chargedCardIs("SOMETOKEN", bound, key)).toBe(false);
    const token = "5B1C0FFEE5B1C0FFEE5B1C0FFEE5B1C0";
    expect(chargedCardIs(token, { ...bound, cardToken: encryptCardToken(token, key) }, key)).toBe(true);
  });
});

describe("shared bindings at ATMOS", () => {
  /** Two users with a live row each for the same ATMOS card (both paid with it, SMS code included). */
  async function sharedCard(card: SandboxCardName) {
    const first = await ownCard(card);
    const second = await ownCard(card);
    expect(second.card.cardRef).toBe(first.card.cardRef);
    expect(await atmosHolds(first.card.cardRef)).toBe(true);
    return { first, second, atmosCardId: first.card.cardRef };
  }

  it("user removal: only retired here while another live row shares the card; removed at ATMOS by the last one", async () => {
    const { first, second, atmosCardId } = await sharedCard("uzcard1");
    const removed = await call(h, "DELETE", `/api/v1/user/${second.telegramId}/cards/${second.card.id}`, {
      auth: tma(second.telegramId),
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.data.cards).toEqual([]);
    expect(await atmosHolds(atmosCardId)).toBe(true);
    const [kept] = await auditOf("card.removed", String(second.card.id));
    expect(kept!.details).toMatchObject({ atmos: "kept: shared with a live card row" });
    // The other user's card still charges: its token is alive at ATMOS.
    const [firstRow] = await cardRowsOf(first.telegramId);
    expect(firstRow).toMatchObject({ isActive: true, removedAt: null });

    const last = await call(h, "DELETE", `/api/v1/user/${first.telegramId}/cards/${first.card.id}`, {
      auth: tma(first.telegramId),
    });
    expect(last.status).toBe(200);
    expect(await atmosHolds(atmosCardId)).toBe(false);
    const [gone] = await auditOf("card.removed", String(first.card.id));
    expect(gone!.details).toMatchObject({ atmos: "removed" });
  });

  it("admin removal: only retired here while another live row shares the card; removed at ATMOS by the last one", async () => {
    const { first, second, atmosCardId } = await sharedCard("humo4");
    const remove = async (cardRowId: number) => {
      const res = await adminApp.request(`/api/v1/admin/cards/${cardRowId}/remove`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ reason: "fraud report" }),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const kept = await remove(first.card.id);
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body.data.card.removed_at).not.toBeNull();
    expect(await atmosHolds(atmosCardId)).toBe(true);
    const [secondRow] = await cardRowsOf(second.telegramId);
    expect(secondRow).toMatchObject({ isActive: true, removedAt: null });

    expect((await remove(second.card.id)).status).toBe(200);
    expect(await atmosHolds(atmosCardId)).toBe(false);
  });
});
