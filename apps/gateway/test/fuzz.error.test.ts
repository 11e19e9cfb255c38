import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  createSession,
  type Harness,
  internalAuth,
  randomTelegramId,
  startHarness,
  tma,
} from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const POST_PATHS = [
  "/api/v1/payment/create-link",
  "/api/v1/atmos/create",
  "/api/v1/atmos/pre-apply",
  "/api/v1/atmos/resend-otp",
  "/api/v1/atmos/apply",
  "/api/v1/atmos/callback",
];

describe("no input gets a 500 (property-based)", () => {
  it("arbitrary JSON bodies, near-valid bodies and arbitrary text on every POST endpoint", async () => {
    const telegramId = randomTelegramId();
    const link = await createSession(h, telegramId);
    const nearValid = fc.record(
      {
        session_id: fc.oneof(fc.constant(link.session_id), fc.uuid(), fc.string()),
        transaction_id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
        telegram_id: fc.oneof(fc.constant(telegramId), fc.integer(), fc.bigInt().map(String)),
        plan_slug: fc.oneof(fc.constantFrom("monthly", "yearly", "x"), fc.string()),
        amount: fc.oneof(fc.constant(2_900_000), fc.integer(), fc.double(), fc.string()),
        auto_renew: fc.oneof(fc.boolean(), fc.string()),
        card_number: fc.oneof(fc.stringMatching(/^\d{12,19}$/), fc.string()),
        expiry: fc.oneof(fc.stringMatching(/^\d{2}\/\d{2}$/), fc.stringMatching(/^\d{4}$/), fc.string()),
        otp: fc.oneof(fc.stringMatching(/^\d{6}$/), fc.string()),
        sign: fc.string(),
        store_id: fc.oneof(fc.constant("11054"), fc.string()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      nearValid.map((value) => JSON.stringify(value)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.string(),
    );
    const auth = fc.constantFrom(internalAuth, tma(telegramId), "tma x", undefined);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POST_PATHS), body, auth, async (path, rawBody, authorization) => {
        const res = await call(h, "POST", path, { auth: authorization ?? null, rawBody });
        expect(res.status, `${path} ${rawBody.slice(0, 80)}`).toBeLessThan(500);
        if (path !== "/api/v1/atmos/callback" && res.status >= 400) {
          expect(res.body.success).toBe(false);
          expect(typeof res.body.error.code).toBe("string");
        }
      }),
      { numRuns: 150, seed: 4242 },
    );
  });
});
