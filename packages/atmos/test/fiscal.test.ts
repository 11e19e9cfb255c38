/** The fiscal apply (confirm-with-ofd-list): receipt lines on the wire, the sandbox's checks, the receipt link. */
import { afterEach, describe, expect, it } from "vitest";
import type { AtmosOfdItem } from "../src/index";
import { SANDBOX_CARDS, SANDBOX_OTP } from "../src/sandbox/index";
import { receiptLink, toAtmosTransaction } from "../src/transform";
import { atmosFailure, setup } from "./helpers";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function harness(options: Parameters<typeof setup>[0] = {}) {
  const h = await setup(options);
  cleanups.push(h.sandbox.close);
  return h;
}
type Client = Awaited<ReturnType<typeof harness>>["client"];

const AMOUNT = 2_900_000;
const item = (over: Partial<AtmosOfdItem> = {}): AtmosOfdItem => ({
  ofdCode: "10305008002000000",
  name: "Obuna Premium 30 kun",
  amount: AMOUNT,
  quantity: 1,
  packageCode: "1501181",
  vatPercent: 12,
  ...over,
});

async function preApplied(client: Client, amount = AMOUNT) {
  const created = await client.createTransaction({ amount, account: "5001" });
  await client.preApplyCard({
    transactionId: created.transactionId,
    cardNumber: SANDBOX_CARDS.humo1.pan,
    expiry: SANDBOX_CARDS.humo1.expiry,
  });
  return created.transactionId;
}

describe("apply with ofdItems (confirm-with-ofd-list)", () => {
  it("sends the receipt lines to confirm-with-ofd-list and returns the receipt link", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    const paid = await h.client.apply({ transactionId: id, otp: SANDBOX_OTP, ofdItems: [item()] });
    expect(paid.state).toBe("confirmed");
    expect(paid.ofdUrl).toMatch(/^https:\/\/ofd\.soliq\.uz\//);
    expect(h.calls("/merchant/pay/confirm-with-ofd-list")).toBe(1);
    expect(h.calls("/merchant/pay/apply")).toBe(0);
    expect(h.sandbox.ledger()[0]).toMatchObject({
      state: "confirmed",
      ofdUrl: paid.ofdUrl,
      ofdItems: [
        {
          ofdCode: "10305008002000000",
          name: "Obuna Premium 30 kun",
          amount: AMOUNT,
          quantity: 1,
          packageCode: "1501181",
          vatPercent: 12,
        },
      ],
    });
    // get carries the link too (sandbox default; [U] for real ATMOS)
    expect((await h.client.getTransaction(id)).ofdUrl).toBe(paid.ofdUrl);
  });

  it("rejects bad lines before calling ATMOS (invalid_params, nothing sent)", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    for (const bad of [
      [item({ ofdCode: "12345" })],
      [item({ ofdCode: "1030500800200000a" })],
      [item({ quantity: 0 })],
      [item({ amount: 0 })],
      [item({ vatPercent: 101 })],
      [item({ packageCode: "ab" })],
      [item({ name: " " })],
    ]) {
      const error = await atmosFailure(() =>
        h.client.apply({ transactionId: id, otp: SANDBOX_OTP, ofdItems: bad }),
      );
      expect(error.kind).toBe("invalid_params");
    }
    expect(h.calls("/merchant/pay/confirm-with-ofd-list")).toBe(0);
    expect(h.sandbox.ledger()[0]!.state).toBe("pre_applied");
  });

  it("the sandbox refuses lines that do not sum to the amount (ERR-009), charging nothing", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    const error = await atmosFailure(() =>
      h.client.apply({ transactionId: id, otp: SANDBOX_OTP, ofdItems: [item({ amount: AMOUNT - 100 })] }),
    );
    expect(error).toMatchObject({ kind: "invalid_params", code: "STPIMS-ERR-009", outcomeUnknown: false });
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "pre_applied", ofdItems: null });
  });

  it("the sandbox validates raw ofd_items itself (code format, quantity, missing list)", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    const token = await fetch(`${h.sandbox.url}/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("test_consumer_key:test_consumer_secret").toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const send = (ofd_items: unknown) =>
      fetch(`${h.sandbox.url}/merchant/pay/confirm-with-ofd-list`, {
        method: "POST",
        headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
        body: JSON.stringify({ transaction_id: id, otp: SANDBOX_OTP, store_id: "7001", ofd_items }),
      }).then((r) => r.json() as Promise<{ result: { code: string } }>);
    const line = { ofd_code: "10305008002000000", name: "x", amount: AMOUNT, quantity: 1 };
    for (const bad of [
      undefined,
      [],
      [{ ...line, ofd_code: "123" }],
      [{ ...line, quantity: 0 }],
      [{ ...line, amount: AMOUNT + 1 }],
      [{ ...line, vat_percent: -1 }],
      [{ ...line, package_code: "x1" }],
    ]) {
      expect((await send(bad)).result.code).toBe("STPIMS-ERR-009");
    }
    expect(h.sandbox.ledger()[0]!.state).toBe("pre_applied");
    const split = [
      { ...line, amount: AMOUNT - 100_000 },
      { ...line, amount: 100_000 },
    ];
    expect((await send(split)).result.code).toBe("OK");
  });

  it("receiptlessNext: charged, but the answer has no receipt link (and get neither)", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    h.sandbox.configure({ receiptlessNext: 1 });
    const paid = await h.client.apply({ transactionId: id, otp: SANDBOX_OTP, ofdItems: [item()] });
    expect(paid).toMatchObject({ state: "confirmed", ofdUrl: null });
    expect((await h.client.getTransaction(id)).ofdUrl).toBeNull();
    expect(h.sandbox.ledger()[0]).toMatchObject({ state: "confirmed", ofdUrl: null });
  });

  it("a lost fiscal apply answer is an unknown outcome, never repeated; get gives the receipt", async () => {
    const h = await harness();
    const id = await preApplied(h.client);
    h.sandbox.configure({ loseNextApply: 1 });
    const error = await atmosFailure(() =>
      h.client.apply({ transactionId: id, otp: SANDBOX_OTP, ofdItems: [item()] }),
    );
    expect(error).toMatchObject({ outcomeUnknown: true, transactionId: id });
    expect(h.calls("/merchant/pay/confirm-with-ofd-list")).toBe(1);
    const resolved = await h.client.getTransaction(id);
    expect(resolved.state).toBe("confirmed");
    expect(resolved.ofdUrl).toBe(h.sandbox.ledger()[0]!.ofdUrl);
    expect(resolved.ofdUrl).toMatch(/^https:/);
  });

  it("ofdUrlOnGet false: get answers without the link", async () => {
    const h = await harness({ sandbox: { ofdUrlOnGet: false } });
    const id = await preApplied(h.client);
    await h.client.apply({ transactionId: id, otp: SANDBOX_OTP, ofdItems: [item()] });
    expect((await h.client.getTransaction(id)).ofdUrl).toBeNull();
  });

  it("chargeCardToken passes the receipt lines on", async () => {
    const h = await harness();
    const init = await h.client.bindCardInit({
      cardNumber: SANDBOX_CARDS.humo2.pan,
      expiry: SANDBOX_CARDS.humo2.expiry,
    });
    if (init.status !== "otp_sent") throw new Error("unreachable");
    const card = await h.client.bindCardConfirm({ transactionId: init.transactionId, otp: SANDBOX_OTP });
    const paid = await h.client.chargeCardToken(card.cardToken, 500_000, "r-1", [item({ amount: 500_000 })]);
    expect(paid.ofdUrl).toMatch(/^https:/);
    expect(h.sandbox.ledger()[0]!.ofdItems).toEqual([expect.objectContaining({ amount: 500_000 })]);
  });
});

describe("receipt link from ATMOS", () => {
  const st = {
    trans_id: 1,
    success_trans_id: 2,
    account: "a",
    amount: 100,
    confirmed: true,
    prepay_time: 1,
    confirm_time: 2,
    card_id: null,
    status_code: "0",
    status_message: "Success",
  } as unknown as Parameters<typeof toAtmosTransaction>[0];

  it.each([
    ["a javascript: URL", "javascript:alert(1)"],
    ["a data: URL", "data:text/html,<script>alert(1)</script>"],
    ["text", "not a url"],
    ["an overlong link", `https://ofd.soliq.uz/${"x".repeat(2100)}`],
  ])("anything but an http(s) link counts as no receipt: %s", (_label, value) => {
    expect(receiptLink(value)).toBeNull();
    expect(toAtmosTransaction(st, "OK", 1, value).ofdUrl).toBeNull();
  });

  it("keeps a real receipt link", () => {
    const url = "https://ofd.soliq.uz/check?t=UZ123&r=456&c=20260101&s=789";
    expect(toAtmosTransaction(st, "OK", 1, url).ofdUrl).toBe(url);
  });
});
