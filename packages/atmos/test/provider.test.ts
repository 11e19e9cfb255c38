/**
 * The ATMOS adapter of the PaymentProvider port, against the sandbox over HTTP: the port's words,
 * text ids and ProviderError come out of the same requests the client sends.
 */
import { createHash } from "node:crypto";
import { isProviderError, type PaymentProvider, type ProviderError } from "@obuna/provider";
import { afterEach, describe, expect, it } from "vitest";
import type { AtmosClient } from "../src/interface";
import { createAtmosProvider } from "../src/provider";
import { SANDBOX_CARDS, SANDBOX_OTP } from "../src/sandbox/index";
import { CREDENTIALS, setup } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(options: Parameters<typeof setup>[0] = {}) {
  const h = await setup({ ...options, client: { timeoutMs: 400, ...options.client } });
  cleanups.push(h.sandbox.close);
  const provider = createAtmosProvider({
    client: h.client,
    storeId: CREDENTIALS.storeId,
    callbackApiKey: CREDENTIALS.callbackApiKey,
  });
  return { ...h, provider };
}

async function providerFailure(fn: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await fn();
  } catch (error) {
    if (isProviderError(error)) return error;
    throw error;
  }
  throw new Error("expected a ProviderError, the call succeeded");
}

async function bindCard(
  provider: PaymentProvider,
  card: { pan: string; expiry: string } = SANDBOX_CARDS.uzcard1,
) {
  const started = await provider.startCardBinding({ cardNumber: card.pan, expiry: card.expiry });
  if (started.status === "already_bound") return started.card;
  return provider.confirmCardBinding({ bindingId: started.bindingId, code: SANDBOX_OTP });
}

describe("createAtmosProvider: pay by card with an SMS code", () => {
  it("create → send code → confirm gives a confirmed payment with text ids", async () => {
    const { provider, sandbox } = await harness();
    const created = await provider.createPayment({ amount: 2_900_000, reference: "obuna-1", lang: "uz" });
    expect(created).toMatchObject({
      state: "created",
      reference: "obuna-1",
      amount: 2_900_000,
      settlementId: null,
    });
    expect(created.externalId).toMatch(/^\d+$/);

    const { humo1 } = SANDBOX_CARDS;
    await provider.sendPaymentCode({
      externalId: created.externalId,
      cardNumber: humo1.pan,
      expiry: humo1.expiry,
    });
    expect((await provider.getPayment(created.externalId)).state).toBe("awaiting_confirmation");

    const paid = await provider.confirmPayment({ externalId: created.externalId, code: SANDBOX_OTP });
    expect(paid.state).toBe("confirmed");
    expect(paid.externalId).toBe(created.externalId);
    expect(paid.settlementId).toMatch(/^\d+$/);
    const entry = sandbox.ledger().find((e) => String(e.transactionId) === created.externalId);
    expect(entry?.state).toBe("confirmed");
  });

  it("a wrong code is `wrong_code`, carries the payment, and nothing is charged", async () => {
    const { provider } = await harness();
    const created = await provider.createPayment({ amount: 1_000_000, reference: "obuna-2" });
    const { uzcard1 } = SANDBOX_CARDS;
    await provider.sendPaymentCode({
      externalId: created.externalId,
      cardNumber: uzcard1.pan,
      expiry: uzcard1.expiry,
    });
    const error = await providerFailure(() =>
      provider.confirmPayment({ externalId: created.externalId, code: "000000" }),
    );
    expect(error).toMatchObject({ provider: "atmos", kind: "wrong_code", outcomeUnknown: false });
    expect((await provider.getPayment(created.externalId)).state).not.toBe("confirmed");
  });

  it("a lost confirm answer is an unknown outcome naming the payment, resolved with getPayment", async () => {
    const { provider, sandbox } = await harness({ sandbox: { faultPath: "/merchant/pay/apply" } });
    const created = await provider.createPayment({ amount: 1_500_000, reference: "obuna-3" });
    const { humo1 } = SANDBOX_CARDS;
    await provider.sendPaymentCode({
      externalId: created.externalId,
      cardNumber: humo1.pan,
      expiry: humo1.expiry,
    });
    sandbox.configure({ timeoutNext: 1 });
    const error = await providerFailure(() =>
      provider.confirmPayment({ externalId: created.externalId, code: SANDBOX_OTP }),
    );
    expect(error).toMatchObject({ kind: "timeout", outcomeUnknown: true, externalId: created.externalId });
    expect(["awaiting_confirmation", "confirmed"]).toContain(
      (await provider.getPayment(created.externalId)).state,
    );
  });

  it("an id that is not an ATMOS id is refused before any request is sent", async () => {
    const { provider, sandbox } = await harness();
    const before = sandbox.requests().length;
    for (const bad of ["", "abc", "12.5", "-4", "1e5", "99999999999999999999"]) {
      const error = await providerFailure(() => provider.getPayment(bad));
      expect(error.kind).toBe("invalid_params");
    }
    expect(sandbox.requests().length).toBe(before);
  });

  it("a declined card maps to the port's kind (insufficient funds is not a hard decline)", async () => {
    const { provider } = await harness();
    const created = await provider.createPayment({ amount: 1_000_000, reference: "obuna-4" });
    const card = SANDBOX_CARDS.insufficientFunds;
    const error = await providerFailure(async () => {
      await provider.sendPaymentCode({
        externalId: created.externalId,
        cardNumber: card.pan,
        expiry: card.expiry,
      });
      await provider.confirmPayment({ externalId: created.externalId, code: SANDBOX_OTP });
    });
    expect(error.kind).toBe("insufficient_funds");
    expect(error.isHardDecline).toBe(false);
  });
});

describe("createAtmosProvider: saved cards", () => {
  it("binds a card, charges it without the cardholder (token OTP inside), reverses and removes it", async () => {
    const { provider, sandbox } = await harness();
    const card = await bindCard(provider);
    expect(card.cardRef).toMatch(/^\d+$/);
    expect(card.panMasked).toMatch(/^\d{6}\*+\d{4}$/);
    expect(card.token.length).toBeGreaterThan(0);

    const charged = await provider.chargeSavedCard({
      cardToken: card.token,
      amount: 990_000,
      reference: "renewal-1",
    });
    expect(charged.state).toBe("confirmed");

    // the two-step form: prepare with the token, confirm (no code from the caller)
    const created = await provider.createPayment({ amount: 990_000, reference: "obuna-5" });
    await provider.prepareSavedCardPayment({ externalId: created.externalId, cardToken: card.token });
    const confirmed = await provider.confirmSavedCardPayment({ externalId: created.externalId });
    expect(confirmed.state).toBe("confirmed");
    const applies = sandbox.requests().filter((r) => r.path === "/merchant/pay/apply");
    expect(applies.length).toBeGreaterThanOrEqual(2);

    await provider.reversePayment({ externalId: confirmed.externalId, reason: "test refund" });
    expect((await provider.getPayment(confirmed.externalId)).state).toBe("reversed");

    await provider.removeCard({ cardRef: card.cardRef, cardToken: card.token });
    const error = await providerFailure(() =>
      provider.chargeSavedCard({ cardToken: card.token, amount: 990_000, reference: "renewal-2" }),
    );
    expect(error.provider).toBe("atmos");
  });

  it("binding a card ATMOS already holds answers `already_bound` with the same card", async () => {
    const { provider } = await harness();
    const first = await bindCard(provider, SANDBOX_CARDS.humo2);
    const again = await provider.startCardBinding({
      cardNumber: SANDBOX_CARDS.humo2.pan,
      expiry: SANDBOX_CARDS.humo2.expiry,
    });
    expect(again.status).toBe("already_bound");
    if (again.status === "already_bound") expect(again.card.cardRef).toBe(first.cardRef);
  });
});

describe("createAtmosProvider: callbacks", () => {
  // The documented formula (atmos-api.md §7), computed here with node:crypto, not with our signer:
  // md5(store_id + transaction_id + account + amount + api_key) over the values as received.
  const md5 = (s: string) => createHash("md5").update(s, "utf8").digest("hex");

  it("accepts a callback signed over the raw values, a JSON number keeping its own text", async () => {
    const { provider } = await harness();
    const sign = md5(`${CREDENTIALS.storeId}777ord-15000000.0${CREDENTIALS.callbackApiKey}`);
    const rawBody = `{"store_id":"${CREDENTIALS.storeId}","transaction_id":777,"account":"ord-1","amount":5000000.0,"sign":"${sign}"}`;
    const notice = provider.verifyCallback({ body: JSON.parse(rawBody), rawBody });
    expect(notice).toEqual({
      authentic: true,
      forUs: true,
      externalId: "777",
      reference: "ord-1",
      amount: 5_000_000,
    });
  });

  it("a forged sign is not authentic; another store's callback is not for us", async () => {
    const { provider } = await harness();
    const forgedBody = `{"store_id":"${CREDENTIALS.storeId}","transaction_id":"777","account":"ord-1","amount":"5000000","sign":"${"0".repeat(32)}"}`;
    expect(provider.verifyCallback({ body: JSON.parse(forgedBody), rawBody: forgedBody }).authentic).toBe(
      false,
    );

    const other = "9999";
    const sign = md5(`${other}777ord-15000000${CREDENTIALS.callbackApiKey}`);
    const otherBody = `{"store_id":"${other}","transaction_id":"777","account":"ord-1","amount":"5000000","sign":"${sign}"}`;
    const notice = provider.verifyCallback({ body: JSON.parse(otherBody), rawBody: otherBody });
    expect(notice).toMatchObject({ authentic: true, forUs: false });
  });

  it("a body that is not JSON is read as nothing and is not authentic", async () => {
    const { provider } = await harness();
    expect(provider.verifyCallback({ body: null, rawBody: "store_id=1&sign=x" })).toEqual({
      authentic: false,
      forUs: false,
      externalId: null,
      reference: null,
      amount: null,
    });
  });
});

describe("createAtmosProvider: reverse", () => {
  it("reverses by the settlement id (ATMOS success_trans_id) when given, else by the payment id", async () => {
    const seen: Array<{ transactionId: number; reason: string }> = [];
    const client = {
      reverse: async (input: { transactionId: number; reason: string }) => {
        seen.push(input);
        return { transactionId: input.transactionId };
      },
    } as unknown as AtmosClient;
    const provider = createAtmosProvider({ client, storeId: CREDENTIALS.storeId });
    await provider.reversePayment({ externalId: "101", settlementId: "9001", reason: "refund" });
    await provider.reversePayment({ externalId: "102", settlementId: null, reason: "refund" });
    expect(seen).toEqual([
      { transactionId: 9001, reason: "refund" },
      { transactionId: 102, reason: "refund" },
    ]);
  });
});
