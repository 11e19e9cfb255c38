import { describe, expect, it } from "vitest";
import { verifyInitData } from "../src/telegram-init-data";
import { signInitData } from "../src/testing";

const token = "123456:test-token";
const user = { id: 777000111, first_name: "Ali", language_code: "uz" };

describe("Telegram initData", () => {
  it("verifies what Telegram signs", () => {
    const raw = signInitData(user, token);
    const result = verifyInitData(raw, token, { maxAgeSeconds: 3600 });
    expect(result.ok && result.data.user.id).toBe(user.id);
  });
  it("refuses another bot's signature, a changed user, and stale data", () => {
    const raw = signInitData(user, token);
    expect(verifyInitData(raw, "999:other", { maxAgeSeconds: 3600 })).toEqual({
      ok: false,
      problem: "bad_signature",
    });
    const forged = raw.replace("777000111", "777000112");
    expect(verifyInitData(forged, token, { maxAgeSeconds: 3600 })).toEqual({
      ok: false,
      problem: "bad_signature",
    });
    const old = signInitData(user, token, { authDate: new Date(Date.now() - 7200_000) });
    expect(verifyInitData(old, token, { maxAgeSeconds: 3600 })).toEqual({ ok: false, problem: "expired" });
    expect(verifyInitData("garbage", token, { maxAgeSeconds: 3600 })).toEqual({
      ok: false,
      problem: "missing_hash",
    });
  });
});
