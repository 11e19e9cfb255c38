/** The client against the in-process sandbox: every method, success and each error kind. */
import { afterEach, describe, expect, it } from "vitest";
import { verifyCallbackSignature } from "../src/index";
import { SANDBOX_CARDS, SANDBOX_OTP } from "../src/sandbox/index";
import { startCallbackReceiver } from "./callback-receiver";
import { atmosFailure, CREDENTIALS, fakeClock, setup } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function harness(options: Parameters<typeof setup>[0] = {}) {
  const h = await setup(options);
  cleanups.push(h.sandbox.close);
  return h;
}

const { humo1, humo2, uzcard1, uzcard2, expired, insufficientFunds, blocked, smsNotConnected } =
  SANDBOX_CARDS;
type Client = Awaited<ReturnType<typeof harness>>["client"];

async function preApplied(client: Client, card: { pan: string; expiry: string } = humo1, amount = 2_900_000) {
  const created = await client.createTransaction({ amount, account: "5001" });
  await client.preApplyCard({
    transactionId: created.transactionId,
    cardNumber: card.pan,
    expiry: card.expiry,
  });
  return created.transactionId;
}

async function bind(client: Client, card: { pan: string; expiry: string }) {
  const init = await client.bindCardInit({ cardNumber: card.pan, expiry: card.expiry });
  if (init.status !== "otp_sent") throw new Error("expected otp_sent");
  return client.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
}

describe("createTransaction", () => {
  it("creates a transaction in tiyin", async () => {
    const h = await harness();
    const t = await h.client.createTransaction({
      amount: 2_900_000,
      account: "5001",
      details: "Premium 30 days",
    });
    expect(t).toMatchObject({
      state: "created",
      amount: 2_900_000,
      account: "5001",
      confirmed: false,
      successTransId: null,
    });
    expect(h.sandbox.ledger()).toEqual([
      expect.objectContaining({
        transactionId: t.transactionId,
        state: "created",
        amount: 2_900_000,
        account: "5001",
      }),
    ]);
  });

  it("rejects bad input before calling ATMOS (invalid_params)", async () => {
    const h = await harness();
    for (const amount of [0, -5, 10.5]) {
      const error = await atmosFailure(() => h.client.createTransaction({ amount, account: "1" }));
      expect(error.kind).toBe("invalid_params");
    }
    expect(h.calls("/merchant/pay/create")).toBe(0);
  });

  it("maps STPIMS-ERR-009 (wrong store) to invalid_params, not retried, outcome known", async () => {
    const h = await harness({ client: { storeId: "9999" } });
    const error = await atmosFailure(() => h.client.createTransaction({ amount: 100, account: "1" }));
    expect(error).toMatchObject({
      kind: "invalid_params",
      code: "STPIMS-ERR-009",
      retryable: false,
      outcomeUnknown: false,
    });
    expect(h.calls("/merchant/pay/create")).toBe(1);
  });
});

describe("preApplyCard + apply", () => {
  it.each([
    ["MM/YY", humo1.expiry],
    ["MMYY", humo1.expiry.replace("/", "")],
    ["YYMM", "2802"],
  ])("accepts expiry as %s and pays with the SMS OTP", async (_label, expiry) => {
    const h = await harness();
    const created = await h.client.createTransaction({ amount: 2_900_000, account: "5001" });
    const pre = await h.client.preApplyCard({
      transactionId: created.transactionId,
      cardNumber: humo1.pan,
      expiry,
    });
    expect(pre).toEqual({ transactionId: created.transactionId, phone: humo1.phone });
    const paid = await h.client.apply({ transactionId: created.transactionId, otp: SANDBOX_OTP });
    expect(paid).toMatchObject({
      transactionId: created.transactionId,
      state: "confirmed",
      confirmed: true,
      amount: 2_900_000,
      cardId: "986009******4364",
      statusCode: "0",
    });
    expect(paid.successTransId).toBeGreaterThan(0);
    expect(paid.ofdUrl).toMatch(/^https:/);
    expect(h.sandbox.ledger()[0]).toMatchObject({
      state: "confirmed",
      cardMask: "986009******4364",
      successTransId: paid.successTransId,
    });
  });

  it("pays with the UzCard cards too", async () => {
    const h = await harness();
    for (const card of [uzcard1, uzcard2]) {
      const id = await preApplied(h.client, card);
      expect((await h.client.apply({ transactionId: id, otp: SANDBOX_OTP })).state).toBe("confirmed");
    }
  });

  it.each([
    ["expired", expired, "card_expired", "STPIMS-ERR-014"],
    ["blocked", blocked, "card_blocked", "STPIMS-ERR-015"],
    ["SMS not connected", smsNotConnected, "sms_not_connected", "STPIMS-ERR-016"],
    ["unknown", { pan: "9860090101001114", expiry: "01/30" }, "card_not_found", "STPIMS-ERR-019"],
    ["wrong expiry", { pan: humo1.pan, expiry: "03/28" }, "card_not_found", "STPIMS-ERR-067"],
  ] as const)("pre-apply with the %s card fails as %s", async (_label, card, kind, code) => {
    const h = await harness();
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    const error = await atmosFailure(() =>
      h.client.preApplyCard({
        transactionId: created.transactionId,
        cardNumber: card.pan,
        expiry: card.expiry,
      }),
    );
    expect(error).toMatchObject({
      kind,
      code,
      transactionId: created.transactionId,
      retryable: false,
      outcomeUnknown: false,
    });
    expect(h.sandbox.ledger()[0]!.state).toBe("created");
  });

  it("rejects an unreadable expiry or card number locally", async () => {
    const h = await harness();
    const a = await atmosFailure(() =>
      h.client.preApplyCard({ transactionId: 1, cardNumber: humo1.pan, expiry: "13/99x" }),
    );
    const b = await atmosFailure(() =>
      h.client.preApplyCard({ transactionId: 1, cardNumber: "1234", expiry: "02/28" }),
    );
    const c = await atmosFailure(() =>
      h.client.preApplyCard({ transactionId: 1, cardNumber: "986009010101436", expiry: "02/28" }),
    );
    expect([a.kind, b.kind, c.kind]).toEqual(["invalid_params", "invalid_params", "invalid_params"]);
    expect(c.message).not.toContain("986009010101436");
    expect(h.calls("/merchant/pay/pre-apply")).toBe(0);
  });

  it("pre-apply on an unknown transaction: transaction_not_found", async () => {
    const h = await harness();
    const error = await atmosFailure(() =>
      h.client.preApplyCard({ transactionId: 123, cardNumber: humo1.pan, expiry: humo1.expiry }),
    );
    expect(error).toMatchObject({
      kind: "transaction_not_found",
      code: "STPIMS-ERR-061",
      transactionId: 123,
    });
  });

  it("insufficient funds closes the transaction without charging", async () => {
    const h = await harness();
    const id = await preApplied(h.client, insufficientFunds);
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({
      kind: "insufficient_funds",
      code: "STPIMS-ERR-112",
      transactionId: id,
      outcomeUnknown: false,
    });
    expect(h.sandbox.ledger()[0]).toMatchObject({
      state: "closed",
      closedReason: "insufficient_funds",
      successTransId: null,
    });
    expect((await h.client.getTransaction(id)).state).toBe("closed");
  });

  it("a wrong OTP may be retried; after 5 wrong tries the transaction is closed", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    for (let i = 0; i < 4; i++) {
      const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: "222222" }));
      expect(error).toMatchObject({ kind: "wrong_otp", code: "STPIMS-ERR-098" });
    }
    const fifth = await atmosFailure(() => h.client.apply({ transactionId: id, otp: "222222" }));
    expect(fifth).toMatchObject({ kind: "otp_attempts_exceeded", code: "STPIMS-ERR-081" });
    const after = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(after).toMatchObject({ kind: "transaction_closed", code: "STPIMS-ERR-092" });
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "closed", closedReason: "otp_attempts_exceeded" });
  });

  it("the wrong-try limit is configurable", async () => {
    const h = await harness({ sandbox: { maxOtpAttempts: 2 } });
    const id = await preApplied(h.client);
    expect((await atmosFailure(() => h.client.apply({ transactionId: id, otp: "222222" }))).kind).toBe(
      "wrong_otp",
    );
    expect((await atmosFailure(() => h.client.apply({ transactionId: id, otp: "222222" }))).kind).toBe(
      "otp_attempts_exceeded",
    );
  });

  it("an OTP expires; resendOtp issues a fresh one", async () => {
    const clock = fakeClock();
    const h = await harness({ clock, sandbox: { otpTtlSeconds: 120 } });
    const id = await preApplied(h.client);
    clock.advance(121_000);
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({ kind: "otp_expired", code: "STPIMS-ERR-080" });
    await h.client.resendOtp(id);
    expect((await h.client.apply({ transactionId: id, otp: SANDBOX_OTP })).state).toBe("confirmed");
  });

  it("resendOtp on a finished transaction: transaction_closed", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    expect((await atmosFailure(() => h.client.resendOtp(id))).kind).toBe("transaction_closed");
  });

  it("apply twice: the second answers transaction_closed and nothing is charged twice", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({
      kind: "transaction_closed",
      code: "STPIMS-ERR-092",
      outcomeUnknown: false,
    });
    expect(h.sandbox.ledger().filter((e) => e.state === "confirmed")).toHaveLength(1);
  });

  it("apply before pre-apply: invalid_params", async () => {
    const h = await harness();
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    const error = await atmosFailure(() =>
      h.client.apply({ transactionId: created.transactionId, otp: SANDBOX_OTP }),
    );
    expect(error.kind).toBe("invalid_params");
  });
});

describe("getTransaction", () => {
  it("follows the state machine: created → pre_applied → confirmed → reversed", async () => {
    const h = await harness();
    const created = await h.client.createTransaction({ amount: 500_000, account: "77" });
    const id = created.transactionId;
    expect(await h.client.getTransaction(id)).toMatchObject({
      state: "created",
      confirmed: false,
      amount: 500_000,
      account: "77",
    });
    await h.client.preApplyCard({ transactionId: id, cardNumber: humo2.pan, expiry: humo2.expiry });
    expect((await h.client.getTransaction(id)).state).toBe("pre_applied");
    const paid = await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    expect(await h.client.getTransaction(id)).toMatchObject({
      state: "confirmed",
      successTransId: paid.successTransId,
    });
    await h.client.reverse({ transactionId: paid.successTransId!, reason: "refund" });
    expect(await h.client.getTransaction(id)).toMatchObject({
      state: "reversed",
      successTransId: paid.successTransId,
    });
  });

  it("reads a closed transaction (ERR-092 with store_transaction) as closed, not as an error", async () => {
    const h = await harness({ sandbox: { maxOtpAttempts: 1 } });
    const id = await preApplied(h.client);
    await atmosFailure(() => h.client.apply({ transactionId: id, otp: "000000" }));
    expect(await h.client.getTransaction(id)).toMatchObject({
      state: "closed",
      confirmed: false,
      successTransId: null,
    });
  });

  it("reads a confirmed payment answered with ERR-092 as confirmed (decided by the data)", async () => {
    const h = await harness({ sandbox: { confirmedGetCode: "STPIMS-ERR-092" } });
    const id = await preApplied(h.client);
    await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    expect(await h.client.getTransaction(id)).toMatchObject({ state: "confirmed", confirmed: true });
  });

  it("an unknown transaction: transaction_not_found (not retried)", async () => {
    const h = await harness();
    const error = await atmosFailure(() => h.client.getTransaction(999));
    expect(error).toMatchObject({
      kind: "transaction_not_found",
      code: "STPIMS-ERR-061",
      transactionId: 999,
    });
    expect(h.calls("/merchant/pay/get")).toBe(1);
  });
});

describe("reverse", () => {
  it("refunds a confirmed payment by success_trans_id (and by transaction id)", async () => {
    const h = await harness();
    for (const by of ["successTransId", "transactionId"] as const) {
      const id = await preApplied(h.client);
      const paid = await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
      const out = await h.client.reverse({ transactionId: paid[by]!, reason: "customer asked" });
      expect(out.transactionId).toBe(id);
    }
    expect(h.sandbox.ledger().map((e) => [e.state, e.reversed])).toEqual([
      ["reversed", true],
      ["reversed", true],
    ]);
  });

  it("reversing twice: transaction_closed; reversing an unpaid one: invalid_params; unknown: not found", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    const paid = await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    await h.client.reverse({ transactionId: paid.successTransId!, reason: "x" });
    expect(
      (await atmosFailure(() => h.client.reverse({ transactionId: paid.successTransId!, reason: "x" }))).kind,
    ).toBe("transaction_closed");
    const unpaid = await preApplied(h.client);
    expect((await atmosFailure(() => h.client.reverse({ transactionId: unpaid, reason: "x" }))).kind).toBe(
      "invalid_params",
    );
    expect((await atmosFailure(() => h.client.reverse({ transactionId: 42, reason: "x" }))).kind).toBe(
      "transaction_not_found",
    );
  });
});

describe("card binding", () => {
  it("binds a card with the SMS OTP and returns a token, masked PAN and YYMM expiry", async () => {
    const h = await harness();
    const init = await h.client.bindCardInit({ cardNumber: humo1.pan, expiry: humo1.expiry });
    expect(init).toMatchObject({ status: "otp_sent", phone: humo1.phone });
    if (init.status !== "otp_sent") throw new Error("unreachable");
    const card = await h.client.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
    expect(card).toMatchObject({
      panMasked: "986009******4364",
      expiry: "2802",
      cardHolder: "TEST HUMO",
      phone: humo1.phone,
    });
    expect(card.cardToken).toMatch(/^[0-9A-F]{32}$/);
  });

  it("binding the same card twice answers already_bound with the existing card and token (ERR-133)", async () => {
    const h = await harness();
    const card = await bind(h.client, uzcard1);
    const again = await h.client.bindCardInit({ cardNumber: uzcard1.pan, expiry: "2903" });
    expect(again).toEqual({ status: "already_bound", card });
  });

  it("confirm with a wrong OTP: wrong_otp; unknown transaction: transaction_not_found", async () => {
    const h = await harness();
    const init = await h.client.bindCardInit({ cardNumber: humo2.pan, expiry: humo2.expiry });
    if (init.status !== "otp_sent") throw new Error("unreachable");
    expect(
      (
        await atmosFailure(() =>
          h.client.bindCardConfirm({ transactionId: init.transactionId, otp: "000000" }),
        )
      ).kind,
    ).toBe("wrong_otp");
    expect(
      (await atmosFailure(() => h.client.bindCardConfirm({ transactionId: 1, otp: SANDBOX_OTP }))).kind,
    ).toBe("transaction_not_found");
  });

  it.each([
    [expired, "card_expired"],
    [blocked, "card_blocked"],
    [smsNotConnected, "sms_not_connected"],
  ] as const)("bind-card init with a failing card (%#) → %s", async (card, kind) => {
    const h = await harness();
    expect(
      (await atmosFailure(() => h.client.bindCardInit({ cardNumber: card.pan, expiry: card.expiry }))).kind,
    ).toBe(kind);
  });

  it("lists and removes bound cards; removing again: card_not_found (ERR-004)", async () => {
    const h = await harness();
    const a = await bind(h.client, humo1);
    const b = await bind(h.client, uzcard1);
    expect(await h.client.listCards()).toEqual([
      { cardId: a.cardId, panMasked: a.panMasked, expiry: a.expiry, cardToken: a.cardToken },
      { cardId: b.cardId, panMasked: b.panMasked, expiry: b.expiry, cardToken: b.cardToken },
    ]);
    expect(await h.client.listCards({ page: 2, pageSize: 1 })).toHaveLength(1);
    await h.client.removeCard({ cardId: a.cardId, cardToken: a.cardToken });
    expect((await h.client.listCards()).map((c) => c.cardId)).toEqual([b.cardId]);
    const error = await atmosFailure(() => h.client.removeCard({ cardId: a.cardId, cardToken: a.cardToken }));
    expect(error).toMatchObject({ kind: "card_not_found", code: "STPIMS-ERR-004" });
  });
});

describe("chargeCardToken", () => {
  it("create → pre-apply(token) → apply(111111) charges the bound card", async () => {
    const h = await harness();
    const card = await bind(h.client, humo1);
    const paid = await h.client.chargeCardToken(card.cardToken, 2_900_000, "renewal-1");
    expect(paid).toMatchObject({
      state: "confirmed",
      amount: 2_900_000,
      account: "renewal-1",
      cardId: String(card.cardId),
    });
    expect(h.sandbox.ledger()[0]).toMatchObject({
      viaToken: true,
      state: "confirmed",
      cardMask: "986009******4364",
    });
  });

  it("a decline carries the transaction id (insufficient funds on a bound card)", async () => {
    const h = await harness();
    const card = await bind(h.client, insufficientFunds);
    const error = await atmosFailure(() => h.client.chargeCardToken(card.cardToken, 100, "r-2"));
    const id = h.sandbox.ledger()[0]!.transactionId;
    expect(error).toMatchObject({ kind: "insufficient_funds", transactionId: id, outcomeUnknown: false });
  });

  it("per-PAN outcome overrides: a bound card that becomes blocked", async () => {
    const h = await harness();
    const card = await bind(h.client, SANDBOX_CARDS.humo3);
    h.sandbox.configure({ cardOutcomes: { [SANDBOX_CARDS.humo3.pan]: "card_blocked" } });
    const error = await atmosFailure(() => h.client.chargeCardToken(card.cardToken, 100, "r-3"));
    expect(error).toMatchObject({
      kind: "card_blocked",
      transactionId: h.sandbox.ledger()[0]!.transactionId,
    });
    expect(error.isHardDecline).toBe(true);
  });

  it("an unknown token: card_not_found with the transaction id", async () => {
    const h = await harness();
    const error = await atmosFailure(() => h.client.chargeCardToken("NOPE", 100, "r-4"));
    expect(error).toMatchObject({
      kind: "card_not_found",
      transactionId: h.sandbox.ledger()[0]!.transactionId,
    });
  });

  it("token payments need the fixed OTP 111111", async () => {
    const h = await harness();
    const card = await bind(h.client, humo2);
    const created = await h.client.createTransaction({ amount: 100, account: "1" });
    await h.client.preApplyToken({ transactionId: created.transactionId, cardToken: card.cardToken });
    expect(
      (await atmosFailure(() => h.client.apply({ transactionId: created.transactionId, otp: "123456" })))
        .kind,
    ).toBe("wrong_otp");
  });
});

describe("merchant callback during apply", () => {
  it.each([
    ["md5", "account"],
    ["sha256", "invoice"],
    ["md5", "both"],
  ] as const)("is POSTed before confirming with a valid %s sign (field %s)", async (hash, field) => {
    const receiver = await startCallbackReceiver();
    cleanups.push(receiver.close);
    const h = await harness({
      sandbox: { callbackUrl: receiver.url, callbackHash: hash, callbackField: field },
    });
    const id = await preApplied(h.client, humo1, 1_500_000);
    await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    expect(receiver.received).toHaveLength(1);
    const body = receiver.received[0]!;
    expect(body).toMatchObject({
      store_id: CREDENTIALS.storeId,
      transaction_id: String(id),
      amount: "1500000",
    });
    if (field !== "invoice") expect(body.account).toBe("5001");
    if (field !== "account") expect(body.invoice).toBe("5001");
    expect(verifyCallbackSignature(body, CREDENTIALS.callbackApiKey, hash)).toBe(true);
    expect(verifyCallbackSignature({ ...body, amount: "1500001" }, CREDENTIALS.callbackApiKey, hash)).toBe(
      false,
    );
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "confirmed", callbackStatus: "accepted" });
  });

  it("a {status:0} refusal fails apply with ERR-070 (declined) and charges nothing", async () => {
    const receiver = await startCallbackReceiver({
      status: 200,
      body: { status: 0, message: "Invoice not found" },
    });
    cleanups.push(receiver.close);
    const h = await harness({ sandbox: { callbackUrl: receiver.url } });
    const id = await preApplied(h.client);
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error).toMatchObject({ kind: "declined", code: "STPIMS-ERR-070", outcomeUnknown: false });
    expect(h.sandbox.ledger()[0]).toMatchObject({
      state: "closed",
      closedReason: "callback_refused",
      successTransId: null,
    });
  });

  it("an unreachable callback URL fails apply the same way", async () => {
    const receiver = await startCallbackReceiver();
    await receiver.close();
    const h = await harness({ sandbox: { callbackUrl: receiver.url } });
    const id = await preApplied(h.client);
    const error = await atmosFailure(() => h.client.apply({ transactionId: id, otp: SANDBOX_OTP }));
    expect(error.code).toBe("STPIMS-ERR-070");
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "closed", callbackStatus: "unreachable" });
  });

  it("no callback configured: no callback, payment confirmed", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    await h.client.apply({ transactionId: id, otp: SANDBOX_OTP });
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "confirmed", callbackStatus: "not_sent" });
  });
});
