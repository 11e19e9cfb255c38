import { describe, expect, it } from "vitest";
import { receivedCallbackValues, signCallback, verifyCallbackSignature } from "../src/index";

// Vectors computed independently: printf '1234999425000000secret' | md5sum / sha256sum
const MD5 = "abb233f2dc17dbd388d58ab074f0de9b";
const SHA256 = "f1711f234905906c3b9f57b206577e651f2c6f716d69bca1fa915c778cb56594";
const base = {
  store_id: "1234",
  transaction_id: "999",
  transaction_time: "1700000000000",
  amount: "5000000",
};

describe("callback signature", () => {
  it("signs md5 (default) and sha256 known vectors", () => {
    expect(signCallback({ ...base, invoice: "42" }, "secret")).toBe(MD5);
    expect(signCallback({ ...base, account: "42" }, "secret", "md5")).toBe(MD5);
    expect(signCallback({ ...base, account: "42" }, "secret", "sha256")).toBe(SHA256);
  });

  it.each([
    ["invoice", "md5", MD5],
    ["account", "md5", MD5],
    ["invoice", "sha256", SHA256],
    ["account", "sha256", SHA256],
  ] as const)("verifies a %s body signed with %s", (field, hash, sign) => {
    const body = { ...base, [field]: "42", sign };
    expect(verifyCallbackSignature(body, "secret", hash)).toBe(true);
  });

  it("accepts a body with both fields and an upper-case sign", () => {
    expect(
      verifyCallbackSignature({ ...base, invoice: "42", account: "42", sign: MD5.toUpperCase() }, "secret"),
    ).toBe(true);
  });

  it("uses the raw received strings (numbers as sent)", () => {
    expect(
      verifyCallbackSignature(
        { store_id: 1234, transaction_id: 999, amount: 5000000, account: 42, sign: MD5 },
        "secret",
      ),
    ).toBe(true);
    // "5000000.00" is a different raw string: not re-formatted, so the sign no longer matches
    expect(
      verifyCallbackSignature({ ...base, amount: "5000000.00", account: "42", sign: MD5 }, "secret"),
    ).toBe(false);
  });

  it("rejects a tampered amount, account, key, hash or a missing field", () => {
    expect(verifyCallbackSignature({ ...base, amount: "5000001", account: "42", sign: MD5 }, "secret")).toBe(
      false,
    );
    expect(verifyCallbackSignature({ ...base, account: "43", sign: MD5 }, "secret")).toBe(false);
    expect(verifyCallbackSignature({ ...base, account: "42", sign: MD5 }, "other")).toBe(false);
    expect(verifyCallbackSignature({ ...base, account: "42", sign: MD5 }, "secret", "sha256")).toBe(false);
    expect(verifyCallbackSignature({ ...base, sign: MD5 }, "secret")).toBe(false);
    expect(verifyCallbackSignature({ ...base, account: "42" }, "secret")).toBe(false);
    expect(verifyCallbackSignature({ ...base, account: "42", sign: "abc" }, "secret")).toBe(false);
    expect(verifyCallbackSignature(null, "secret")).toBe(false);
    expect(verifyCallbackSignature({ ...base, account: "42", sign: MD5 }, "")).toBe(false);
  });
});

describe("receivedCallbackValues (the values ATMOS signed, as received)", () => {
  it("keeps numbers as their own text and decodes strings; skips nested values and null", () => {
    expect(
      receivedCallbackValues(
        '{ "store_id":"1234", "transaction_id":999, "amount":5000000.00, "account":"4\\u0032", "x":{"a":[1,"}"]}, "y":null, "sign":"s" }',
      ),
    ).toEqual({ store_id: "1234", transaction_id: "999", amount: "5000000.00", account: "42", sign: "s" });
  });

  it("a sign over the raw amount text verifies; over the re-formatted number it does not", () => {
    const text = `{"store_id":"1234","transaction_id":"999","amount":5000000.0,"account":"42","sign":"${signCallback(
      { ...base, amount: "5000000.0", account: "42" },
      "secret",
    )}"}`;
    expect(verifyCallbackSignature(receivedCallbackValues(text), "secret")).toBe(true);
    expect(verifyCallbackSignature(JSON.parse(text), "secret")).toBe(false);
  });

  it("answers null for anything but one well-formed JSON object", () => {
    for (const text of [
      "",
      "[]",
      "1",
      '"x"',
      "{",
      '{"a":1,}',
      '{"a":1} {}',
      '{"a" 1}',
      "not json",
      '{"a":"\\x"}',
    ])
      expect(receivedCallbackValues(text), text).toBeNull();
    expect(receivedCallbackValues(" {} ")).toEqual({});
  });
});
