/**
 * The checkout steps moved to provider-neutral paths (/api/v1/checkout/*, issue 18); the seed's
 * /api/v1/atmos/* paths stay as deprecated aliases that answer identically, so an old Mini App page
 * or an ATMOS dashboard still configured with the old callback URL keeps working.
 */
import { signCallback } from "@obuna/atmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_API_KEY, STORE_ID } from "./constants";
import {
  call,
  createSession,
  type Harness,
  randomTelegramId,
  SANDBOX_CARDS,
  SANDBOX_OTP,
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

const STEPS = ["create", "pre-apply", "resend-otp", "apply", "callback"] as const;

describe("the /api/v1/atmos/* aliases", () => {
  it("a whole payment through the old paths: the same answers as through /api/v1/checkout/*", async () => {
    const telegramId = randomTelegramId();
    const auth = tma(telegramId);
    const link = await createSession(h, telegramId);
    const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth });
    const createBody = { session_id: link.session_id, amount: session.body.data.amount, auto_renew: false };
    const created = await call(h, "POST", "/api/v1/atmos/create", { auth, body: createBody });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    // The same step through the new path answers the same (the transaction already exists).
    const again = await call(h, "POST", "/api/v1/checkout/create", { auth, body: createBody });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual(created.body.data);

    const transactionId = created.body.data.transaction_id as number;
    const card = SANDBOX_CARDS.humo1;
    const pre = await call(h, "POST", "/api/v1/atmos/pre-apply", {
      auth,
      body: {
        session_id: link.session_id,
        transaction_id: transactionId,
        card_number: card.pan,
        expiry: card.expiry,
      },
    });
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    expect(pre.body.data).toMatchObject({ session_id: link.session_id, transaction_id: transactionId });

    // Within the cooldown both paths refuse alike.
    const resendBody = { session_id: link.session_id, transaction_id: transactionId };
    const oldResend = await call(h, "POST", "/api/v1/atmos/resend-otp", { auth, body: resendBody });
    const newResend = await call(h, "POST", "/api/v1/checkout/resend-otp", { auth, body: resendBody });
    expect(oldResend.status).toBe(429);
    expect(newResend.status).toBe(429);
    expect(oldResend.body.error.code).toBe(newResend.body.error.code);

    const applyBody = { session_id: link.session_id, transaction_id: transactionId, otp: SANDBOX_OTP };
    const paid = await call(h, "POST", "/api/v1/atmos/apply", { auth, body: applyBody });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body.data.status).toBe("completed");
    // A repeat through the new path is answered from the stored state, identically.
    const repeat = await call(h, "POST", "/api/v1/checkout/apply", { auth, body: applyBody });
    expect(repeat.body.data).toEqual(paid.body.data);
  });

  it("the old callback URL answers as the new one (signed: accepted; forged: refused)", async () => {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${h.baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    const forged = {
      store_id: STORE_ID,
      transaction_id: "1",
      amount: "100",
      account: "1",
      sign: "0".repeat(32),
    };
    const oldForged = await post("/api/v1/atmos/callback", forged);
    expect(oldForged).toEqual(await post("/api/v1/checkout/callback", forged));
    expect(oldForged.body).toEqual({ status: 0, message: "Invalid signature" });

    const fields = {
      store_id: STORE_ID,
      transaction_id: "999999999",
      transaction_time: String(Date.now()),
      amount: "100",
      account: "no-such-session",
    };
    const signed = { ...fields, sign: signCallback(fields, CALLBACK_API_KEY, "md5") };
    const oldSigned = await post("/api/v1/atmos/callback", signed);
    expect(oldSigned).toEqual(await post("/api/v1/checkout/callback", signed));
    expect(oldSigned.body).toEqual({ status: 0, message: "Invoice not found" });
  });

  it("the OpenAPI document lists the new paths and marks the old ones deprecated", async () => {
    const spec = (await (await h.app.request("/openapi.json")).json()) as {
      paths: Record<string, { post?: { deprecated?: boolean; tags?: string[] } }>;
    };
    for (const step of STEPS) {
      expect(spec.paths[`/api/v1/checkout/${step}`]?.post, step).toBeDefined();
      expect(spec.paths[`/api/v1/checkout/${step}`]?.post?.deprecated, step).toBeFalsy();
      expect(spec.paths[`/api/v1/atmos/${step}`]?.post?.deprecated, step).toBe(true);
    }
  });
});
