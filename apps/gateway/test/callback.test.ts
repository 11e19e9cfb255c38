import { signCallback } from "@obuna/atmos";
import { atmosCallbacks, paymentSessions, payments } from "@obuna/db/schema";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_API_KEY, STORE_ID } from "./constants";
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

async function lastCallback() {
  const [row] = await h.db.db.select().from(atmosCallbacks).orderBy(desc(atmosCallbacks.id)).limit(1);
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
        account: session.atmosAccount!,
      }),
    );
    expect(res).toEqual({ status: 200, body: { status: 1, message: "Success" } });
    expect(await lastCallback()).toMatchObject({
      transactionId: prepared.transactionId,
      account: session.atmosAccount,
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
      { transaction_id: prepared.transactionId, amount: prepared.amount, account: session.atmosAccount! },
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

  it("a forged sign is refused with status 0 and recorded as invalid", async () => {
    const prepared = await prepareSession(h);
    const session = await accountOf(prepared.sessionId);
    const body = signedBody({
      transaction_id: prepared.transactionId,
      amount: prepared.amount,
      account: session.atmosAccount!,
    });
    const res = await postCallback({ ...body, sign: "0".repeat(32) });
    expect(res.body).toEqual({ status: 0, message: "Invalid signature" });
    expect(await lastCallback()).toMatchObject({ signValid: false, replyStatus: 0 });
    // Signed with another key.
    const wrongKey = { ...body, sign: signCallback(body, "other-key") };
    expect((await postCallback(wrongKey)).body.status).toBe(0);
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
      signedBody({ transaction_id: prepared.transactionId, amount: 100, account: session.atmosAccount! }),
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
        account: session.atmosAccount!,
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
        account: session.atmosAccount!,
      }),
    );
    expect(res.body).toEqual({ status: 0, message: "Payment session is closed" });
    expect(
      (await call(h, "GET", `/api/v1/payment/session/${prepared.sessionId}`, { auth: prepared.auth })).status,
    ).toBe(410);
  });
});
