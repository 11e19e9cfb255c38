import { SANDBOX_CARDS } from "@obuna/atmos/sandbox";
import { containsCardNumber } from "@obuna/grammy/card-numbers";
import { describe, expect, it } from "vitest";

describe("containsCardNumber (support messages are never forwarded with a PAN)", () => {
  const pan = SANDBOX_CARDS.humo1.pan; // 9860090101014364, Luhn-valid

  it("finds a PAN written together, in groups of four, with dashes or dots, inside text", () => {
    expect(containsCardNumber(pan)).toBe(true);
    expect(containsCardNumber(`karta: ${pan.replace(/(\d{4})(?=\d)/g, "$1 ")} 02/28`)).toBe(true);
    expect(containsCardNumber(`card ${pan.replace(/(\d{4})(?=\d)/g, "$1-")}.`)).toBe(true);
    expect(containsCardNumber(`${pan.replace(/(\d{4})(?=\d)/g, "$1.")}`)).toBe(true);
    expect(containsCardNumber(`order 12 and ${pan.replace(/(\d{4})(?=\d)/g, "$1\u00a0")}`)).toBe(true);
  });

  it("leaves alone masked cards, amounts, phone numbers, dates and non-Luhn 16 digits", () => {
    expect(containsCardNumber("986009******4364")).toBe(false);
    expect(containsCardNumber("29 000 so'm, 01.11.2026, +998 90 123 45 67")).toBe(false);
    expect(containsCardNumber("9860 0901 0101 4365")).toBe(false); // last digit changed: Luhn fails
    expect(containsCardNumber(`${pan}1234`)).toBe(false); // 20 digits together: not a card number
    expect(containsCardNumber("the card ends in 4364")).toBe(false);
  });
});
