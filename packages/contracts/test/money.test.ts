import { describe, expect, it } from "vitest";
import { formatMoney, formatSom } from "../src/money";
import { nextChargeAt } from "../src/schedule";

const NBSP = "\u00a0";

describe("formatMoney: UZS the way each language writes it, with non-breaking spaces", () => {
  it("uz: 29 000 soʻm; ru: 29 000 сум; en: UZS 29,000", () => {
    expect(formatMoney(2_900_000, "uz")).toBe(`29${NBSP}000${NBSP}soʻm`);
    expect(formatMoney(2_900_000, "ru")).toBe(`29${NBSP}000${NBSP}сум`);
    expect(formatMoney(2_900_000, "en")).toBe(`UZS${NBSP}29,000`);
    for (const lang of ["uz", "ru", "en"] as const) expect(formatMoney(290_000_000, lang)).not.toMatch(/ /);
  });

  it("agrees with CLDR (Intl) for Uzbek and English; Russian names the unit сум, never so'm", () => {
    const intl = (locale: string) =>
      new Intl.NumberFormat(locale, { style: "currency", currency: "UZS", maximumFractionDigits: 0 }).format(
        290_000,
      );
    expect(formatMoney(29_000_000, "uz")).toBe(intl("uz-UZ"));
    expect(formatMoney(29_000_000, "en")).toBe(intl("en-US"));
    // CLDR ru has no Russian symbol for UZS (it prints the ISO code) but the same grouping.
    expect(formatMoney(29_000_000, "ru").replace("сум", "UZS")).toBe(intl("ru-RU"));
    expect(formatMoney(29_000_000, "ru")).not.toContain("so");
  });

  it("tiyin remainders and big amounts", () => {
    expect(formatMoney(150, "uz")).toBe(`1,50${NBSP}soʻm`);
    expect(formatMoney(150, "en")).toBe(`UZS${NBSP}1.50`);
    expect(formatMoney(123_456_789_00, "en")).toBe(`UZS${NBSP}123,456,789`);
    expect(formatMoney(0, "ru")).toBe(`0${NBSP}сум`);
    // The admin/raw formatter is unchanged.
    expect(formatSom(2_900_000)).toBe("29 000 so'm");
  });
});

describe("nextChargeAt: when the renewal charge will be tried", () => {
  const end = new Date("2026-12-31T10:00:00Z");
  const lead = 24 * 3_600_000;
  const base = {
    status: "active" as const,
    autoRenew: true,
    endDate: end,
    nextRenewalAt: null,
    hasUsableCard: true,
  };

  it("lead time before end_date", () => {
    expect(nextChargeAt(base, lead)?.toISOString()).toBe("2026-12-30T10:00:00.000Z");
  });
  it("the planned retry while past due, when later", () => {
    const retry = new Date("2027-01-02T10:00:00Z");
    expect(nextChargeAt({ ...base, status: "past_due", nextRenewalAt: retry }, lead)).toEqual(retry);
  });
  it("none without auto-renew, a usable card, or access", () => {
    expect(nextChargeAt({ ...base, autoRenew: false }, lead)).toBeNull();
    expect(nextChargeAt({ ...base, hasUsableCard: false }, lead)).toBeNull();
    expect(nextChargeAt({ ...base, status: "expired" }, lead)).toBeNull();
    expect(nextChargeAt({ ...base, status: "canceled" }, lead)).toBeNull();
  });
});
