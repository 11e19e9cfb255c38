import { readFileSync } from "node:fs";
import { join } from "node:path";
import { declaredEnvRoles } from "@obuna/contracts/env";
import { ERROR_CODES } from "@obuna/contracts/errors";
import { describe, expect, inject, it } from "vitest";
import { MiniappEnvSchema, parseMiniappEnv } from "../src/env";
import { validateCard } from "../src/lib/card-checks";
import { IdempotencyKeys, isRetryable } from "../src/lib/gateway-client";
import {
  errorMessageKey,
  errorText,
  LANGUAGES,
  type MessageKey,
  pickLanguage,
  translator,
} from "../src/lib/i18n";
import { describeTelegramUser, parseInitDataUser, parseLaunchTheme } from "../src/lib/telegram";
import { gatewayPathOf, isAllowedRoute, requestIdOf } from "../src/server/gateway-proxy";

describe("i18n", () => {
  const english = translator("en");

  it("every language has every text, with the same placeholders", async () => {
    const source = await import("node:fs").then((fs) =>
      fs.readFileSync(new URL("../src/lib/i18n.ts", import.meta.url), "utf8"),
    );
    const allKeys = [...new Set([...source.matchAll(/^ {2}"([a-z_.A-Z]+)":/gm)].map((m) => m[1]!))];
    expect(allKeys.length).toBeGreaterThan(100);
    for (const lang of LANGUAGES) {
      const t = translator(lang);
      for (const key of allKeys as MessageKey[]) {
        const text = t(key);
        expect(text, `${lang} ${key}`).not.toBe(key);
        const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect(placeholders(text), `${lang} ${key}`).toEqual(placeholders(english(key)));
      }
    }
  });

  it("fills placeholders and picks the language from Telegram's language_code", () => {
    expect(translator("uz")("checkout.pay", { price: "29 000 so'm" })).toBe("29 000 so'm to'lash");
    expect(pickLanguage("ru-RU")).toBe("ru");
    expect(pickLanguage("en")).toBe("en");
    expect(pickLanguage("de")).toBe("uz");
    expect(pickLanguage(undefined)).toBe("uz");
  });

  it("has a plain-language message for every error a payer can meet", () => {
    const payerFacing = [
      "WRONG_OTP",
      "OTP_EXPIRED",
      "OTP_ATTEMPTS_EXCEEDED",
      "INSUFFICIENT_FUNDS",
      "CARD_EXPIRED",
      "CARD_BLOCKED",
      "CARD_DECLINED",
      "SMS_NOT_CONNECTED",
      "SESSION_EXPIRED",
      "SESSION_FAILED",
      "PAYMENT_PROVIDER_UNAVAILABLE",
    ];
    for (const code of payerFacing) expect(errorMessageKey(code)).toBe(`error.${code}`);
    for (const code of ERROR_CODES) expect(translator("ru")(errorMessageKey(code))).toMatch(/\S/);
    expect(errorMessageKey("SOMETHING_NEW")).toBe("error.UNKNOWN");
  });
});

describe("rate-limit wait (429 RATE_LIMITED + Retry-After)", () => {
  it("names the wait in the person's language, rounded up to minutes from one minute on", () => {
    const limited = (retryAfterS?: number) => ({
      code: "RATE_LIMITED",
      ...(retryAfterS ? { retryAfterS } : {}),
    });
    expect(errorText(translator("en"), limited(3541))).toBe("Too many attempts. Try again in 60 min.");
    expect(errorText(translator("ru"), limited(61))).toBe(
      "Слишком много попыток. Попробуйте снова через 2 мин.",
    );
    expect(errorText(translator("uz"), limited(45))).toBe(
      "Urinishlar juda ko'p. 45 soniyadan keyin qayta urining.",
    );
    // Without a Retry-After the general text stays.
    expect(errorText(translator("en"), limited())).toBe(translator("en")("error.RATE_LIMITED"));
    expect(errorText(translator("en"), { code: "WRONG_OTP", retryAfterS: 30 })).toBe("Wrong code.");
  });
});

describe("card form checks", () => {
  it("accepts a valid UzCard/Humo number with a future MM/YY", () => {
    expect(validateCard("9860 0901 0101 4364", "02/40")).toEqual({});
  });
  it("names the problem", () => {
    expect(validateCard("8600 1234", "12/40").pan).toBe("card.error.length");
    expect(validateCard("8600123412341235", "12/40").pan).toBe("card.error.luhn");
    expect(validateCard("4111111111111111", "12/40").pan).toBe("card.error.unsupported_card");
    expect(validateCard("9860090101014364", "13/40").expiry).toBe("card.error.expiry_format");
    expect(validateCard("9860090101014364", "01/20").expiry).toBe("card.error.expiry_past");
  });
});

describe("idempotency keys", () => {
  it("reuses the key when the same action is retried and changes it for a new action", () => {
    const keys = new IdempotencyKeys();
    const first = keys.keyFor("apply", { otp: "000000" });
    expect(keys.keyFor("apply", { otp: "000000" })).toBe(first);
    const second = keys.keyFor("apply", { otp: "111111" });
    expect(second).not.toBe(first);
    keys.done("apply");
    expect(keys.keyFor("apply", { otp: "111111" })).not.toBe(second);
    expect(first).toMatch(/^[\x21-\x7e]{1,255}$/);
  });
  it("retries only errors after which the same request may be sent again", () => {
    expect(isRetryable({ code: "NETWORK", message: "", status: 0 })).toBe(true);
    expect(isRetryable({ code: "WRONG_OTP", message: "", status: 400 })).toBe(false);
  });
});

describe("Telegram launch parameters", () => {
  it("reads only the theme from the fragment (who is signed in comes from Telegram.WebApp)", () => {
    expect(parseLaunchTheme(`#tgWebAppThemeParams=${encodeURIComponent('{"bg_color":"#000000"}')}`)).toEqual({
      bg_color: "#000000",
    });
    expect(parseLaunchTheme("#tgWebAppThemeParams=not-json")).toBeNull();
    expect(parseLaunchTheme("")).toBeNull();
  });
  it("reads the user of an initData string, and nothing from one without a usable user", () => {
    const initData = new URLSearchParams({
      user: JSON.stringify({ id: 42, first_name: "Ali", username: "ali", language_code: "ru" }),
      auth_date: "1",
      hash: "x",
    });
    expect(parseInitDataUser(initData.toString())).toMatchObject({ id: 42, language_code: "ru" });
    expect(parseInitDataUser("auth_date=1")).toBeNull();
    expect(parseInitDataUser(null)).toBeNull();
  });
  it("names the paying account with name, username and id", () => {
    expect(
      describeTelegramUser({ id: 42, first_name: "Oʻgʻiloy", last_name: "Toʼxtayeva", username: "ogi" }),
    ).toBe("Oʻgʻiloy Toʼxtayeva (@ogi, id 42)");
    expect(describeTelegramUser({ id: 7 })).toBe("id 7");
  });
});

describe("gateway proxy", () => {
  it("forwards only the Mini App's endpoints", () => {
    expect(gatewayPathOf("/api/gw/checkout/apply?x=1")).toBe("checkout/apply");
    expect(isAllowedRoute("GET", "payment/session/0b7e4a52-8a0f-4b4f-9d0a-3f1f6f3a9a11")).toBe("ok");
    expect(isAllowedRoute("POST", "checkout/pre-apply")).toBe("ok");
    // The deprecated gateway paths stay reachable for a page loaded before the switch.
    expect(isAllowedRoute("POST", "atmos/pre-apply")).toBe("ok");
    expect(isAllowedRoute("DELETE", "user/42/cards/7")).toBe("ok");
    expect(isAllowedRoute("POST", "subscription/5/cancel")).toBe("ok");
    // The language a user picks on the page is stored as theirs (gateway: only their own).
    expect(isAllowedRoute("PUT", "user/42/language")).toBe("ok");
    expect(isAllowedRoute("POST", "user/42/language")).toBe("method_not_allowed");
    expect(isAllowedRoute("GET", "checkout/apply")).toBe("method_not_allowed");
    expect(isAllowedRoute("POST", "payment/create-link")).toBe("not_found");
    expect(isAllowedRoute("POST", "checkout/callback")).toBe("not_found");
    expect(isAllowedRoute("POST", "atmos/callback")).toBe("not_found");
    expect(isAllowedRoute("GET", "admin/payments")).toBe("not_found");
    expect(isAllowedRoute("GET", "user/42/../../admin")).toBe("not_found");
  });

  it("answers in the gateway's error envelope, through the running Mini App server", async () => {
    const base = inject("miniappUrl");
    const unknown = await fetch(`${base}/api/gw/payment/create-link`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ success: false, error: { code: "NOT_FOUND" } });
    const wrongMethod = await fetch(`${base}/api/gw/checkout/apply`);
    expect(wrongMethod.status).toBe(405);
    const tooBig = await fetch(`${base}/api/gw/checkout/apply`, { method: "POST", body: "x".repeat(20_000) });
    expect(tooBig.status).toBe(413);
    // Forwarded to the real gateway, which wants Telegram initData.
    const unauthenticated = await fetch(`${base}/api/gw/checkout/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } });
    expect(unauthenticated.headers.get("cache-control")).toBe("no-store");
    // The page where the card is typed may send requests only to its own origin.
    // The built Mini App (`next start` on the `next build` output, started by the global setup) serves `/`.
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self';");
    expect(page.headers.get("content-security-policy")).toContain(
      "script-src 'self' 'unsafe-inline' https://telegram.org;",
    );
  });
});

describe("request id through the proxy", () => {
  it("keeps a well-formed x-request-id, replaces a malformed one, and the gateway logs and echoes it", async () => {
    expect(requestIdOf("tg-9f2c.retry_1")).toBe("tg-9f2c.retry_1");
    for (const bad of [undefined, "", "has space", "x".repeat(65), "new\nline", ["a", "b"]]) {
      expect(requestIdOf(bad)).toMatch(/^miniapp_[0-9a-f-]{36}$/);
    }
    const base = inject("miniappUrl");
    const send = (requestId?: string) =>
      fetch(`${base}/api/gw/checkout/create`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(requestId ? { "x-request-id": requestId } : {}) },
        body: "{}",
      });
    const given = `miniapp-test-${Date.now()}`;
    const kept = await send(given);
    expect(kept.status).toBe(401);
    expect(kept.headers.get("x-request-id")).toBe(given);
    expect(((await kept.json()) as { error: { requestId: string } }).error.requestId).toBe(given);

    // None, or one the gateway would not take: the proxy makes one (the gateway's own start with req_).
    const made = await send();
    const madeId = made.headers.get("x-request-id")!;
    expect(madeId).toMatch(/^miniapp_[0-9a-f-]{36}$/);
    const replaced = await send("<script>alert(1)</script>");
    expect(replaced.headers.get("x-request-id")).toMatch(/^miniapp_[0-9a-f-]{36}$/);
    // Refused by the proxy itself: the same id in the header and the envelope.
    const refused = await fetch(`${base}/api/gw/payment/create-link`, {
      method: "POST",
      headers: { "x-request-id": given },
    });
    expect(refused.headers.get("x-request-id")).toBe(given);
    expect(((await refused.json()) as { error: { requestId: string } }).error.requestId).toBe(given);

    // The gateway's log lines of those requests carry the ids.
    const log = readFileSync(join(import.meta.dirname, "../test-artifacts/logs/gateway.log"), "utf8");
    expect(log).toContain(`"requestId":"${given}"`);
    expect(log).toContain(`"requestId":"${madeId}"`);
  });
});

describe("env", () => {
  it("defaults to the local gateway and rejects a bad URL", () => {
    expect(parseMiniappEnv({}).GATEWAY_URL).toBe("http://127.0.0.1:8030");
    expect(() => parseMiniappEnv({ GATEWAY_URL: "not a url" })).toThrow(/GATEWAY_URL/);
  });
});

describe("env in production (NODE_ENV=production, as `next start` runs)", () => {
  it("goes through the shared production guard; the Mini App server holds no secret, so .env.example starts", () => {
    const text = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
    const example = Object.fromEntries(
      text
        .split("\n")
        .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    // A secret added to MiniappEnvSchema with secret() is refused like the other apps' (see
    // packages/contracts/test/env.test.ts); today it has none.
    expect(declaredEnvRoles(MiniappEnvSchema)).toEqual({});
    expect(parseMiniappEnv({ ...example, NODE_ENV: "production" }).GATEWAY_URL).toBe("http://127.0.0.1:8030");
  });
});
