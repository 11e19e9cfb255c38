import { describe, expect, it } from "vitest";
import { verifyInitData, verifyInitDataThirdParty } from "../src/telegram-init-data";
import { type SignInitDataOptions, signInitData, type TestTelegramUser, telegramJson } from "../src/testing";

/**
 * Conformance: launch strings as Telegram clients really send them must be accepted, and changing,
 * dropping or adding any one field (`signature` included) must be refused.
 */

// (a) Captured from a real Telegram client (Bot API 8.0+, with `signature`), published with its bot
// token by @tma.js/init-data-node's test suite (packages/init-data-node/src/entries/node.test.ts)
// and used by telegram-mini-apps/init-data-golang's README for the third-party check.
const REAL_BOT_ID = 7342037359;
const REAL_BOT_TOKEN = `${REAL_BOT_ID}:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ`;
const REAL_INIT_DATA =
  "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6";
const REAL_NOW = new Date((1733584787 + 60) * 1000);

// Signed by other implementations (no `signature`: the shape of clients before Bot API 8.0).
// aiogram's tests (tests/test_utils/test_web_app.py), token "42:TEST":
const AIOGRAM_TOKEN = "42:TEST";
const AIOGRAM_INIT_DATA =
  "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803";
// @tma.js/init-data-node 1.x tests: every optional field (chat, receiver, can_send_after, start_param).
const TMA1_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
const TMA1_INIT_DATA =
  "auth_date=1&can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22group%22%2C%22username%22%3A%22my-chat%22%7D&chat_instance=888&chat_type=sender&hash=47cfa22e72b887cba90c9cb833c5ea0f599975b6ce7193741844b5c4a4228b40&query_id=QUERY&receiver=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param=debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username%22%7D";

const LONG = { maxAgeSeconds: 86400 };

/** Every way of changing one field: its value (one character), removing it, repeating it. */
function tamperings(raw: string): Array<[string, string]> {
  const params = [...new URLSearchParams(raw).entries()];
  const out: Array<[string, string]> = [];
  const build = (pairs: Array<[string, string]>) => new URLSearchParams(pairs).toString();
  params.forEach(([key, value], index) => {
    const changed =
      key === "hash"
        ? value.slice(0, -1) + (value.endsWith("0") ? "1" : "0")
        : value.length > 0
          ? value.slice(0, -2) + String.fromCharCode(value.charCodeAt(value.length - 2) ^ 1) + value.slice(-1)
          : "x";
    out.push([`change ${key}`, build(params.map((pair, i) => (i === index ? [key, changed] : pair)))]);
    if (key !== "hash") out.push([`drop ${key}`, build(params.filter((_, i) => i !== index))]);
    out.push([`repeat ${key}`, build([...params, [key, value]])]);
  });
  out.push(["add a field", build([...params.slice(0, -1), ["is_admin", "true"], params.at(-1)!])]);
  return out;
}

describe("captured real-client launch data", () => {
  it("accepts the Bot API 8.0 launch string with `signature`, as its bot signed it", () => {
    const result = verifyInitData(REAL_INIT_DATA, REAL_BOT_TOKEN, { ...LONG, now: REAL_NOW });
    expect(result).toMatchObject({
      ok: true,
      data: {
        user: {
          id: 279058397,
          first_name: "Vladislav + - ? /",
          last_name: "Kibenko",
          username: "vdkfrost",
          language_code: "ru",
        },
        authDate: new Date(1733584787 * 1000),
        queryId: null,
      },
    });
  });

  it("passes the third-party check (Telegram's Ed25519 key, the bot id)", async () => {
    expect(await verifyInitDataThirdParty(REAL_INIT_DATA, REAL_BOT_ID)).toEqual({ ok: true });
    expect(await verifyInitDataThirdParty(REAL_INIT_DATA, REAL_BOT_ID + 1)).toEqual({
      ok: false,
      problem: "bad_third_party_signature",
    });
  });

  it("is refused when it is older than the max age, or with another bot's token", () => {
    expect(verifyInitData(REAL_INIT_DATA, REAL_BOT_TOKEN, LONG)).toEqual({ ok: false, problem: "expired" });
    expect(verifyInitData(REAL_INIT_DATA, "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfR", LONG)).toEqual({
      ok: false,
      problem: "bad_signature",
    });
  });

  it.each(tamperings(REAL_INIT_DATA))("refuses it after %s", async (_name, tampered) => {
    const result = verifyInitData(tampered, REAL_BOT_TOKEN, { ...LONG, now: REAL_NOW });
    expect(result.ok).toBe(false);
  });

  it.each(tamperings(REAL_INIT_DATA).filter(([name]) => !name.endsWith("hash")))(
    "the third-party check refuses it after %s",
    async (_name, tampered) => {
      expect((await verifyInitDataThirdParty(tampered, REAL_BOT_ID)).ok).toBe(false);
    },
  );

  it("accepts launch data signed by other implementations (clients before Bot API 8.0)", () => {
    expect(
      verifyInitData(AIOGRAM_INIT_DATA, AIOGRAM_TOKEN, { ...LONG, now: new Date(1650385342_000) }),
    ).toMatchObject({ ok: true, data: { user: { id: 42, first_name: "Test" }, queryId: "test" } });
    expect(verifyInitData(TMA1_INIT_DATA, TMA1_TOKEN, { ...LONG, now: new Date(60_000) })).toMatchObject({
      ok: true,
      data: { user: { id: 222, username: "user-username" }, queryId: "QUERY" },
    });
    for (const [, tampered] of tamperings(AIOGRAM_INIT_DATA)) {
      expect(verifyInitData(tampered, AIOGRAM_TOKEN, { ...LONG, now: new Date(1650385342_000) }).ok).toBe(
        false,
      );
    }
  });
});

// (b) Generated in every shape clients produce.
const TOKEN = "8123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-test";
const NAMES: TestTelegramUser[] = [
  { id: 1, first_name: "Ali" },
  { id: 2, first_name: "A+B %20 & C=D", last_name: "50% off & more", username: "plus_user" },
  { id: 3, first_name: "Дмитрий", last_name: "Иванов-Петров", language_code: "ru" },
  { id: 4, first_name: "Oʻgʻiloy", last_name: "Toʼxtayeva", username: "ogiloy", language_code: "uz" },
  { id: 5, first_name: "G'ayrat", last_name: "Sa'dullayev" },
  { id: 6, first_name: "Ali 🇺🇿🚀", last_name: "👩‍👩‍👧", language_code: "en" },
  {
    id: 7_999_999_999,
    first_name: "Photo",
    is_premium: true,
    allows_write_to_pm: true,
    photo_url: "https://t.me/i/userpic/320/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg",
  },
];
const SHAPES: Array<[string, SignInitDataOptions]> = [
  ["menu button (query_id)", {}],
  [
    "inline button in a private chat (no query_id)",
    { queryId: null, chatInstance: "-8134722200314281151", chatType: "private" },
  ],
  [
    "direct link with start_param",
    {
      queryId: null,
      chatInstance: "8134722200314281151",
      chatType: "sender",
      startParam: "plan_monthly-ref=a",
    },
  ],
  [
    "attachment menu in a group (chat, receiver, can_send_after)",
    {
      chatInstance: "4402153460341101052",
      chatType: "supergroup",
      chat: {
        id: -1001234567890,
        type: "supergroup",
        title: "Obuna / test & co",
        photo_url: "https://t.me/i/userpic/160/x.jpg",
      },
      receiver: {
        id: 987654321,
        first_name: "Bob",
        is_bot: false,
        photo_url: "https://t.me/i/userpic/320/y.svg",
      },
      canSendAfter: 10,
    },
  ],
];

describe.each(SHAPES)("generated launch data: %s", (_shape, options) => {
  it.each(NAMES.map((user) => [user.first_name, user] as const))("accepts %s", (_name, user) => {
    const raw = signInitData(user, TOKEN, options);
    const params = new URLSearchParams(raw);
    // The real client shape: signature present, hash last, JSON with escaped slashes.
    expect(params.get("signature")).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect([...params.keys()].slice(-3)).toEqual(["auth_date", "signature", "hash"]);
    expect(params.get("user")).toBe(telegramJson(user));
    expect(params.has("query_id")).toBe(options.queryId !== null);
    const result = verifyInitData(raw, TOKEN, LONG);
    expect(result).toMatchObject({
      ok: true,
      data: {
        user: {
          id: user.id,
          first_name: user.first_name,
          ...(user.last_name ? { last_name: user.last_name } : {}),
          ...(user.username ? { username: user.username } : {}),
        },
      },
    });
  });

  it("refuses each one-field change, drop, repeat and addition", () => {
    for (const user of NAMES) {
      const raw = signInitData(user, TOKEN, options);
      for (const [name, tampered] of tamperings(raw)) {
        expect({ name, result: verifyInitData(tampered, TOKEN, LONG).ok }).toEqual({ name, result: false });
      }
    }
  });
});

describe("age", () => {
  const user = { id: 10, first_name: "Age" };
  const now = new Date("2026-06-01T12:00:00Z");
  it("accepts up to the max age and a small clock skew, refuses older or far-future data", () => {
    const at = (seconds: number) =>
      verifyInitData(
        signInitData(user, TOKEN, { authDate: new Date(now.getTime() + seconds * 1000) }),
        TOKEN,
        {
          maxAgeSeconds: 600,
          now,
        },
      ).ok;
    expect(at(-599)).toBe(true);
    expect(at(-602)).toBe(false);
    expect(at(290)).toBe(true);
    expect(at(310)).toBe(false);
  });
});

describe("third-party check on data not signed by Telegram's key", () => {
  it("refuses a bot-token-signed string whose signature Telegram did not make, or without one", async () => {
    const raw = signInitData({ id: 11, first_name: "X" }, TOKEN);
    expect(verifyInitData(raw, TOKEN, LONG).ok).toBe(true);
    expect(await verifyInitDataThirdParty(raw, 8123456789)).toEqual({
      ok: false,
      problem: "bad_third_party_signature",
    });
    expect(await verifyInitDataThirdParty(AIOGRAM_INIT_DATA, 42)).toEqual({
      ok: false,
      problem: "bad_third_party_signature",
    });
  });
});
