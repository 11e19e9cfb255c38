import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  createSession,
  type Harness,
  type Json,
  randomTelegramId,
  SANDBOX_CARDS,
  startHarness,
  tma,
} from "./harness";

/**
 * Telegram auth at the gateway, with launch data as real clients send it (issue 13) and the short
 * max age for paying (issue 17 item 12).
 */

// Captured from a real Telegram client (Bot API 8.0+, `signature` present), published with its
// bot token by @tma.js/init-data-node's tests. See packages/contracts/test/*.conformance.test.ts.
const REAL_BOT_TOKEN = "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ";
const REAL_USER = 279058397;
const REAL_AUTH_DATE_MS = 1733584787 * 1000;
const REAL_INIT_DATA =
  "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6";

function expect401(res: { status: number; body: Json }, reason?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body.error.code).toBe("UNAUTHORIZED");
  if (reason) expect(res.body.error.details).toEqual({ reason });
}

/** A gateway for the captured vector's bot, its clock one minute after that launch. */
async function realBotGateway(patch: Parameters<typeof startHarness>[0] = {}) {
  const gateway = await startHarness({ botToken: REAL_BOT_TOKEN, ...patch }, { resetData: false });
  gateway.clock.offsetMs = REAL_AUTH_DATE_MS + 60_000 - Date.now();
  return gateway;
}

describe("launch data from real Telegram clients", () => {
  it("accepts the captured Bot API 8.0 launch string (with `signature`) as `tma <initData>`", async () => {
    const gateway = await realBotGateway();
    try {
      const link = await createSession(gateway, REAL_USER);
      const res = await call(gateway, "GET", `/api/v1/payment/session/${link.session_id}`, {
        auth: `tma ${REAL_INIT_DATA}`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      // Changing the third-party signature breaks the bot-token hash too.
      const tampered = REAL_INIT_DATA.replace("signature=zL-", "signature=zM-");
      expect401(
        await call(gateway, "GET", `/api/v1/user/${REAL_USER}/subscription`, { auth: `tma ${tampered}` }),
        "bad_signature",
      );
    } finally {
      await gateway.close();
    }
  });

  it("with TMA_INIT_DATA_THIRD_PARTY_CHECK on, also needs Telegram's Ed25519 signature", async () => {
    const gateway = await realBotGateway({ initDataThirdPartyCheck: true, devAllowUnsignedInitData: true });
    try {
      const link = await createSession(gateway, REAL_USER);
      const path = `/api/v1/payment/session/${link.session_id}`;
      expect((await call(gateway, "GET", path, { auth: `tma ${REAL_INIT_DATA}` })).status).toBe(200);
      // Signed with the bot token (valid `hash`) but the `signature` is not Telegram's: someone
      // holding the bot token cannot mint launch data.
      const botSigned = tma(REAL_USER, {
        botToken: REAL_BOT_TOKEN,
        authDate: new Date(REAL_AUTH_DATE_MS + 30_000),
      });
      expect401(await call(gateway, "GET", path, { auth: botSigned }), "bad_third_party_signature");
      // Local development keeps working: `tma dev:<id>` has no signature to check.
      expect((await call(gateway, "GET", path, { auth: `tma dev:${REAL_USER}` })).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});

describe("paying needs fresh launch data (TMA_INIT_DATA_PAY_MAX_AGE_S)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ initDataMaxAgeS: 86_400, initDataPayMaxAgeS: 900 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("create and pre-apply refuse 20-minute-old initData with 401 `stale`; reading still works", async () => {
    const telegramId = randomTelegramId();
    const old = tma(telegramId, { authDate: new Date(Date.now() - 20 * 60_000) });
    const fresh = tma(telegramId, { authDate: new Date(Date.now() - 60_000) });
    const link = await createSession(h, telegramId);
    const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth: old });
    expect(session.status).toBe(200);
    const createBody = { session_id: link.session_id, amount: session.body.data.amount, auto_renew: true };
    expect401(await call(h, "POST", "/api/v1/checkout/create", { auth: old, body: createBody }), "stale");
    const created = await call(h, "POST", "/api/v1/checkout/create", { auth: fresh, body: createBody });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const preBody = {
      session_id: link.session_id,
      transaction_id: created.body.data.transaction_id,
      card_number: SANDBOX_CARDS.humo1.pan,
      expiry: SANDBOX_CARDS.humo1.expiry,
    };
    expect401(await call(h, "POST", "/api/v1/checkout/pre-apply", { auth: old, body: preBody }), "stale");
    const pre = await call(h, "POST", "/api/v1/checkout/pre-apply", { auth: fresh, body: preBody });
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
  });

  it("the bound is the setting: 14 minutes passes at 900 s", async () => {
    const telegramId = randomTelegramId();
    const link = await createSession(h, telegramId);
    const auth = tma(telegramId, { authDate: new Date(Date.now() - 14 * 60_000) });
    const session = await call(h, "GET", `/api/v1/payment/session/${link.session_id}`, { auth });
    const created = await call(h, "POST", "/api/v1/checkout/create", {
      auth,
      body: { session_id: link.session_id, amount: session.body.data.amount, auto_renew: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
  });
});
