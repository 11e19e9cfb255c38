import { sign } from "@tma.js/init-data-node";
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

  it("reads the signed user strictly: broken JSON or wrong field types are malformed, no id is no user", () => {
    const signed = (userJson: string | null) => {
      const data: Record<string, unknown> = { query_id: "AAHq", auth_date: 0, signature: "" };
      if (userJson !== null) data.user = userJson;
      return sign(data as unknown as Parameters<typeof sign>[0], token, new Date());
    };
    const verify = (raw: string) => verifyInitData(raw, token, { maxAgeSeconds: 3600 });
    expect(verify(signed('{"id":5,"first_name":"Ali"}'))).toMatchObject({
      ok: true,
      data: { user: { id: 5 } },
    });
    expect(verify(signed('{"id":5,'))).toEqual({ ok: false, problem: "malformed" });
    expect(verify(signed("[5]"))).toEqual({ ok: false, problem: "malformed" });
    expect(verify(signed('{"id":5,"first_name":7}'))).toEqual({ ok: false, problem: "malformed" });
    expect(verify(signed('{"id":5,"username":{"x":1}}'))).toEqual({ ok: false, problem: "malformed" });
    expect(verify(signed('{"first_name":"Ali"}'))).toEqual({ ok: false, problem: "no_user" });
    expect(verify(signed('{"id":"5"}'))).toEqual({ ok: false, problem: "no_user" });
    expect(verify(signed('{"id":1.5}'))).toEqual({ ok: false, problem: "no_user" });
    expect(verify(signed('{"id":-5}'))).toEqual({ ok: false, problem: "no_user" });
    expect(verify(signed(null))).toEqual({ ok: false, problem: "no_user" });
  });

  it("checks every request's hash with the token it is given (the derived key is per token)", () => {
    const raw = signInitData(user, token);
    expect(verifyInitData(raw, token, { maxAgeSeconds: 3600 }).ok).toBe(true);
    expect(verifyInitData(raw, "123456:test-tokem", { maxAgeSeconds: 3600 })).toEqual({
      ok: false,
      problem: "bad_signature",
    });
    expect(verifyInitData(raw, token, { maxAgeSeconds: 3600 }).ok).toBe(true);
  });
});
