import { createHash, createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
      expectCode(other, 403, "FORBIDDEN");
    } finally {
      await dev.close();
    }
  });
});

describe("ownership", () => {
  it("another user's session and transaction are 403 at every step", async () => {
    const victim = await prepareSession(h);
    const attacker = tma(randomTelegramId());
    const body = { session_id: victim.sessionId, transaction_id: victim.transactionId };
    expectCode(
      await call(h, "GET", `/api/v1/payment/session/${victim.sessionId}`, { auth: attacker }),
      403,
      "FORBIDDEN",
    );
    expectCode(
      await call(h, "POST", "/api/v1/atmos/create", {
        auth: attacker,
        body: { session_id: victim.sessionId, amount: victim.amount, auto_renew: false },
      }),
      403,
      "FORBIDDEN",
    );
    expectCode(
      await call(h, "POST", "/api/v1/atmos/pre-apply", {
        auth: attacker,
        body: { ...body, card_number: "9860090101893213", expiry: "02/28" },
      }),
      403,
      "FORBIDDEN",
    );
    expectCode(await apply(h, { ...victim, auth: attacker }), 403, "FORBIDDEN");
    expectCode(await call(h, "POST", "/api/v1/atmos/resend-otp", { auth: attacker, body }), 403, "FORBIDDEN");
    // The victim can still pay.
    expect((await apply(h, victim)).body.data.status).toBe("completed");
  });

  it("another user's payments, subscription, cards and subscription actions are 403", async () => {
    const victim = await prepareSession(h, { card: "humo3", autoRenew: true });
    expect((await apply(h, victim)).status).toBe(200);
    const attacker = tma(randomTelegramId());
    for (const path of ["payments", "subscription", "cards"]) {
      expectCode(
        await call(h, "GET", `/api/v1/user/${victim.telegramId}/${path}`, { auth: attacker }),
        403,
        "FORBIDDEN",
      );
    }
    const sub = await call(h, "GET", `/api/v1/user/${victim.telegramId}/subscription`, {
      auth: internalAuth,
    });
    const subId = sub.body.data.subscription.id;
    expectCode(
      await call(h, "POST", `/api/v1/subscription/${subId}/cancel`, { auth: attacker }),
      403,
      "FORBIDDEN",
    );
    expectCode(
      await call(h, "POST", `/api/v1/subscription/${subId}/resume`, { auth: attacker }),
      403,
      "FORBIDDEN",
    );
    const cardId = sub.body.data.subscription.card.id;
    const attackerId = randomTelegramId();
    await createSession(h, attackerId);
    expectCode(
      await call(h, "DELETE", `/api/v1/user/${attackerId}/cards/${cardId}`, { auth: tma(attackerId) }),
      404,
      "CARD_NOT_FOUND",
    );
    // The bot may read anyone's data.
    expect(
      (await call(h, "GET", `/api/v1/user/${victim.telegramId}/cards`, { auth: internalAuth })).status,
    ).toBe(200);
  });

  it("idempotency keys are scoped per caller", async () => {
    const a = randomTelegramId();
    const b = randomTelegramId();
    const linkA = await createSession(h, a);
    const linkB = await createSession(h, b);
    const key = "shared-key-1";
    const ra = await call(h, "POST", "/api/v1/atmos/create", {
      auth: tma(a),
      body: { session_id: linkA.session_id, amount: 2_900_000, auto_renew: false },
      headers: { "idempotency-key": key },
    });
    const rb = await call(h, "POST", "/api/v1/atmos/create", {
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
  it("a pre-apply's stored request_hash is keyed and computed with the card number masked", async () => {
    const telegramId = randomTelegramId();
    const auth = tma(telegramId);
    const link = await createSession(h, telegramId);
    const created = await call(h, "POST", "/api/v1/atmos/create", {
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
    const first = await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth,
      body,
      headers: { "idempotency-key": key },
    });
    expect(first.status).toBe(200);
    const [row] = await h.db.client<{ request_hash: string }[]>`
      select request_hash from idempotency_keys where scope = ${`tg:${telegramId}`} and key = ${key}`;
    const endpoint = "POST /api/v1/atmos/pre-apply";
    const text = `${endpoint}\n${JSON.stringify(body)}`;
    // Neither the old unkeyed hash nor an HMAC of the body with the card number in it (a leaked key
    // plus a database copy would brute-force that one back to the number).
    expect(row!.request_hash).not.toBe(createHash("sha256").update(text).digest("hex"));
    expect(row!.request_hash).not.toBe(createHmac("sha256", IDEMPOTENCY_HASH_KEY).update(text).digest("hex"));
    const masked = text.replace(card.pan, "860049******3347");
    expect(row!.request_hash).toBe(createHmac("sha256", IDEMPOTENCY_HASH_KEY).update(masked).digest("hex"));

    // The expiry is still part of the request: the same key with another expiry is refused.
    const otherExpiry = await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth,
      body: { ...body, expiry: "11/29" },
      headers: { "idempotency-key": key },
    });
    expect(otherExpiry.status).toBe(422);
    expect(otherExpiry.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // The same card typed in groups of four is the same request: the stored answer is replayed.
    const grouped = await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth,
      body: { ...body, card_number: "8600 4907 4431 3347" },
      headers: { "idempotency-key": key },
    });
    expect(grouped.headers.get("idempotent-replayed")).toBe("true");
    expect(grouped.body).toEqual(first.body);
  });
});
