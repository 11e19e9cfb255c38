/** Wire → domain mapping with captured-style fixtures (atmos-api.md §3, §6). */
import { describe, expect, it } from "vitest";
import { describeResultCode } from "../src/result-codes";
import { toAtmosTransaction, transactionState } from "../src/transform";
import { applyResponseSchema, getResponseSchema, listCardsResponseSchema } from "../src/wire";

const applyFixture = {
  result: { code: "OK", description: "Нет ошибок" },
  store_transaction: {
    success_trans_id: "654321",
    trans_id: 202072,
    account: 12345,
    amount: "5000000",
    terminal_id: "T1",
    confirmed: true,
    prepay_time: 1700000000000,
    confirm_time: 1700000005000,
    card_id: "986009******1840",
    status_code: "0",
    status_message: "Success",
    details: null,
  },
  ofd_url: "https://ofd.example/1",
  ofd_url_commission: "https://ofd.example/2",
};

describe("transform", () => {
  it("reads an apply answer whose numbers arrive as strings", () => {
    const data = applyResponseSchema.parse(applyFixture);
    expect(toAtmosTransaction(data.store_transaction, "OK", 1, data.ofd_url)).toEqual({
      transactionId: 202072,
      successTransId: 654321,
      account: "12345",
      amount: 5_000_000,
      confirmed: true,
      state: "confirmed",
      cardId: "986009******1840",
      statusCode: "0",
      statusMessage: "Success",
      ofdUrl: "https://ofd.example/1",
      confirmTime: 1700000005000,
    });
  });

  it("decides the state by the data, not by result.code", () => {
    const st = (over: Record<string, unknown>) =>
      getResponseSchema.parse({ store_transaction: { trans_id: 1, ...over } }).store_transaction;
    expect(transactionState(st({ confirmed: false }), "OK")).toBe("created");
    expect(transactionState(st({ confirmed: false, prepay_time: 1 }), "OK")).toBe("pre_applied");
    expect(transactionState(st({ confirmed: false }), "STPIMS-ERR-092")).toBe("closed");
    expect(transactionState(st({ confirmed: true, success_trans_id: 9 }), "STPIMS-ERR-092")).toBe(
      "confirmed",
    );
    expect(transactionState(st({ confirmed: "false", success_trans_id: 9 }), "OK")).toBe("confirmed");
    expect(
      transactionState(
        st({ confirmed: true, success_trans_id: 9, status_message: "Canceled" }),
        "STPIMS-ERR-092",
      ),
    ).toBe("reversed");
  });

  it("accepts both list-cards array names", () => {
    const card = { card_id: 1, card_token: "T", pan: "986009******1840", expiry: 2505 };
    expect(listCardsResponseSchema.parse({ card_list: [card] })).toEqual([{ ...card, expiry: "2505" }]);
    expect(listCardsResponseSchema.parse({ cardDataSmallList: [card] })).toHaveLength(1);
    expect(listCardsResponseSchema.parse({})).toEqual([]);
  });

  it("maps result codes to kinds; an unknown code is unrecognised_result, never a decline", () => {
    expect(describeResultCode("STPIMS-ERR-112").kind).toBe("insufficient_funds");
    expect(describeResultCode("STPIMS-ERR-001")).toMatchObject({ kind: "internal", retryable: true });
    expect(describeResultCode("STPIMS-ERR-777")).toMatchObject({
      kind: "unrecognised_result",
      retryable: false,
    });
  });

  it("a reversed transaction is not confirmed (it must never grant anything)", () => {
    const st = getResponseSchema.parse({
      store_transaction: {
        trans_id: 5,
        confirmed: true,
        success_trans_id: 9,
        status_code: "0",
        status_message: "Canceled",
      },
    }).store_transaction;
    expect(toAtmosTransaction(st, "STPIMS-ERR-092", 5)).toMatchObject({
      state: "reversed",
      confirmed: false,
      successTransId: 9,
    });
  });
});
