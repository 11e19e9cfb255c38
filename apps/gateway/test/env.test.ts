import { describe, expect, it } from "vitest";
import { loadGatewayEnv } from "../src/env";
import { CARD_TOKEN_KEY_HEX } from "./constants";

const required = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/obuna",
  REDIS_URL: "redis://127.0.0.1:6379/0",
  INTERNAL_API_TOKEN: "env-test-internal-token",
  BOT_TOKEN: "123456:env-test",
  CARD_TOKEN_KEY: CARD_TOKEN_KEY_HEX,
  ATMOS_BASE_URL: "http://127.0.0.1:9",
  ATMOS_CONSUMER_KEY: "key",
  ATMOS_CONSUMER_SECRET: "secret",
  ATMOS_STORE_ID: "11054",
  ATMOS_CALLBACK_API_KEY: "callback-key",
};

describe("gateway env", () => {
  it("OTP_RESEND_COOLDOWN_S defaults to 60 s and takes a value from 10 to 600", () => {
    expect(loadGatewayEnv(required).OTP_RESEND_COOLDOWN_S).toBe(60);
    expect(loadGatewayEnv({ ...required, OTP_RESEND_COOLDOWN_S: "120" }).OTP_RESEND_COOLDOWN_S).toBe(120);
    expect(() => loadGatewayEnv({ ...required, OTP_RESEND_COOLDOWN_S: "5" })).toThrow(
      /OTP_RESEND_COOLDOWN_S/,
    );
    expect(() => loadGatewayEnv({ ...required, OTP_RESEND_COOLDOWN_S: "soon" })).toThrow(
      /OTP_RESEND_COOLDOWN_S/,
    );
  });
});
