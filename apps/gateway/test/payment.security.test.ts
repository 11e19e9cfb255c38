import { createHash, createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idempotencyRequestHash } from "../src/middleware/idempotency";
import { BOT_TOKEN, IDEMPOTENCY_HASH_KEY } from "./constants";
import {
  apply,
  call,
  createSession,
  type Harness,
  internalAuth,
  type Json,
  prepareSession,
  randomTelegramId,
  SANDBOX_CARDS,
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

function expectCode(res: { status: number; body: Json }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
}

describe("authentication", () => {
  it("missing Authorization is 401", async () => {
    const link = await createSession(h, randomTelegramId());
    expectCode(await call(h, "GET", `/api/v1/payment/session/${link.session_id}`), 401, "UNAUTHORIZED");
    expectCode(
      await call(h, "POST", "/api/v1/payment/create-link", {
        body: { telegram_id: 1, plan_slug: "monthly" },
      }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("a bad internal token is 401", async () => {
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: "Bearer not-the-token",
      body: { telegram_id: 1, plan_slug: "monthly" },
    });
    expectCode(res, 401, "UNAUTHORIZED");
  });

  it("forged, tampered or expired initData is 401", async () => {
    const telegramId = randomTelegramId();
    const link = await createSession(h, telegramId);
    const path = `/api/v1/payment/session/${link.session_id}`;
    expectCode(
      await call(h, "GET", path, { auth: tma(telegramId, { botToken: "999:other-bot" }) }),
      401,
      "UNAUTHORIZED",
    );
    const tampered = tma(telegramId).replace(
      encodeURIComponent(`"id":${telegramId}`),
      encodeURIComponent(`"id":${telegramId + 1}`),
    );
    expectCode(await call(h, "GET", path, { auth: tampered }), 401, "UNAUTHORIZED");
    const old = tma(telegramId, { authDate: new Date(Date.now() - 2 * 3600_000) });
    const expired = await call(h, "GET", path, { auth: old });
    expectCode(expired, 401, "UNAUTHORIZED");
    expect(expired.body.error.details).toEqual({ reason: "expired" });
    expectCode(await call(h, "GET", path, { auth: "tma garbage" }), 401, "UNAUTHORIZED");
    expectCode(await call(h, "GET", path, { auth: `tma dev:${telegramId}` }), 401, "UNAUTHORIZED");
    expectCode(await call(h, "GET", path, { auth: "Basic abc" }), 401, "UNAUTHORIZED");
    expect((await call(h, "GET", path, { auth: tma(telegramId) })).status).toBe(200);
  });

  it("a Mini App user cannot call create-link", async () => {
    const telegramId = randomTelegramId();
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: tma(telegramId),
      body: { telegram_id: telegramId, plan_slug: "monthly" },
    });
    expectCode(res, 403, "FORBIDDEN");
  });

  it("the development switch accepts `tma dev:<id>` only when it is on", async () => {
    const dev = await startHarness({ devAllowUnsignedInitData: true }, { resetData: false });
    try {
      const telegramId = randomTelegramId();
      const link = await createSession(dev, telegramId);
      const res = await call(dev, "GET", `/api/v1/payment/session/${link.session_id}`, {
        auth: `tma dev:${telegramId}`,
      });
      expect(res.status).toBe(200);
      const other = await call(dev, "GET", `/api/v1/payment/session/${link.session_id}`, {
        auth: `tma dev:${telegramId + 1}`,
      });
      expectCode(other, 404, "SESSION_NOT_FOUND");
    } finally {
      await dev.close();
    }
  });
});

/** Status, code and message of an answer: what a prober sees (the request id always differs). */
function visible(res: { status: number; body: Json }) {
  return { status: res.status, code: res.body.error?.code, message: res.body.error?.message };
}

describe("ownership (no oracle: another user's resource answers exactly like a missing one)", () => {
  it("another user's session answers the same 404 as a session that does not exist, at every step", async () => {
    const victim = await prepareSession(h);
    const attacker = tma(randomTelegramId());
    const missing = "00000000-0000-4000-8000-000000000000";
    const steps = (sessionId: string) => [
      call(h, "GET", `/api/v1/payment/session/${sessionId}`, { auth: attacker }),
      call(h, "POST", "/api/v1/checkout/create", {
        auth: attacker,
        body: { session_id: sessionId, amount: victim.amount, auto_renew: false },
      }),
      call(h, "POST", "/api/v1/checkout/pre-apply", {
        auth: attacker,
        body: {
          session_id: sessionId,
          transaction_id: victim.transactionId,
          card_number: "9860090101893213",
          expiry: "02/28",
        },
      }),
      apply(h, { ...victim, sessionId, auth: attacker }),
      call(h, "POST", "/api/v1/checkout/resend-otp", {
        auth: attacker,
        body: { session_id: sessionId, transaction_id: victim.transactionId },
      }),
    ];
    const theirs = await Promise.all(steps(victim.sessionId));
    const none = await Promise.all(steps(missing));
    for (const [i, res] of theirs.entries()) {
      expectCode(res, 404, "SESSION_NOT_FOUND");
      expect(visible(res)).toEqual(visible(none[i]!));
    }
    // The victim can still pay.
    expect((await apply(h, victim)).body.data.status).toBe("completed");
  });

  it("another user's payments, subscription, cards and subscription actions answer like missing ones (404)", async () => {
    const victim = await prepareSession(h, { card: "humo3", autoRenew: true });
    expect((await apply(h, victim)).status).toBe(200);
    const attacker = tma(randomTelegramId());
    const nobody = randomTelegramId();
    for (const path of ["payments", "subscription", "cards"]) {
      const theirs = await call(h, "GET", `/api/v1/user/${victim.telegramId}/${path}`, { auth: attacker });
      expectCode(theirs, 404, "USER_NOT_FOUND");
      const none = await call(h, "GET", `/api/v1/user/${nobody}/${path}`, { auth: tma(nobody) });
      expect(visible(theirs)).toEqual(visible(none));
    }
    const sub = await call(h, "GET", `/api/v1/user/${victim.telegramId}/subscription`, {
      auth: internalAuth,
    });
    const subId = sub.body.data.subscription.id;
    for (const action of ["cancel", "resume"]) {
      const theirs = await call(h, "POST", `/api/v1/subscription/${subId}/${action}`, { auth: attacker });
      expectCode(theirs, 404, "SUBSCRIPTION_NOT_FOUND");
      const none = await call(h, "POST", `/api/v1/subscription/999999999/${action}`, { auth: attacker });
      expect(visible(theirs)).toEqual(visible(none));
    }
    const cardId = sub.body.data.subscription.card.id;
    const attackerId = randomTelegramId();
    await createSession(h, attackerId);
    const theirCard = await call(h, "DELETE", `/api/v1/user/${attackerId}/cards/${cardId}`, {
      auth: tma(attackerId),
    });
    expectCode(theirCard, 404, "CARD_NOT_FOUND");
    const noCard = await call(h, "DELETE", `/api/v1/user/${attackerId}/cards/999999999`, {
      auth: tma(attackerId),
    });
    expect(visible(theirCard)).toEqual(visible(noCard));
    // The victim's card survived, and the bot may still read anyone's data.
    const cards = await call(h, "GET", `/api/v1/user/${victim.telegramId}/cards`, { auth: internalAuth });
    expect(cards.status).toBe(200);
    expect(cards.body.data.cards.map((c: Json) => c.id)).toContain(cardId);
  });

  it("the session view carries no internal sequential id (no user_id)", async () => {
    const prepared = await prepareSession(h);
    const res = await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, {
      auth: prepared.auth,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).not.toHaveProperty("user_id");
    expect(Object.keys(res.body.data).filter((key) => /(^|_)user/.test(key))).toEqual([]);
  });

  it("idempotency keys are scoped per caller", async () => {
    const a = randomTelegramId();
    const b = randomTelegramId();
    const linkA = await createSession(h, a);
    const linkB = await createSession(h, b);
    const key = "shared-key-1";
    const ra = await call(h, "POST", "/api/v1/checkout/create", {
      auth: tma(a),
      body: { session_id: linkA.session_id, amount: 2_900_000, auto_renew: false },
      headers: { "idempotency-key": key },
    });
    const rb = await call(h, "POST", "/api/v1/checkout/create", {
      auth: tma(b),
      body: { session_id: linkB.session_id, amount: 2_900_000, auto_renew: false },
      headers: { "idempotency-key": key },
    });
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    expect(rb.body.data.session_id).toBe(linkB.session_id);
  });
});

describe("secrets stay out of logs and answers", () => {
  it("no card number, OTP, token or initData hash in any log line", async () => {
    const prepared = await prepareSession(h, { card: "humo4", autoRenew: true });
    await apply(h, prepared, "000000");
    await apply(h, prepared);
    const logs = h.logLines.join("\n");
    expect(logs).not.toContain("9860090101469915");
    expect(logs).not.toContain(BOT_TOKEN);
    expect(logs).not.toMatch(/tma query_id/);
    expect(logs).not.toContain("gateway-test-internal-token");
  });
});

describe("idempotency records keep no recoverable card data", () => {
  it("masks card numbers only where they stand alone: digits inside an id are hashed as they are", () => {
    const endpoint = "POST /api/v1/checkout/pre-apply";
    const body = (sessionId: string, cardNumber: string) =>
      JSON.stringify({ session_id: sessionId, transaction_id: 5, card_number: cardNumber, expiry: "02/28" });
    // Two sessions whose ids differ only inside a long run of digit-only UUID segments.
    const one = body("0a000000-1111-4222-8333-444455556666", "8600490744313347");
    const other = body("0a000000-1191-4222-8333-444455556666", "8600490744313347");
    expect(idempotencyRequestHash(IDEMPOTENCY_HASH_KEY, endpoint, one)).not.toBe(
      idempotencyRequestHash(IDEMPOTENCY_HASH_KEY, endpoint, other),
    );
    // The card number itself, plain or grouped, is masked either way.
    const grouped = body("0a000000-1111-4222-8333-444455556666", "8600 4907 4431 3347");
    expect(idempotencyRequestHash(IDEMPOTENCY_HASH_KEY, endpoint, grouped)).toBe(
      idempotencyRequestHash(
        IDEMPOTENCY_HASH_KEY,
        endpoint,
        body("0a000000-1111-4222-8333-444455556666", "860049******3347"),
      ),
    );
  });

  it("a pre-apply's stored request_hash is keyed and computed with the card number masked", async () => {
    const telegramId = randomTelegramId();
    const auth = tma(telegramId);
    const link = await createSession(h, telegramId);
    const created = await call(h, "POST", "/api/v1/checkout/create", {
      auth,
      body: { session_id: link.session_id, amount: 2_900_000, auto_renew: false },
    });
    expect(created.status).toBe(200);
    const card = SANDBOX_CARDS.uzcard2;
    const body = {
      session_id: link.session_id,
      transaction_id: created.body.data.transaction_id,
      card_number: card.pan,
      expiry: card.expiry,
    };
    const key = "pre-apply-hash-check";
    const first = await call(h, "POST", "/api/v1/checkout/pre-apply", {
      auth,
      body,
      headers: { "idempotency-key": key },
    });
    expect(first.status).toBe(200);
    const [row] = await h.db.client<{ request_hash: string }[]>`
      select request_hash from idempotency_keys where scope = ${`tg:${telegramId}`} and key = ${key}`;
    const endpoint = "POST /api/v1/checkout/pre-apply";
    const text = `${endpoint}\n${JSON.stringify(body)}`;
    // Neither the old unkeyed hash nor an HMAC of the body with the card number in it (a leaked key
    // plus a database copy would brute-force that one back to the number).
    expect(row!.request_hash).not.toBe(createHash("sha256").update(text).digest("hex"));
    expect(row!.request_hash).not.toBe(createHmac("sha256", IDEMPOTENCY_HASH_KEY).update(text).digest("hex"));
    const masked = text.replace(card.pan, "860049******3347");
    expect(row!.request_hash).toBe(createHmac("sha256", IDEMPOTENCY_HASH_KEY).update(masked).digest("hex"));

    // The expiry is still part of the request: the same key with another expiry is refused.
    const otherExpiry = await call(h, "POST", "/api/v1/checkout/pre-apply", {
      auth,
      body: { ...body, expiry: "11/29" },
      headers: { "idempotency-key": key },
    });
    expect(otherExpiry.status).toBe(422);
    expect(otherExpiry.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // The same card typed in groups of four is the same request: the stored answer is replayed.
    const grouped = await call(h, "POST", "/api/v1/checkout/pre-apply", {
      auth,
      body: { ...body, card_number: "8600 4907 4431 3347" },
      headers: { "idempotency-key": key },
    });
    expect(grouped.headers.get("idempotent-replayed")).toBe("true");
    expect(grouped.body).toEqual(first.body);
  });
});

describe("least privilege for the internal token (the bot's Bearer)", () => {
  it("every /checkout/* route and card removal refuse it with 403, before anything happens", async () => {
    const victim = await prepareSession(h, { card: "humo2", autoRenew: true });
    const atmosBefore = h.sandbox.requests().length;
    const body = { session_id: victim.sessionId, transaction_id: victim.transactionId };
    const refused = [
      await call(h, "POST", "/api/v1/checkout/create", {
        auth: internalAuth,
        body: { session_id: victim.sessionId, amount: victim.amount, auto_renew: false },
      }),
      await call(h, "POST", "/api/v1/checkout/pre-apply", {
        auth: internalAuth,
        body: { ...body, card_number: "9860090101893213", expiry: "02/28" },
      }),
      await call(h, "POST", "/api/v1/checkout/resend-otp", { auth: internalAuth, body }),
      await call(h, "POST", "/api/v1/checkout/apply", {
        auth: internalAuth,
        body: { ...body, otp: "111111" },
      }),
    ];
    for (const res of refused) expectCode(res, 403, "FORBIDDEN");
    expect(h.sandbox.requests().length).toBe(atmosBefore);
    // The victim pays; the bot still cannot remove the saved card.
    expect((await apply(h, victim)).body.data.status).toBe("completed");
    const cards = await call(h, "GET", `/api/v1/user/${victim.telegramId}/cards`, { auth: internalAuth });
    expect(cards.status).toBe(200);
    const cardId = cards.body.data.cards[0].id;
    expectCode(
      await call(h, "DELETE", `/api/v1/user/${victim.telegramId}/cards/${cardId}`, { auth: internalAuth }),
      403,
      "FORBIDDEN",
    );
    const after = await call(h, "GET", `/api/v1/user/${victim.telegramId}/cards`, { auth: internalAuth });
    expect(after.body.data.cards.map((c: Json) => c.id)).toContain(cardId);
  });

  it("what the bot needs still works: links, session, subscription, payments, cards, cancel and resume", async () => {
    const user = await prepareSession(h, { card: "humo3", autoRenew: true });
    expect((await apply(h, user)).status).toBe(200);
    expect((await createSession(h, user.telegramId)).session_id).toBeTruthy();
    const sessionView = await call(h, "GET", `/api/v1/payment/session/${user.sessionId}`, {
      auth: internalAuth,
    });
    expect(sessionView.status).toBe(200);
    for (const path of ["subscription", "payments", "cards"]) {
      const res = await call(h, "GET", `/api/v1/user/${user.telegramId}/${path}`, { auth: internalAuth });
      expect(res.status, path).toBe(200);
    }
    const sub = await call(h, "GET", `/api/v1/user/${user.telegramId}/subscription`, { auth: internalAuth });
    const subId = sub.body.data.subscription.id;
    expect(
      (await call(h, "POST", `/api/v1/subscription/${subId}/cancel`, { auth: internalAuth })).status,
    ).toBe(200);
    expect(
      (await call(h, "POST", `/api/v1/subscription/${subId}/resume`, { auth: internalAuth })).status,
    ).toBe(200);
  });
});
