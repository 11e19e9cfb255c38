import { signCallback } from "@obuna/atmos";
import { paymentSessions, payments, providerCallbacks } from "@obuna/db/schema";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_API_KEY, METRICS_TOKEN, STORE_ID } from "./constants";
import { apply, call, type Harness, prepareSession, startHarness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function accountOf(sessionId: string) {
  const [row] = await h.db.db.select().from(paymentSessions).where(eq(paymentSessions.id, sessionId));
  return row!;
}

function signedBody(
  fields: { transaction_id: number; amount: number; account: string },
  field: "account" | "invoice" = "account",
) {
  const body = {
    store_id: STORE_ID,
    transaction_id: String(fields.transaction_id),
    transaction_time: String(Date.now()),
    amount: String(fields.amount),
    [field]: fields.account,
  };
  return { ...body, sign: signCallback(body, CALLBACK_API_KEY, "md5") };
}

/** Over the real listening server, as ATMOS would call it. */
async function postCallback(body: unknown) {
  const response = await fetch(`${h.baseUrl}/api/v1/atmos/callback`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { status: number; message: string } };
}

async function callbackCount() {
  const [row] = await h.db.client<{ n: number }[]>`select count(*)::int n from provider_callbacks`;
  return row!.n;
}

async function metricValue(name: string): Promise<number> {
  const text = await (
    await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

const badSignatureMetric = () => metricValue("gateway_atmos_callbacks_bad_signature_total");

async function lastCallback() {
  const [row] = await h.db.db.select().from(providerCallbacks).orderBy(desc(providerCallbacks.id)).limit(1);
  return row!;
}

describe("ATMOS callback", () => {
  it("a valid callback is accepted and recorded, but does not complete the payment by itself", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const res = await postCallback(
      signedBody({
        transaction_id: prepared.transactionId,
        amount: prepared.amount,
        account: session.providerReference!,
      }),
    );
    expect(res).toEqual({ status: 200, body: { status: 1, message: "Success" } });
    expect(await lastCallback()).toMatchObject({
      provider: "atmos",
      externalId: String(prepared.transactionId),
      account: session.providerReference,
      amount: prepared.amount,
      signValid: true,
      replyStatus: 1,
    });
    expect((await accountOf(prepared.sessionId)).status).toBe("pending");
    const paid = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(paid.filter((p) => p.status === "success")).toHaveLength(0);
  });

  it("callback-before-apply, then apply, then a replay: one payment, same end state", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const body = signedBody(
      {
        transaction_id: prepared.transactionId,
        amount: prepared.amount,
        account: session.providerReference!,
      },
      "invoice",
    );
    expect((await postCallback(body)).body.status).toBe(1);
    const applied = await apply(h, prepared);
    expect(applied.body.data.status).toBe("completed");
    const replay = await postCallback(body);
    expect(replay.body).toEqual({ status: 1, message: "Success" });
    const rows = await h.db.db.select().from(payments).where(eq(payments.sessionId, prepared.sessionId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("success");
    expect(
      h.sandbox.ledger().filter((t) => t.transactionId === prepared.transactionId && t.state === "confirmed"),
    ).toHaveLength(1);
    // The sandbox's own callback during apply was accepted too.
    expect(h.sandbox.ledger().find((t) => t.transactionId === prepared.transactionId)?.callbackStatus).toBe(
      "accepted",
    );
  });

  it("a forged sign is refused with status 0, counted in the metrics and not stored", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const body = signedBody({
      transaction_id: prepared.transactionId,
      amount: prepared.amount,
      account: session.providerReference!,
    });
    const storedBefore = await callbackCount();
    const metricBefore = await badSignatureMetric();
    const res = await postCallback({ ...body, sign: "0".repeat(32) });
    expect(res.body).toEqual({ status: 0, message: "Invalid signature" });
    // Signed with another key.
    const wrongKey = { ...body, sign: signCallback(body, "other-key") };
    expect((await postCallback(wrongKey)).body.status).toBe(0);
    // No sign at all, and a body that is not JSON.
    const { sign: _sign, ...unsigned } = body;
    expect((await postCallback(unsigned)).body.status).toBe(0);
    expect((await postCallback("not json")).body.status).toBe(0);
    expect(await badSignatureMetric()).toBe(metricBefore + 4);
    expect(await callbackCount()).toBe(storedBefore);
  });

  it("every field is bounded: an oversized one is a 400 (the error envelope), counted, and nothing is stored", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const body = signedBody({
      transaction_id: prepared.transactionId,
      amount: prepared.amount,
      account: session.providerReference!,
    });
    const storedBefore = await callbackCount();
    const oversized: Array<[Record<string, unknown>, string]> = [
      [{ ...body, account: "9".repeat(65) }, "account"],
      [{ ...body, transaction_id: "1".repeat(21) }, "transaction_id"],
      [{ ...body, amount: "2".repeat(21) }, "amount"],
      [{ ...body, store_id: "3".repeat(33) }, "store_id"],
      [{ ...body, sign: "a".repeat(129) }, "sign"],
      [{ ...body, transaction_time: "4".repeat(33) }, "transaction_time"],
      [{ ...body, note: "x".repeat(257) }, "(other field)"],
      [{ ...body, nested: { deep: "y".repeat(300) } }, "(other field)"],
      [{ ...body, ["k".repeat(65)]: "1" }, "(field name)"],
      [
        { ...body, ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i])) },
        "(too many fields)",
      ],
    ];
    for (const [payload, field] of oversized) {
      const res = await fetch(`${h.baseUrl}/api/v1/atmos/callback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
      const json = (await res.json()) as { success: boolean; error: { code: string; field: string } };
      expect(res.status, field).toBe(400);
      expect(json).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR", field } });
    }
    expect(await callbackCount()).toBe(storedBefore);
    expect(await metricValue("gateway_atmos_callbacks_oversized_total")).toBeGreaterThanOrEqual(
      oversized.length,
    );
    // The same callback within its bounds is accepted.
    expect((await postCallback(body)).body).toEqual({ status: 1, message: "Success" });
    expect(await callbackCount()).toBe(storedBefore + 1);
  });

  it("the sign is checked over the values as received: a numeric amount keeps its own text", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    // ATMOS joins the raw received strings: an amount sent as the JSON number 2900000.00 is signed
    // as "2900000.00", which a re-formatted number ("2900000") would not match.
    const amountText = `${prepared.amount}.00`;
    const signed = {
      store_id: STORE_ID,
      transaction_id: String(prepared.transactionId),
      amount: amountText,
      account: session.providerReference!,
    };
    const sign = signCallback(signed, CALLBACK_API_KEY, "md5");
    const raw = `{"store_id":"${STORE_ID}","transaction_id":${prepared.transactionId},"transaction_time":"${Date.now()}","amount":${amountText},"account":"${session.providerReference}","sign":"${sign}"}`;
    expect((await postCallback(raw)).body).toEqual({ status: 1, message: "Success" });
    // The re-formatted join is not what ATMOS signed: refused.
    const reformatted = signCallback({ ...signed, amount: String(prepared.amount) }, CALLBACK_API_KEY, "md5");
    expect((await postCallback(raw.replace(sign, reformatted))).body).toEqual({
      status: 0,
      message: "Invalid signature",
    });
  });

  it("an unknown invoice is refused", async () => {
    const res = await postCallback(
      signedBody({ transaction_id: 999_999, amount: 2_900_000, account: "123456789" }),
    );
    expect(res.body).toEqual({ status: 0, message: "Invoice not found" });
  });

  it("an amount mismatch is refused", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const res = await postCallback(
      signedBody({
        transaction_id: prepared.transactionId,
        amount: 100,
        account: session.providerReference!,
      }),
    );
    expect(res.body).toEqual({ status: 0, message: "Amount mismatch" });
  });

  it("a transaction that is not the session's is refused", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const res = await postCallback(
      signedBody({
        transaction_id: prepared.transactionId + 1000,
        amount: prepared.amount,
        account: session.providerReference!,
      }),
    );
    expect(res.body.status).toBe(0);
  });

  it("a malformed body is refused with status 0, never a 500", async () => {
    for (const body of ["not json", "[]", "{}", '{"sign":1}']) {
      const res = await postCallback(body);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(0);
    }
  });

  it("a callback for a closed (expired) session is refused, so ATMOS does not debit", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    await h.db.db
      .update(paymentSessions)
      .set({ status: "expired" })
      .where(eq(paymentSessions.id, prepared.sessionId));
    const res = await postCallback(
      signedBody({
        transaction_id: prepared.transactionId,
        amount: prepared.amount,
        account: session.providerReference!,
      }),
    );
    expect(res.body).toEqual({ status: 0, message: "Payment session is closed" });
    expect(
      (await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, { auth: prepared.auth })).status,
    ).toBe(410);
  });
});
