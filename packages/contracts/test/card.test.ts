import { describe, expect, it } from "vitest";
import {
  checkPan,
  detectCardType,
  findCardNumbers,
  groupPan,
  isExpired,
  maskCardNumbersIn,
  maskPan,
  normalizeExpiry,
  parseExpiry,
  passesLuhn,
} from "../src/card";
import { ERROR_CODES, ERROR_STATUS } from "../src/errors";
import { pickLanguage } from "../src/http/common";
import { formatPeriod, formatSom } from "../src/money";

describe("card rules", () => {
  it("checks Luhn on the ATMOS sandbox cards", () => {
    for (const pan of ["9860090101014364", "5614688715378807", "8600492986215602"]) {
      expect(passesLuhn(pan)).toBe(true);
    }
    expect(passesLuhn("9860090101014365")).toBe(false);
  });

  it("accepts UzCard and Humo, refuses others with a reason", () => {
    expect(checkPan("9860 0901 0101 4364")).toEqual({ ok: true, pan: "9860090101014364", type: "humo" });
    expect(checkPan("5614688715378807")).toMatchObject({ ok: true, type: "uzcard" });
    expect(checkPan("4111111111111111")).toEqual({ ok: false, problem: "unsupported_card" });
    expect(checkPan("9860090101014365")).toEqual({ ok: false, problem: "luhn" });
    expect(checkPan("98600901")).toEqual({ ok: false, problem: "length" });
    expect(detectCardType("8600123412341234")).toBe("uzcard");
  });

  it("masks as ATMOS does and groups for display", () => {
    expect(maskPan("9860090101014364")).toBe("986009******4364");
    expect(groupPan("98600901010")).toBe("9860 0901 010");
  });

  it("reads MM/YY, MMYY and YYMM expiries and sends YYMM", () => {
    expect(normalizeExpiry("02/28")).toBe("2802");
    expect(normalizeExpiry("0228")).toBe("2802"); // MMYY: 28 is no month
    expect(normalizeExpiry("2802")).toBe("2802"); // YYMM
    expect(normalizeExpiry("03/2029")).toBe("2903");
    expect(normalizeExpiry("13/28")).toBeNull();
    expect(normalizeExpiry("abcd")).toBeNull();
    expect(isExpired(parseExpiry("03/20")!, new Date("2026-11-28T00:00:00Z"))).toBe(true);
    expect(isExpired(parseExpiry("11/26")!, new Date("2026-11-28T00:00:00Z"))).toBe(false);
    expect(isExpired(parseExpiry("10/26")!, new Date("2026-11-28T00:00:00Z"))).toBe(true);
  });

  it("finds full card numbers in text, and not masked ones", () => {
    expect(findCardNumbers("a 9860090101014364 b 986009******4364 c 98600901010143640")).toEqual([
      "9860090101014364",
    ]);
  });
});

describe("money and language", () => {
  it("formats tiyin for people", () => {
    expect(formatSom(2_900_000)).toBe("29 000 so'm");
    expect(formatSom(29_000_000)).toBe("290 000 so'm");
    expect(formatSom(150)).toBe("1.50 so'm");
    expect(formatPeriod(30)).toBe("30 kun");
  });
  it("picks uz by default", () => {
    expect(pickLanguage("ru")).toBe("ru");
    expect(pickLanguage("en-US")).toBe("en");
    expect(pickLanguage("de")).toBe("uz");
    expect(pickLanguage(undefined)).toBe("uz");
  });
});

describe("error codes", () => {
  it("maps every code to one 4xx/5xx status", () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
    }
    // Only an unexpected fault may be a 500.
    expect(ERROR_CODES.filter((c) => ERROR_STATUS[c] === 500)).toEqual(["INTERNAL_ERROR"]);
  });
});

describe("maskCardNumbersIn (log lines, error reports)", () => {
  it("masks Luhn-valid 14-19 digit runs wherever they stand, and leaves timestamps, ids and other numbers", () => {
    expect(maskCardNumbersIn("/api/v1/user/9860090101014364/subscription")).toBe(
      "/api/v1/user/986009******4364/subscription",
    );
    expect(maskCardNumbersIn("bot-9860090101014364")).toBe("bot-986009******4364");
    expect(maskCardNumbersIn("miniapp-1796590022959")).toBe("miniapp-1796590022959");
    expect(maskCardNumbersIn("9860090101014365")).toBe("9860090101014365");
    expect(maskCardNumbersIn("req_0b7e4a52-8a0f-4b4f-9d0a-3f1f6f3a9a11")).toBe(
      "req_0b7e4a52-8a0f-4b4f-9d0a-3f1f6f3a9a11",
    );
  });
});
