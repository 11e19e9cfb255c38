import { paymentSessions, payments } from "@obuna/db/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idempotencyRequestHash } from "../src/middleware/idempotency";
import { CONFIRM_RESENDS } from "../src/services/checkout/confirm";
import { PRE_MONEY_ATTEMPTS } from "../src/services/checkout/faults";
import { IDEMPOTENCY_HASH_KEY } from "./constants";
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
  uniqueKey,
} from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function expectError(res: { status: number; body: Json; headers: Headers }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.success).toBe(false);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
  expect(typeof res.body.error.message).toBe("string");
}

/** The hash the idempotency middleware stores for a create-link request with this body. */
function createLinkRequestHash(body: unknown): string {
  return idempotencyRequestHash(
    IDEMPOTENCY_HASH_KEY,
    "POST /api/v1/payment/create-link",
    JSON.stringify(body),
  );
}

async function sessionRow(id: string) {
  const [row] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, id));
  return row!;
}

describe("OTP", () => {
  it("a wrong OTP answers WRONG_OTP with attempts left, then the right one still pays", async () => {
    const prepared = await prepareSession(h);
    const wrong = await apply(h, prepared, "000000");
    expectError(wrong, 400, "WRONG_OTP");
    expect(wrong.body.error.details).toEqual({ attempts_left: 4 });
    expect(wrong.body.error.field).toBe("otp");
    expect((await sessionRow(prepared.sessionId)).status).toBe("pending");
    const ok = await apply(h, prepared);
    expect(ok.body.data.status).toBe("completed");
  });

  it("five wrong OTPs fail the session; nothing more can be paid", async () => {
    const prepared = await prepareSession(h);
    for (let i = 1; i <= 4; i++) {
      const res = await apply(h, prepared, "000000");
      expect(res.body.error.details.attempts_left).toBe(5 - i);
    }
    const fifth = await apply(h, prepared, "000000");
    expectError(fifth, 429, "OTP_ATTEMPTS_EXCEEDED");
    expect(await sessionRow(prepared.sessionId)).toMatchObject({ status: "failed", otpAttempts: 5 });
    expectError(await apply(h, prepared), 409, "SESSION_FAILED");
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(payment?.status).toBe("failed");
    expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.state).not.toBe(
      "confirmed",
    );
  });

  it("OTP resend has a cooldown", async () => {
    const prepared = await prepareSession(h);
    const body = { session_id: prepared.sessionId, transaction_id: prepared.transactionId };
    const soon = await call(h, "POST", "/api/v1/checkout/resend-otp", { auth: prepared.auth, body });
    expectError(soon, 429, "OTP_RESEND_TOO_SOON");
    expect(soon.body.error.details.retry_after_s).toBeGreaterThan(0);
    h.clock.offsetMs = 61_000;
    try {
      const later = await call(h, "POST", "/api/v1/checkout/resend-otp", { auth: prepared.auth, body });
      expect(later.status, JSON.stringify(later.body)).toBe(200);
    } finally {
      h.clock.offsetMs = 0;
    }
  });
});

describe("session rules", () => {
  it("an expired session answers 410 SESSION_EXPIRED and is marked expired", async () => {
    const prepared = await prepareSession(h);
    h.clock.offsetMs = 31 * 60_000;
    try {
      expectError(await apply(h, prepared), 410, "SESSION_EXPIRED");
      expectError(
        await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, { auth: prepared.auth }),
        410,
        "SESSION_EXPIRED",
      );
    } finally {
      h.clock.offsetMs = 0;
    }
    expect((await sessionRow(prepared.sessionId)).status).toBe("expired");
    expectError(await apply(h, prepared), 410, "SESSION_EXPIRED");
    expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.state).not.toBe(
      "confirmed",
    );
  });

  it("amount tampering is refused and nothing is created at ATMOS", async () => {
    const telegramId = randomTelegramId();
    const link = await createSession(h, telegramId);
    const before = h.sandbox.ledger().length;
    const res = await call(h, "POST", "/api/v1/checkout/create", {
      auth: tma(telegramId),
      body: { session_id: link.session_id, amount: 100, auto_renew: false },
    });
    expectError(res, 400, "AMOUNT_MISMATCH");
    expect(res.body.error.field).toBe("amount");
    expect(h.sandbox.ledger().length).toBe(before);
  });

  it("an unknown plan is 404 PLAN_NOT_FOUND", async () => {
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: randomTelegramId(), plan_slug: "lifetime" },
    });
    expectError(res, 404, "PLAN_NOT_FOUND");
    expect(res.body.error.field).toBe("plan_slug");
  });

  it("an unknown session is 404 SESSION_NOT_FOUND; a malformed id names the field", async () => {
    expectError(
      await call(h, "GET", "/api/v1/payment/session/00000000-0000-4000-8000-000000000000", {
        auth: internalAuth,
      }),
      404,
      "SESSION_NOT_FOUND",
    );
    const bad = await call(h, "GET", "/api/v1/payment/session/not-a-uuid", { auth: internalAuth });
    expectError(bad, 400, "VALIDATION_ERROR");
    expect(bad.body.error.field).toBe("session_id");
  });

  it("a transaction id of another session is TRANSACTION_MISMATCH", async () => {
    const a = await prepareSession(h);
    const b = await prepareSession(h, { telegramId: a.telegramId });
    const res = await apply(h, { ...a, transactionId: b.transactionId });
    expectError(res, 400, "TRANSACTION_MISMATCH");
  });
});

describe("cards", () => {
  const cases: Array<[string, string, string, number, string, string]> = [
    ["Luhn failure", "9860090101014365", "02/28", 400, "INVALID_CARD", "card_number"],
    ["short number", "986009010101", "02/28", 400, "INVALID_CARD", "card_number"],
    ["Visa", "4111111111111111", "02/28", 400, "UNSUPPORTED_CARD", "card_number"],
    ["expiry in the past", SANDBOX_CARDS.humo1.pan, "01/20", 400, "CARD_EXPIRED", "expiry"],
    ["unreadable expiry", SANDBOX_CARDS.humo1.pan, "13/99", 400, "VALIDATION_ERROR", "expiry"],
    [
      "expired sandbox card",
      SANDBOX_CARDS.expired.pan,
      SANDBOX_CARDS.expired.expiry,
      400,
      "CARD_EXPIRED",
      "expiry",
    ],
  ];
  for (const [name, pan, expiry, status, code, field] of cases) {
    it(`refuses ${name} before calling ATMOS`, async () => {
      const telegramId = randomTelegramId();
      const link = await createSession(h, telegramId);
      const created = await call(h, "POST", "/api/v1/checkout/create", {
        auth: tma(telegramId),
        body: { session_id: link.session_id, amount: 2_900_000, auto_renew: false },
      });
      const res = await call(h, "POST", "/api/v1/checkout/pre-apply", {
        auth: tma(telegramId),
        body: {
          session_id: link.session_id,
          transaction_id: created.body.data.transaction_id,
          card_number: pan,
          expiry,
        },
      });
      expectError(res, status, code);
      expect(res.body.error.field).toBe(field);
      expect(JSON.stringify(res.body)).not.toContain(pan);
    });
  }

  it("a blocked card is refused at pre-apply by ATMOS (402 CARD_BLOCKED), session stays payable", async () => {
    const prepared = await prepareSession(h, { card: "blocked" });
    expectError(prepared.pre, 402, "CARD_BLOCKED");
    expect((await sessionRow(prepared.sessionId)).status).toBe("pending");
  });

  it("a declined card (insufficient funds) → 402 INSUFFICIENT_FUNDS, session and payment failed", async () => {
    const prepared = await prepareSession(h, { card: "insufficientFunds" });
    expect(prepared.pre.status).toBe(200);
    const res = await apply(h, prepared);
    expectError(res, 402, "INSUFFICIENT_FUNDS");
    expect(await sessionRow(prepared.sessionId)).toMatchObject({
      status: "failed",
      failureReason: "insufficient_funds",
    });
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(payment).toMatchObject({ status: "failed", errorCode: "insufficient_funds" });
  });
});

describe("ATMOS unavailable", () => {
  it("a 502 from ATMOS at every try of pre-apply is 503 PAYMENT_PROVIDER_UNAVAILABLE; the session stays payable", async () => {
    // One 502 is sent again (passing-faults.test.ts); a fault through every try reaches the client.
    h.sandbox.configure({ faultPath: "/merchant/pay/pre-apply", failNext: PRE_MONEY_ATTEMPTS });
    try {
      const prepared = await prepareSession(h);
      expectError(prepared.pre, 503, "PAYMENT_PROVIDER_UNAVAILABLE");
      expect((await sessionRow(prepared.sessionId)).status).toBe("pending");
    } finally {
      h.sandbox.configure({ faultPath: null, failNext: 0 });
    }
  });

  it("a 502 at apply (and at each of its resends) is resolved through get: not charged → `processing` with payment `unknown`, never a 500", async () => {
    const prepared = await prepareSession(h);
    h.sandbox.configure({ faultPath: "/merchant/pay/confirm-with-ofd-list", failNext: 1 + CONFIRM_RESENDS });
    try {
      const res = await apply(h, prepared);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.status).toBe("processing");
    } finally {
      h.sandbox.configure({ faultPath: null, failNext: 0 });
    }
    const [payment] = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(payment?.status).toBe("unknown");
    expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.state).toBe(
      "pre_applied",
    );
  });
});

describe("request handling", () => {
  it("invalid JSON is 400 INVALID_JSON", async () => {
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      rawBody: "{not json",
    });
    expectError(res, 400, "INVALID_JSON");
  });

  it("a body that is not declared as JSON is a 400 naming Content-Type", async () => {
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      rawBody: '{"telegram_id":5,"plan_slug":"monthly"}',
      headers: { "content-type": "text/plain" },
    });
    expectError(res, 400, "VALIDATION_ERROR");
    expect(res.body.error.field).toBe("Content-Type");
  });

  it("validation errors name the field", async () => {
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: "abc", plan_slug: "monthly" },
    });
    expectError(res, 400, "VALIDATION_ERROR");
    expect(res.body.error.field).toBe("telegram_id");
    const otp = await call(h, "POST", "/api/v1/checkout/apply", {
      auth: tma(randomTelegramId()),
      body: { session_id: "00000000-0000-4000-8000-000000000000", transaction_id: 1, otp: "12ab" },
    });
    expect(otp.body.error.field).toBe("otp");
  });

  it("an unknown route is 404 NOT_FOUND in the envelope", async () => {
    expectError(await call(h, "GET", "/api/v1/nope"), 404, "NOT_FOUND");
  });

  it("a body over the limit is 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      rawBody: JSON.stringify({ telegram_id: 1, plan_slug: "monthly", first_name: "x".repeat(100_000) }),
    });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("a reused Idempotency-Key with another body is 422", async () => {
    const key = uniqueKey();
    const first = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: randomTelegramId(), plan_slug: "monthly" },
      headers: { "idempotency-key": key },
    });
    expect(first.status).toBe(200);
    const second = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: randomTelegramId(), plan_slug: "yearly" },
      headers: { "idempotency-key": key },
    });
    expectError(second, 422, "IDEMPOTENCY_KEY_REUSED");
  });

  it("a request refused by validation does not use up its Idempotency-Key", async () => {
    const key = uniqueKey();
    const telegramId = randomTelegramId();
    const bad = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: telegramId, plan_slug: 42 },
      headers: { "idempotency-key": key },
    });
    expectError(bad, 400, "VALIDATION_ERROR");
    const fixed = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body: { telegram_id: telegramId, plan_slug: "monthly" },
      headers: { "idempotency-key": key },
    });
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
  });

  it("a request while the first with the same key is in flight is 409 IDEMPOTENCY_IN_PROGRESS", async () => {
    const key = uniqueKey();
    const body = { telegram_id: randomTelegramId(), plan_slug: "monthly" };
    // Same hash as the real request so only the in-flight state decides.
    await h.db.client`insert into idempotency_keys (scope, key, endpoint, request_hash, expires_at)
      values ('internal', ${key}, 'POST /api/v1/payment/create-link', ${createLinkRequestHash(body)},
        now() + interval '1 hour')`;
    const res = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": key },
    });
    expectError(res, 409, "IDEMPOTENCY_IN_PROGRESS");
  });

  it("a claim whose request died without answering is taken over after 10 minutes, not held for 24 h", async () => {
    const key = uniqueKey();
    const body = { telegram_id: randomTelegramId(), plan_slug: "monthly" };
    const hash = createLinkRequestHash(body);
    // A claim 9 minutes old is still in flight…
    await h.db
      .client`insert into idempotency_keys (scope, key, endpoint, request_hash, created_at, expires_at)
      values ('internal', ${key}, 'POST /api/v1/payment/create-link', ${hash},
        now() - interval '9 minutes', now() + interval '23 hours')`;
    const early = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": key },
    });
    expectError(early, 409, "IDEMPOTENCY_IN_PROGRESS");
    // …one 11 minutes old belongs to a process that died: the retry runs and its answer is stored.
    await h.db
      .client`update idempotency_keys set created_at = now() - interval '11 minutes' where key = ${key}`;
    const retried = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": key },
    });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const replayed = await call(h, "POST", "/api/v1/payment/create-link", {
      auth: internalAuth,
      body,
      headers: { "idempotency-key": key },
    });
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.body.data.session_id).toBe(retried.body.data.session_id);
  });

  it("no malformed input gets a 500", async () => {
    const bodies = ["", "null", "[]", "123", '"x"', "{}", '{"session_id":null}', "\u0000", "{".repeat(1000)];
    const paths = [
      "/api/v1/payment/create-link",
      "/api/v1/checkout/create",
      "/api/v1/checkout/pre-apply",
      "/api/v1/checkout/apply",
      "/api/v1/checkout/resend-otp",
      "/api/v1/checkout/callback",
      "/api/v1/subscription/1/cancel",
    ];
    for (const path of paths) {
      for (const rawBody of bodies) {
        const res = await call(h, "POST", path, { auth: internalAuth, rawBody });
        expect(res.status, `${path} ${rawBody.slice(0, 10)}`).toBeLessThan(500);
      }
    }
    for (const path of [
      "/api/v1/user/abc/payments",
      "/api/v1/user/-1/cards",
      "/api/v1/user/99999999999999999999/subscription",
    ]) {
      expect((await call(h, "GET", path, { auth: internalAuth })).status).toBe(400);
    }
  });
});
